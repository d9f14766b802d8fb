package cache

import (
	"bytes"
	"fmt"

	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/rawjson"
	"github.com/sluicegw/sluice/shared/sse"
)

// The Responses stream events the collector and the replay handle; the
// event reference lists more (reasoning summaries, built-in tools), which
// the collector lets pass since their items arrive whole in
// response.output_item.done.
const (
	respCreated      = "response.created"
	respInProgress   = "response.in_progress"
	respCompleted    = "response.completed"
	respIncomplete   = "response.incomplete"
	respFailed       = "response.failed"
	respItemAdded    = "response.output_item.added"
	respItemDone     = "response.output_item.done"
	respPartAdded    = "response.content_part.added"
	respPartDone     = "response.content_part.done"
	respTextDelta    = "response.output_text.delta"
	respTextDone     = "response.output_text.done"
	respRefusalDelta = "response.refusal.delta"
	respRefusalDone  = "response.refusal.done"
	respArgsDelta    = "response.function_call_arguments.delta"
	respArgsDone     = "response.function_call_arguments.done"
	respError        = "error"
)

// respItem is one output item of a Responses answer, as far as the
// collector checks and the replay streams it; the stored item keeps every
// member the provider sent.
type respItem struct {
	Type      string     `json:"type"`
	ID        string     `json:"id"`
	Role      string     `json:"role,omitempty"`
	Content   []respPart `json:"content,omitempty"`
	CallID    string     `json:"call_id,omitempty"`
	Name      string     `json:"name,omitempty"`
	Arguments *string    `json:"arguments,omitempty"`
}

// respPart is one content part of a message item.
type respPart struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	Refusal string `json:"refusal"`
}

// streamed is what the deltas of an item add up to: its text and refusals
// (a message) or its arguments (a function call).
func (it *respItem) streamed() string {
	if it.Arguments != nil {
		return *it.Arguments
	}
	var s string
	for _, p := range it.Content {
		s += p.Text + p.Refusal
	}
	return s
}

// respMessageAdded is a message item as response.output_item.added
// opens it: in progress, no content yet.
type respMessageAdded struct {
	ID      string     `json:"id"`
	Type    string     `json:"type"`
	Status  string     `json:"status"`
	Role    string     `json:"role"`
	Content []respPart `json:"content"`
}

