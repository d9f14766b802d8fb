package sse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type got struct {
	typ, id, data, raw string
	hasData            bool
}

func readAll(t *testing.T, r io.Reader) ([]got, error) {
	t.Helper()
	sr := NewReader(r)
	var out []got
	for {
		ev, err := sr.Next()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		out = append(out, got{ev.Type, ev.ID, string(ev.Data), string(ev.Raw), ev.Data != nil})
	}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []got
		wantErr error
	}{
		{
			name: "openai chunks",
			in:   "data: {\"a\":1}\n\ndata: [DONE]\n\n",
			want: []got{
				{data: `{"a":1}`, raw: "data: {\"a\":1}\n\n", hasData: true},
				{data: "[DONE]", raw: "data: [DONE]\n\n", hasData: true},
			},
		},
		{
			name: "anthropic typed events",
			in:   "event: message_start\ndata: {}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n",
			want: []got{
				{typ: "message_start", data: "{}", raw: "event: message_start\ndata: {}\n\n", hasData: true},
				{typ: "ping", data: `{"type": "ping"}`, raw: "event: ping\ndata: {\"type\": \"ping\"}\n\n", hasData: true},
			},
		},
		{
			name: "crlf and cr line ends are normalised",
			in:   "data: a\r\n\r\ndata: b\r\rdata: c\n\n",
			want: []got{
				{data: "a", raw: "data: a\n\n", hasData: true},
				{data: "b", raw: "data: b\n\n", hasData: true},
				{data: "c", raw: "data: c\n\n", hasData: true},
			},
		},
		{
			name: "multi-line data, no space, id",
			in:   "id: 7\ndata:x\ndata: y\n\n",
			want: []got{{id: "7", data: "x\ny", raw: "id: 7\ndata:x\ndata: y\n\n", hasData: true}},
		},
		{
			name: "comment-only block is returned for keep-alive forwarding",
			in:   ": ping\n\ndata: z\n\n",
			want: []got{
				{raw: ": ping\n\n"},
				{data: "z", raw: "data: z\n\n", hasData: true},
			},
		},
		{
			name: "only one leading space is stripped; empty data field",
			in:   "data:  two\ndata\n\n",
			want: []got{{data: " two\n", raw: "data:  two\ndata\n\n", hasData: true}},
		},
		{
			name: "stray blank lines are skipped",
			in:   "\n\ndata: a\n\n\n",
			want: []got{{data: "a", raw: "data: a\n\n", hasData: true}},
		},
		{
			name:    "cut inside an event",
			in:      "data: a\n\ndata: b\n",
			want:    []got{{data: "a", raw: "data: a\n\n", hasData: true}},
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name:    "cut inside a line",
			in:      "data: a\n\ndata: b",
			want:    []got{{data: "a", raw: "data: a\n\n", hasData: true}},
			wantErr: io.ErrUnexpectedEOF,
		},
	}
	for _, tt := range tests {
		for _, mode := range []string{"whole", "byte by byte"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				var r io.Reader = strings.NewReader(tt.in)
				if mode == "byte by byte" {
					r = iotest.OneByteReader(r)
				}
				out, err := readAll(t, r)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if len(out) != len(tt.want) {
					t.Fatalf("got %d events %+v, want %d", len(out), out, len(tt.want))
				}
				for i := range out {
					if out[i] != tt.want[i] {
						t.Errorf("event %d = %+v, want %+v", i, out[i], tt.want[i])
					}
				}
			})
		}
	}
}

func TestEventTooLarge(t *testing.T) {
	in := "data: " + strings.Repeat("x", MaxEventSize+1) + "\n\n"
	if _, err := NewReader(strings.NewReader(in)).Next(); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("err = %v, want ErrEventTooLarge", err)
	}
}

func TestAppendEvent(t *testing.T) {
	tests := []struct {
		name, typ, data, want string
	}{
		{"plain", "", "{}", "data: {}\n\n"},
		{"typed", "message_stop", `{"type":"message_stop"}`, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"},
		{"multi-line", "", "a\nb", "data: a\ndata: b\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendEvent(nil, tt.typ, []byte(tt.data))); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			// What we write, we read back the same.
			ev, err := NewReader(strings.NewReader(tt.want)).Next()
			if err != nil || string(ev.Data) != tt.data || ev.Type != tt.typ {
				t.Errorf("round trip: %+v, %v", ev, err)
			}
		})
	}
}

func FuzzReader(f *testing.F) {
	f.Add("data: a\n\n")
	f.Add("event: x\r\ndata: {}\r\n\r\n")
	f.Add(": c\rdata\r\r")
	f.Fuzz(func(t *testing.T, in string) {
		// Chunking must not change what is read.
		a, errA := readAll(t, strings.NewReader(in))
		b, errB := readAll(t, iotest.OneByteReader(strings.NewReader(in)))
		if (errA == nil) != (errB == nil) || len(a) != len(b) {
			t.Fatalf("whole: %+v %v; byte by byte: %+v %v", a, errA, b, errB)
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("event %d differs: %+v vs %+v", i, a[i], b[i])
			}
		}
	})
}

func BenchmarkReader(b *testing.B) {
	chunk := "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hello\"}}]}\n\n"
	in := strings.Repeat(chunk, 100)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r := NewReader(strings.NewReader(in))
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}

func TestReady(t *testing.T) {
	tests := []struct {
		name, stream string
		want         []bool // Ready before each Next, until EOF
	}{
		{"two events in one read", "data: a\n\ndata: b\n\n", []bool{true, true, false}},
		{"partial second event", "data: a\n\ndata: b\n", []bool{true, false}},
		{"only blank lines left", "data: a\n\n\n\n", []bool{true, false}},
		{"CRLF ends are not counted", "data: a\r\n\r\ndata: b\r\n\r\n", []bool{false, false, false}},
		{"comment event", ": ping\n\ndata: a\n\n", []bool{true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.stream))
			r.br.Peek(len(tt.stream)) // all of it arrives in one read
			for i, want := range tt.want {
				if got := r.Ready(); got != want {
					t.Fatalf("Ready before Next #%d = %v, want %v", i+1, got, want)
				}
				if _, err := r.Next(); err != nil {
					return
				}
			}
		})
	}
}

func FuzzLineEnd(f *testing.F) {
	for _, s := range []string{"", "abc", "a\nb", "a\rb", "a\r\nb", "\n\r", "ab\rc\nd"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := lineEnd(b), bytes.IndexAny(b, "\r\n"); got != want {
			t.Fatalf("lineEnd(%q) = %d, want %d", b, got, want)
		}
	})
}
