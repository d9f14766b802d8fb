package usagepage

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// hostile are strings that would change a page rendered without escaping:
// end an element or attribute, open a tag, start an entity or comment, or
// make a link run script.
var hostile = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`' onmouseover='alert(1)`,
	`'`,
	`"`,
	`&`,
	`&amp;&lt;`,
	`</script>`,
	`</title><script>alert(1)</script>`,
	`<!--`,
	`javascript:alert(1)`,
	`?since=1d#x`,
	`ünïcödé – \u2028`,
}

// mark stands for the hostile value in a harmless twin of each page.
const mark = "zqMARKqz"

// TestPagesEscapeData renders every page with a hostile string in each
// field its data can carry, and its twin with a plain marker there. Parsed
// as a browser would, both must have the same elements and attributes, and
// the hostile page must give back the hostile string wherever the twin
// gives back the marker: in text, in link paths and queries once decoded,
// and in the charts' JSON once parsed.
func TestPagesEscapeData(t *testing.T) {
	login := func(f func(*loginView, string)) func(string) string {
		return func(s string) string {
			v := loginView{Title: "test", Path: "/admin/ui/", Hint: "hint", Since: "7d", Wrong: true}
			f(&v, s)
			return loginPage(v)
		}
	}
	report := func(f func(*reportView, string)) func(string) string {
		return func(s string) string {
			v := reportView{Title: "test", Path: "/admin/ui/", Since: "7d", Periods: periods, Report: fixtureReport()}
			f(&v, s)
			// An encoder that leaves "<" and "&" as they are, so that
			// jsonForScript alone keeps the script element whole.
			var data bytes.Buffer
			enc := json.NewEncoder(&data)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v.Report); err != nil {
				t.Fatal(err)
			}
			v.Data = jsonForScript(data.Bytes())
			return reportPage(v)
		}
	}
	failure := func(f func(*errorView, string)) func(string) string {
		return func(s string) string {
			v := errorView{Title: "test", Path: "/admin/ui/", Error: "since: want 7d"}
			f(&v, s)
			return errorPage(v)
		}
	}
	tests := []struct {
		field string
		page  func(string) string
	}{
		{"login title", login(func(v *loginView, s string) { v.Title = s })},
		{"login hint", login(func(v *loginView, s string) { v.Hint = s })},
		{"login since", login(func(v *loginView, s string) { v.Since = s })},
		{"login path", login(func(v *loginView, s string) { v.Path = "/" + s + "/" })},
		{"report title", report(func(v *reportView, s string) { v.Title = s })},
		{"report path", report(func(v *reportView, s string) { v.Path = "/" + s + "/" })},
		{"report since", report(func(v *reportView, s string) { v.Since, v.Periods = s, []string{"1d", s} })},
		{"report period", report(func(v *reportView, s string) { v.Periods = []string{"1d", s} })},
		{"report from", report(func(v *reportView, s string) { v.Report.From = s })},
		{"report to", report(func(v *reportView, s string) { v.Report.To = s })},
		{"report day", report(func(v *reportView, s string) { v.Report.Days[3] = s; v.Report.Models[0].Days[3].Day = s })},
		{"model", report(func(v *reportView, s string) { v.Report.Models[1].Name = s })},
		{"model row", report(func(v *reportView, s string) { v.Report.Models[0].Days[0].Model = s })},
		{"key id", report(func(v *reportView, s string) { v.Report.Keys[0].Name = s })},
		{"key name", report(func(v *reportView, s string) { v.Report.Keys[2].Label = s })},
		{"consumer", report(func(v *reportView, s string) { v.Report.Consumers[0].Name = s })},
		{"consumer label", report(func(v *reportView, s string) { v.Report.Consumers[1].Label = s })},
		{"route", report(func(v *reportView, s string) { v.Report.Routes[0].Name = s })},
		{"error kind", report(func(v *reportView, s string) { v.Report.Errors[2].Name = s })},
		{"error title", failure(func(v *errorView, s string) { v.Title = s })},
		{"error path", failure(func(v *errorView, s string) { v.Path = "/" + s + "/" })},
		{"error message", failure(func(v *errorView, s string) { v.Error = s })},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			twin := tt.page(mark)
			if !strings.Contains(twin, mark) {
				t.Fatalf("the page does not show the field: no %q in\n%s", mark, twin)
			}
			want := parse(t, twin)
			for _, h := range hostile {
				page := tt.page(h)
				sameDocument(t, h, want, parse(t, page))
				if t.Failed() {
					t.Fatalf("with %q in the %s:\n%s", h, tt.field, page)
				}
			}
		})
	}
}

