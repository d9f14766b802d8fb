// Draws the usage page's charts from the report the server embedded. Each
// chart element says what it shows (data-view: models, keys, consumers,
// routes, errors; data-metric: tokens, cost, requests, savings) and, once
// drawn, how many non-zero points it has (data-points) and its state
// (data-state: drawn or empty), which the page's browser test reads.
(function () {
  var report = JSON.parse(document.getElementById("usage-data").textContent);
  var palette = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#64748b"];

  // Cache savings: whatever saved...Tokens counters the ledger's rows carry.
  function savings(row) {
    var n = 0;
    for (var k in row) {
      if (/^saved\w*Tokens$/.test(k) && typeof row[k] === "number") n += row[k];
    }
    return n;
  }
  var metrics = {
    tokens: function (r) { return r.inputTokens + r.outputTokens; },
    cost: function (r) { return r.costMicros / 1e6; },
    requests: function (r) { return r.requests; },
    savings: savings,
  };
  var xs = report.days.map(function (d) { return Date.parse(d + "T00:00:00Z") / 1000; });
  var day = 86400;

  function label(s) { return s.label && s.label !== s.name ? s.name + " (" + s.label + ")" : s.name; }

  function draw(el) {
    var series = report[el.dataset.view] || [];
    var value = metrics[el.dataset.metric];
    var data = [xs], opts = [{}], points = 0;
    series.forEach(function (s, i) {
      var ys = s.days.map(function (r) {
        var v = value(r);
        if (v) points++;
        return v;
      });
      data.push(ys);
      var c = palette[i % palette.length];
      opts.push({ label: label(s), stroke: c, fill: c + "22", width: 2, points: { show: true, size: 5, fill: c } });
    });
    el.dataset.points = points;
    if (points === 0) {
      el.dataset.state = "empty";
      var p = document.createElement("p");
      p.className = "empty";
      p.textContent = "No data in this period.";
      el.appendChild(p);
      return;
    }
    el.hidden = false;
    var money = el.dataset.metric === "cost";
    new uPlot({
      width: Math.max(280, el.clientWidth - 16),
      height: 220,
      series: opts,
      scales: { x: { time: true, range: [xs[0] - day / 2, xs[xs.length - 1] + day / 2] } },
      axes: [
        { stroke: "#475569", grid: { stroke: "#e2e8f0" } },
        {
          stroke: "#475569", grid: { stroke: "#e2e8f0" }, size: 60,
          values: function (u, vals) {
            return vals.map(function (v) { return money ? "$" + (+v.toFixed(4)) : short(v); });
          },
        },
      ],
      legend: { live: false },
    }, data, el);
    el.dataset.state = "drawn";
  }

  function short(v) {
    var a = Math.abs(v);
    if (a >= 1e9) return +(v / 1e9).toFixed(2) + "G";
    if (a >= 1e6) return +(v / 1e6).toFixed(2) + "M";
    if (a >= 1e3) return +(v / 1e3).toFixed(1) + "k";
    return "" + (+v.toFixed(2));
  }

  document.querySelectorAll(".chart").forEach(function (el) {
    try {
      draw(el);
    } catch (e) {
      el.dataset.state = "failed";
      el.dataset.error = String(e);
    }
  });
  document.body.dataset.charts = "done";
})();
