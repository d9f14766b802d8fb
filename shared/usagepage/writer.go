package usagepage

import (
	"net/url"
	"strings"
)

// markup is HTML the page's own code wrote. Methods that take it accept
// string constants as they are, while a string variable needs a visible
// conversion, so data cannot slip into the page unescaped by accident.
type markup string

// writer builds a page as plain Go code instead of html/template: once
// text/template is linked, its use of reflect.Value.MethodByName makes the
// linker keep every exported method of every reachable type, in every
// binary that links the page. Each method escapes for one context, and the page
// functions pick the method that matches where the value lands.
type writer struct {
	b strings.Builder
}

// raw writes trusted markup as it is.
func (w *writer) raw(m markup) {
	w.b.WriteString(string(m))
}

// text writes s as HTML text. The same escaping serves attribute values,
// as long as they are quoted: it covers both quote characters.
func (w *writer) text(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '&':
			esc = "&amp;"
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case 0:
			esc = "\uFFFD"
		default:
			continue
		}
		w.b.WriteString(s[last:i])
		w.b.WriteString(esc)
		last = i + 1
	}
	w.b.WriteString(s[last:])
}

// attr writes s inside a quoted attribute value.
func (w *writer) attr(s string) {
	w.text(s)
}

// path writes an absolute URL path (the page's mount point) inside a
// quoted href, src or action attribute. The path is the decoded form the
// handler matches r.URL.Path against, so it is percent-encoded as a path;
// New makes sure it starts with one "/", so it cannot name a scheme or a
// host.
func (w *writer) path(p string) {
	w.attr((&url.URL{Path: p}).EscapedPath())
}

// query writes s as a URL query value inside a quoted attribute.
// url.QueryEscape leaves only letters, digits, "-_.~", "%" and "+", none of
// which an attribute value needs escaped.
func (w *writer) query(s string) {
	w.b.WriteString(url.QueryEscape(s))
}

func (w *writer) String() string {
	return w.b.String()
}