func parse(t *testing.T, page string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// sameDocument checks that got, rendered with h, is want (rendered with
// mark) with mark replaced by h: the same nodes and attributes, and the
// same values once decoded.
func sameDocument(t *testing.T, h string, want, got *html.Node) {
	t.Helper()
	for want != nil || got != nil {
		if want == nil || got == nil || want.Type != got.Type || got.Type == html.ElementNode && want.Data != got.Data || len(want.Attr) != len(got.Attr) {
			t.Errorf("the document's shape changed: want %s, got %s", describe(want), describe(got))
			return
		}
		switch {
		case got.Type == html.TextNode && got.Parent.Data == "script":
			sameJSON(t, h, want.Data, got.Data)
		case got.Type == html.TextNode || got.Type == html.CommentNode:
			if w := strings.ReplaceAll(want.Data, mark, h); got.Data != w {
				t.Errorf("text %q, want %q", got.Data, w)
			}
		}
		for i, a := range got.Attr {
			w := want.Attr[i]
			if a.Key != w.Key || a.Namespace != w.Namespace {
				t.Errorf("attribute %s, want %s on <%s>", a.Key, w.Key, got.Data)
				continue
			}
			if a.Key == "href" || a.Key == "src" || a.Key == "action" {
				sameURL(t, h, w.Val, a.Val)
			} else if v := strings.ReplaceAll(w.Val, mark, h); a.Val != v {
				t.Errorf("attribute %s=%q, want %q", a.Key, a.Val, v)
			}
		}
		sameDocument(t, h, want.FirstChild, got.FirstChild)
		want, got = want.NextSibling, got.NextSibling
	}
}

// sameURL checks that a link stays within the page's site, and decodes to
// the twin's link with mark replaced by h.
func sameURL(t *testing.T, h, want, got string) {
	t.Helper()
	if !strings.HasPrefix(got, "?") && (!strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//")) {
		t.Errorf("link %q leaves the page's site", got)
	}
	wu, err := url.Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	gu, err := url.Parse(got)
	if err != nil {
		t.Fatalf("link %q: %v", got, err)
	}
	if w := strings.ReplaceAll(wu.Path, mark, h); gu.Path != w || gu.Scheme != "" || gu.Host != "" || gu.Fragment != "" {
		t.Errorf("link %q has the path %q, want %q", got, gu.Path, w)
	}
	wq, gq := wu.Query(), gu.Query()
	for k := range wq {
		wq[k] = []string{strings.ReplaceAll(wq.Get(k), mark, h)}
	}
	if !reflect.DeepEqual(gq, wq) {
		t.Errorf("link %q has the query %v, want %v", got, gq, wq)
	}
}

// sameJSON checks a script's JSON against the twin's with mark replaced
// by h in every string.
func sameJSON(t *testing.T, h, want, got string) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Errorf("the charts' JSON does not parse: %v", err)
		return
	}
	if w = replaceStrings(w, h); !reflect.DeepEqual(g, w) {
		t.Errorf("the charts' JSON changed:\n%v\nwant\n%v", g, w)
	}
}

func replaceStrings(v any, h string) any {
	switch v := v.(type) {
	case string:
		return strings.ReplaceAll(v, mark, h)
	case []any:
		for i := range v {
			v[i] = replaceStrings(v[i], h)
		}
	case map[string]any:
		for k := range v {
			v[k] = replaceStrings(v[k], h)
		}
	}
	return v
}

func describe(n *html.Node) string {
	if n == nil {
		return "nothing"
	}
	var b strings.Builder
	if err := html.Render(&b, n); err != nil {
		return err.Error()
	}
	return b.String()
}

// TestHandlerEscapesSince sends a hostile since through the handler, as a
// link someone was given would: the sign-in form carries it back to the
// report in its action, decoded to the same value, and the report shows
// the failure the source gave for it escaped.
func TestHandlerEscapesSince(t *testing.T) {
	src := &fixture{}
	srv := newTestPage(t, src)
	session := (&http.Cookie{Name: cookieName, Value: mustPage(t).session}).String()
	for _, h := range hostile {
		t.Run(h, func(t *testing.T) {
			for _, signedIn := range []bool{false, true} {
				req, err := http.NewRequest("GET", srv.URL+"/admin/ui/?since="+url.QueryEscape(h), nil)
				if err != nil {
					t.Fatal(err)
				}
				if signedIn {
					req.Header.Set("Cookie", session)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				doc := parse(t, string(b))
				for _, n := range elements(doc) {
					for _, a := range n.Attr {
						if strings.HasPrefix(a.Key, "on") {
							t.Errorf("an event handler attribute: <%s %s=%q>", n.Data, a.Key, a.Val)
						}
					}
					switch {
					case n.Data == "img":
						t.Errorf("an injected element: %s", describe(n))
					case n.Data == "form" && !signedIn:
						action, _ := url.Parse(attr(n, "action"))
						if action.Path != "/admin/ui/login" || action.Query().Get("since") != h {
							t.Errorf("the form posts to %q, want since %q", attr(n, "action"), h)
						}
					}
				}
			}
			if src.since != h {
				t.Errorf("the source was asked for %q, want %q", src.since, h)
			}
		})
	}
}

func elements(n *html.Node) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode {
			out = append(out, c)
		}
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// TestWriter pins each escaping method on the characters its context
// gives a meaning to.
func TestWriter(t *testing.T) {
	tests := []struct {
		name  string
		write func(*writer, string)
		in    string
		want  string
	}{
		{"text", (*writer).text, `<a href="x">'b' & c</a>`, `&lt;a href=&#34;x&#34;&gt;&#39;b&#39; &amp; c&lt;/a&gt;`},
		{"text keeps plain text", (*writer).text, "gpt-4o-mini ünï", "gpt-4o-mini ünï"},
		{"text drops NUL", (*writer).text, "a\x00b", "a\uFFFDb"},
		{"attribute", (*writer).attr, `" onerror='x'`, `&#34; onerror=&#39;x&#39;`},
		{"path", (*writer).path, `/a b"<'&/`, `/a%20b%22%3C%27&amp;/`},
		{"path keeps a plain path", (*writer).path, "/admin/ui/", "/admin/ui/"},
		{"query", (*writer).query, `7d"&x=<y> '#`, `7d%22%26x%3D%3Cy%3E+%27%23`},
		{"query of a scheme", (*writer).query, "javascript:alert(1)", "javascript%3Aalert%281%29"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w writer
			tt.write(&w, tt.in)
			if got := w.String(); got != tt.want {
				t.Errorf("%s(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
			}
		})
	}
}
