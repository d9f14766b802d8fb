package usagepage

import (
	"strconv"

	"github.com/sluicegw/sluice/shared/admin"
)

// The page functions below write the page's HTML. Every value that comes
// from the report, the request or the configuration goes through one of
// the writer's escaping methods; only the page's own markup is raw.

type loginView struct {
	Title, Path, Hint, Since string
	Wrong                    bool
}

type reportView struct {
	Title, Path, Since string
	Periods            []string
	Report             admin.UsageReport
	// Data is the report as JSON made safe by jsonForScript, for the charts.
	Data string
}

type errorView struct {
	Title, Path, Error string
}

// head writes what every page starts with, up to the end of its header.
func head(w *writer, title, path string) {
	w.raw("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Sluice usage")
	if title != "" {
		w.raw(" · ")
		w.text(title)
	}
	w.raw("</title>\n<link rel=\"stylesheet\" href=\"")
	w.path(path)
	w.raw("assets/uplot/uPlot.min.css\">\n<link rel=\"stylesheet\" href=\"")
	w.path(path)
	w.raw("assets/page.css\">\n</head>\n<body>\n<header><h1>Sluice usage</h1>")
	if title != "" {
		w.raw(`<span class="where">`)
		w.text(title)
		w.raw(`</span>`)
	}
	w.raw("</header>\n\n")
}

// script writes a script element loading one of the page's assets.
func script(w *writer, path string, asset markup) {
	w.raw(`<script src="`)
	w.path(path)
	w.raw(asset)
	w.raw("\"></script>\n")
}

func loginPage(v loginView) string {
	var w writer
	head(&w, v.Title, v.Path)
	w.raw("<main class=\"login\">\n<form method=\"post\" action=\"")
	w.path(v.Path)
	w.raw("login")
	if v.Since != "" {
		w.raw("?since=")
		w.query(v.Since)
	}
	w.raw("\" id=\"login\">\n<h2>Sign in</h2>\n")
	if v.Hint != "" {
		w.raw("<p>")
		w.text(v.Hint)
		w.raw("</p>")
	}
	w.raw("\n")
	if v.Wrong {
		w.raw(`<p class="wrong" role="alert">That token is not the one this page asks for.</p>`)
	}
	w.raw("\n<label>Token <input type=\"password\" name=\"token\" autocomplete=\"current-password\" required autofocus></label>\n" +
		"<button type=\"submit\">Sign in</button>\n</form>\n</main>\n")
	script(&w, v.Path, "assets/login.js")
	w.raw("</body>\n</html>\n")
	return w.String()
}

func errorPage(v errorView) string {
	var w writer
	head(&w, v.Title, v.Path)
	w.raw(`<main><p class="wrong" role="alert">The usage report could not be read: `)
	w.text(v.Error)
	w.raw("</p></main>\n</body>\n</html>\n")
	return w.String()
}

// charts are the report's chart frames; charts.js fills them from the
// report's JSON by their data attributes.
const charts markup = `<section class="charts">
<figure class="chart" data-view="models" data-metric="tokens" data-required><figcaption>Tokens per day, by model</figcaption></figure>
<figure class="chart" data-view="models" data-metric="cost" data-required><figcaption>Cost per day (USD), by model</figcaption></figure>
<figure class="chart" data-view="keys" data-metric="tokens" data-required><figcaption>Tokens per day, by key</figcaption></figure>
<figure class="chart" data-view="keys" data-metric="cost" data-required><figcaption>Cost per day (USD), by key</figcaption></figure>
<figure class="chart" data-view="consumers" data-metric="tokens" data-required><figcaption>Tokens per day, by consumer</figcaption></figure>
<figure class="chart" data-view="consumers" data-metric="cost" data-required><figcaption>Cost per day (USD), by consumer</figcaption></figure>
<figure class="chart" data-view="routes" data-metric="requests" data-required><figcaption>Requests per day, by route</figcaption></figure>
<figure class="chart" data-view="errors" data-metric="requests"><figcaption>Failed requests per day, by error kind</figcaption></figure>
<figure class="chart" data-view="models" data-metric="savings" hidden><figcaption>Cache savings per day, by model</figcaption></figure>
</section>
`