// respCallAdded is a function call item as response.output_item.added
// opens it: in progress, no arguments yet.
type respCallAdded struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Status    string `json:"status"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// respCollect is the state of a Responses stream being added up.
type respCollect struct {
	response json.RawMessage   // the terminal event's response object
	items    []json.RawMessage // each output item once done; nil until then
	deltas   [][]byte          // what each item's deltas added up to
}

// respIn is the part of a Responses stream event the collector reads.
type respIn struct {
	Type         string          `json:"type"`
	Response     json.RawMessage `json:"response"`
	OutputIndex  *int64          `json:"output_index"`
	ContentIndex *int64          `json:"content_index"`
	Item         json.RawMessage `json:"item"`
	Delta        *string         `json:"delta"`
}

// responsesEvent adds one event of a Responses stream: items are taken
// whole from response.output_item.done, after checking that their text or
// arguments are what the deltas the client saw add up to, and the answer
// from the terminal response.completed or response.incomplete.
func (c *Collector) responsesEvent(name string, data []byte) {
	var ev respIn
	if err := json.Unmarshal(data, &ev); err != nil {
		c.fail()
		return
	}
	if name == "" {
		name = ev.Type
	}
	r := &c.resp
	switch name {
	case respItemAdded:
		if ev.OutputIndex == nil || *ev.OutputIndex != int64(len(r.items)) || *ev.OutputIndex >= maxIndex {
			c.fail()
			return
		}
		r.items = append(r.items, nil)
		r.deltas = append(r.deltas, nil)
	case respTextDelta, respRefusalDelta, respArgsDelta:
		i, ok := c.respIndex(ev.OutputIndex)
		if !ok || ev.Delta == nil || r.items[i] != nil {
			c.fail()
			return
		}
		r.deltas[i] = append(r.deltas[i], *ev.Delta...)
	case respItemDone:
		i, ok := c.respIndex(ev.OutputIndex)
		var it respItem
		if !ok || r.items[i] != nil || json.Unmarshal(ev.Item, &it) != nil {
			c.fail()
			return
		}
		if (it.Type == "message" || it.Type == "function_call") && it.streamed() != string(r.deltas[i]) {
			c.fail()
			return
		}
		r.items[i], r.deltas[i] = bytes.Clone(ev.Item), nil
	case respCompleted, respIncomplete:
		if len(ev.Response) == 0 {
			c.fail()
			return
		}
		r.response = bytes.Clone(ev.Response)
		c.done = true
	case respFailed, respError:
		c.fail()
	}
}

func (c *Collector) respIndex(i *int64) (int, bool) {
	if i == nil || *i < 0 || *i >= int64(len(c.resp.items)) {
		return 0, false
	}
	return int(*i), true
}

// responsesAnswer is the terminal response of the stream, its output the
// items the stream carried unless the response lists them itself.
func (c *Collector) responsesAnswer() (body []byte, finish string, ok bool) {
	r := &c.resp
	var out struct {
		Output json.RawMessage `json:"output"`
	}
	if json.Unmarshal(r.response, &out) != nil {
		return nil, "", false
	}
	body = r.response
	if o := bytes.TrimSpace(out.Output); len(o) == 0 || string(o) == "null" || string(o) == "[]" {
		list := []byte{'['}
		for i, it := range r.items {
			if it == nil {
				return nil, "", false
			}
			if i > 0 {
				list = append(list, ',')
			}
			list = append(list, it...)
		}
		list = append(list, ']')
		if len(o) == 0 {
			body = append(bytes.TrimSuffix(bytes.TrimSpace(body), []byte("}")), `,"output":`...)
			body = append(append(body, list...), '}')
		} else {
			body = setMember(body, "output", list)
		}
	}
	finish, ok = responsesFinish(body)
	return body, finish, ok
}

// respOut is a Responses stream event as the replay writes it.
type respOut struct {
	Type           string          `json:"type"`
	SequenceNumber int64           `json:"sequence_number"`
	Response       json.RawMessage `json:"response,omitempty"`
	OutputIndex    *int            `json:"output_index,omitempty"`
	ItemID         string          `json:"item_id,omitempty"`
	ContentIndex   *int            `json:"content_index,omitempty"`
	Item           json.RawMessage `json:"item,omitempty"`
	Part           json.RawMessage `json:"part,omitempty"`
	Delta          *string         `json:"delta,omitempty"`
	Text           *string         `json:"text,omitempty"`
	Refusal        *string         `json:"refusal,omitempty"`
	Arguments      *string         `json:"arguments,omitempty"`
	Logprobs       json.RawMessage `json:"logprobs,omitempty"`
}

// emptyList is the logprobs of a replayed text delta: none were stored.
var emptyList = json.RawMessage("[]")

// responsesStream appends the stored answer as the events a live
// Responses stream sends: response.created and response.in_progress with
// no output yet, each item added, its text, refusal or arguments in
// several deltas, done, and the whole response in response.completed (or
// response.incomplete), all with the fresh id and creation time.
func responsesStream(dst []byte, e *Entry, f Fresh) ([]byte, error) {
	var r struct {
		Status string            `json:"status"`
		Output []json.RawMessage `json:"output"`
	}
	if err := json.Unmarshal(e.Body, &r); err != nil {
		return dst, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	items := make([]respItem, len(r.Output))
	for i, raw := range r.Output {
		if err := json.Unmarshal(raw, &items[i]); err != nil {
			return dst, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		if items[i].Type == "function_call" && items[i].Arguments == nil {
			return dst, fmt.Errorf("%w: a function call without arguments", ErrCorrupt)
		}
	}
	final := Plain(Responses, e, f)
	start := setMember(final, "status", []byte(`"in_progress"`))
	start = setMember(start, "output", []byte("[]"))
	for _, k := range []string{"usage", "incomplete_details", "completed_at"} {
		start = setMember(start, k, []byte("null"))
	}

	var seq int64
	var err error
	emit := func(ev respOut) {
		if err != nil {
			return
		}
		ev.SequenceNumber = seq
		seq++
		var b []byte
		if b, err = json.Marshal(&ev); err == nil {
			dst = sse.AppendEvent(dst, ev.Type, b)
		}
	}
	emit(respOut{Type: respCreated, Response: start})
	emit(respOut{Type: respInProgress, Response: start})
	for i := range items {
		it, raw, oi := &items[i], r.Output[i], i
		added := raw
		switch it.Type {
		case "message":
			role := it.Role
			if role == "" {
				role = "assistant"
			}
			added, err = json.Marshal(respMessageAdded{ID: it.ID, Type: it.Type, Status: "in_progress", Role: role, Content: []respPart{}})
		case "function_call":
			added, err = json.Marshal(respCallAdded{ID: it.ID, Type: it.Type, Status: "in_progress", CallID: it.CallID, Name: it.Name})
		}
		emit(respOut{Type: respItemAdded, OutputIndex: &oi, Item: added})
		switch it.Type {
		case "message":
			var parts struct {
				Content []json.RawMessage `json:"content"`
			}
			if json.Unmarshal(raw, &parts) != nil || len(parts.Content) != len(it.Content) {
				return dst, fmt.Errorf("%w: a message item's content", ErrCorrupt)
			}
			for j := range it.Content {
				respPartEvents(emit, it, oi, j, parts.Content[j])
			}
		case "function_call":
			for _, s := range pieces(*it.Arguments) {
				emit(respOut{Type: respArgsDelta, ItemID: it.ID, OutputIndex: &oi, Delta: &s})
			}
			emit(respOut{Type: respArgsDone, ItemID: it.ID, OutputIndex: &oi, Arguments: it.Arguments})
		}
		emit(respOut{Type: respItemDone, OutputIndex: &oi, Item: raw})
	}
	end := respCompleted
	if r.Status == "incomplete" {
		end = respIncomplete
	}
	emit(respOut{Type: end, Response: final})
	return dst, err
}

// respPartEvents emits one content part of a message: added empty, its
// text or refusal in deltas, then done, whole as stored.
func respPartEvents(emit func(respOut), it *respItem, oi, ci int, raw json.RawMessage) {
	p := &it.Content[ci]
	at := func(ev respOut) respOut {
		ev.ItemID, ev.OutputIndex, ev.ContentIndex = it.ID, &oi, &ci
		return ev
	}
	switch p.Type {
	case "refusal":
		emit(at(respOut{Type: respPartAdded, Part: json.RawMessage(`{"type":"refusal","refusal":""}`)}))
		for _, s := range pieces(p.Refusal) {
			emit(at(respOut{Type: respRefusalDelta, Delta: &s}))
		}
		emit(at(respOut{Type: respRefusalDone, Refusal: &p.Refusal}))
	default:
		open := rawjson.AppendString([]byte(`{"type":`), p.Type, false)
		emit(at(respOut{Type: respPartAdded, Part: append(open, `,"text":"","annotations":[]}`...)}))
		if p.Text != "" {
			for _, s := range pieces(p.Text) {
				emit(at(respOut{Type: respTextDelta, Delta: &s, Logprobs: emptyList}))
			}
		}
		emit(at(respOut{Type: respTextDone, Text: &p.Text, Logprobs: emptyList}))
	}
	emit(at(respOut{Type: respPartDone, Part: raw}))
}