func reportPage(v reportView) string {
	var w writer
	// The chart data is most of the page; the tables add about a hundred
	// bytes a row.
	w.b.Grow(len(v.Data) + 4<<10 + 128*(len(v.Report.Routes)+len(v.Report.Errors)+len(v.Report.Keys)+len(v.Report.Consumers)))
	rep := v.Report
	head(&w, v.Title, v.Path)
	w.raw("<main>\n<nav class=\"period\">\n<span>")
	w.text(rep.From)
	w.raw(" to ")
	w.text(rep.To)
	w.raw(" (UTC days)</span>\n")
	for _, p := range v.Periods {
		w.raw(`<a href="?since=`)
		w.query(p)
		w.raw(`"`)
		if p == v.Since {
			w.raw(` class="current" aria-current="page"`)
		}
		w.raw(">")
		w.text(p)
		w.raw("</a>")
	}
	w.raw("\n<form method=\"post\" action=\"")
	w.path(v.Path)
	w.raw("logout\"><button type=\"submit\">Sign out</button></form>\n</nav>\n\n<section class=\"tiles\">\n")
	var failed int64
	for _, e := range rep.Errors {
		failed += e.Total.Requests
	}
	t := rep.Total
	tile(&w, count(t.Requests), "requests")
	tile(&w, count(t.InputTokens), "input tokens")
	tile(&w, count(t.OutputTokens), "output tokens")
	tile(&w, count(t.CachedTokens), "cached input tokens")
	tile(&w, usd(t.CostMicros), "cost")
	tile(&w, count(failed), "failed requests")
	w.raw("</section>\n\n")
	if t.Requests == 0 {
		w.raw(`<p class="empty">No usage recorded in this period.</p>`)
	}
	w.raw("\n")
	w.raw(charts)
	w.raw("<section class=\"tables\">\n<div>\n<h2>Top routes</h2>\n\n<table>\n" +
		"<thead><tr><th>Route</th><th>Requests</th><th>Tokens</th><th>Cost</th><th>Share</th></tr></thead>\n<tbody>\n")
	var routed int64
	for _, r := range rep.Routes {
		routed += r.Total.Requests
	}
	for _, r := range rep.Routes {
		w.raw("<tr><td>")
		w.text(r.Name)
		w.raw("</td><td>")
		w.text(count(r.Total.Requests))
		w.raw("</td><td>")
		w.text(count(tokens(r.Total)))
		w.raw("</td><td>")
		w.text(usd(r.Total.CostMicros))
		w.raw(`</td><td class="bar"><span style="width:`)
		w.attr(strconv.FormatFloat(share(r.Total.Requests, routed), 'f', -1, 64))
		w.raw("%\"></span></td></tr>\n")
	}
	if len(rep.Routes) == 0 {
		w.raw(`<tr><td colspan="5" class="empty">No route recorded.</td></tr>`)
	}
	w.raw("\n</tbody>\n</table>\n</div>\n<div>\n<h2>Error rates by kind</h2>\n<table>\n" +
		"<thead><tr><th>Kind</th><th>Failed</th><th>Rate</th></tr></thead>\n<tbody>\n")
	for _, e := range rep.Errors {
		w.raw("<tr><td>")
		w.text(e.Name)
		w.raw("</td><td>")
		w.text(count(e.Total.Requests))
		w.raw("</td><td>")
		w.text(rate(e.Total.Requests, routed))
		w.raw("</td></tr>\n")
	}
	if len(rep.Errors) == 0 {
		w.raw(`<tr><td colspan="3" class="empty">No failed requests.</td></tr>`)
	}
	w.raw("\n</tbody>\n</table>\n</div>\n")
	usageTable(&w, "Keys", "Key", rep.Keys, label, "No key used.")
	usageTable(&w, "Consumers", "Consumer", rep.Consumers, name, "No consumer named.")
	w.raw("</section>\n</main>\n<script type=\"application/json\" id=\"usage-data\">")
	// jsonForScript has made the JSON unable to end or change the element.
	w.raw(markup(v.Data))
	w.raw("</script>\n")
	script(&w, v.Path, "assets/uplot/uPlot.iife.min.js")
	script(&w, v.Path, "assets/charts.js")
	w.raw("</body>\n</html>\n")
	return w.String()
}

// tile writes one of the report's headline figures.
func tile(w *writer, figure string, what markup) {
	w.raw("<div><b>")
	w.text(figure)
	w.raw("</b>")
	w.raw(what)
	w.raw("</div>\n")
}

// usageTable writes the requests, tokens and cost of each series, named by
// nameOf (keys show their name beside their id).
func usageTable(w *writer, title, column markup, series []admin.UsageSeries, nameOf func(admin.UsageSeries) string, none markup) {
	w.raw("<div>\n<h2>")
	w.raw(title)
	w.raw("</h2>\n<table>\n<thead><tr><th>")
	w.raw(column)
	w.raw("</th><th>Requests</th><th>Tokens</th><th>Cost</th></tr></thead>\n<tbody>\n")
	for _, s := range series {
		w.raw("<tr><td>")
		w.text(nameOf(s))
		w.raw("</td><td>")
		w.text(count(s.Total.Requests))
		w.raw("</td><td>")
		w.text(count(tokens(s.Total)))
		w.raw("</td><td>")
		w.text(usd(s.Total.CostMicros))
		w.raw("</td></tr>\n")
	}
	if len(series) == 0 {
		w.raw(`<tr><td colspan="4" class="empty">`)
		w.raw(none)
		w.raw("</td></tr>")
	}
	w.raw("\n</tbody>\n</table>\n</div>\n")
}
