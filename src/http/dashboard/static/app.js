"use strict";
(function () {
  var POLL_MS = 5000;
  var TOKEN_KEY = "switchboard.dashboard.token";
  var WINDOW_KEY = "switchboard.dashboard.window";
  var PALETTE = ["#4f46e5", "#0d9488", "#f59e0b", "#e11d48", "#0284c7", "#7c3aed", "#65a30d", "#ea580c", "#db2777", "#0891b2", "#64748b"];

  var state = {
    token: null,
    windowMinutes: 60,
    tenant: "",
    lastOk: 0,
    timer: null,
    inflight: false,
    authNeeded: false,
    tenantsKey: "",
    updates: 0
  };
  var charts = {};
  var colorOf = {};
  var colorNext = 0;

  function $(id) { return document.getElementById(id); }
  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  function color(key) {
    if (key === "(other)" || key === "(none)") return "#94a3b8";
    if (!(key in colorOf)) { colorOf[key] = PALETTE[colorNext % PALETTE.length]; colorNext++; }
    return colorOf[key];
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  // ---- formatting ----
  function fmtInt(n) { return Number(n || 0).toLocaleString("en-US"); }
  function fmtCompact(n) {
    n = Number(n || 0);
    if (n >= 1e9) return (n / 1e9).toFixed(1).replace(/\.0$/, "") + "B";
    if (n >= 1e6) return (n / 1e6).toFixed(1).replace(/\.0$/, "") + "M";
    if (n >= 1e4) return (n / 1e3).toFixed(1).replace(/\.0$/, "") + "k";
    return fmtInt(n);
  }
  function fmtTickMs(ms) {
    ms = Number(ms || 0);
    if (ms === 0) return "0";
    if (ms >= 1000) return Number((ms / 1000).toFixed(2)) + " s";
    return Number(ms.toFixed(2)) + " ms";
  }
  function fmtUsd(v) {
    v = Number(v || 0);
    if (v === 0) return "$0.00";
    if (v > 0 && v < 0.0001) return "<$0.0001";
    if (Math.abs(v) < 1) {
      var s = v.toFixed(4).replace(/0+$/, "");
      return "$" + (s.split(".")[1].length < 2 ? v.toFixed(2) : s);
    }
    return "$" + v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function fmtMs(ms) {
    ms = Number(ms || 0);
    if (ms === 0) return "0 ms";
    if (ms < 1) return ms.toFixed(2) + " ms";
    if (ms < 10) return ms.toFixed(1) + " ms";
    if (ms < 1000) return Math.round(ms) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
    return (ms / 60000).toFixed(1) + " min";
  }
  function fmtPct(x) {
    x = Number(x || 0) * 100;
    if (x === 0) return "0%";
    if (x < 1) return x.toFixed(2) + "%";
    return x.toFixed(1) + "%";
  }
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function fmtClock(iso, seconds) {
    var d = new Date(iso);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + (seconds ? ":" + pad(d.getSeconds()) : "");
  }
  function fmtWindow(m) {
    if (m % 1440 === 0) return m / 1440 === 1 ? "last 24 h" : "last " + m / 1440 + " days";
    if (m % 60 === 0) return m === 60 ? "last hour" : "last " + m / 60 + " h";
    return "last " + m + " min";
  }
  function fmtBucket(s) {
    if (s % 3600 === 0) return s === 3600 ? "per hour" : "per " + s / 3600 + " h";
    if (s % 60 === 0) return s === 60 ? "per minute" : "per " + s / 60 + " min";
    return "per " + s + " s";
  }
  function fmtAgo(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + "s ago";
    var m = Math.floor(s / 60);
    if (m < 60) return m + "m ago";
    return Math.floor(m / 60) + "h ago";
  }
  function shortModel(model, provider) {
    if (!model) return "—";
    if (provider && model.indexOf(provider + ":") === 0) return model.slice(provider.length + 1);
    return model;
  }

  // ---- token ----
  function readToken() {
    var hash = location.hash ? location.hash.slice(1) : "";
    if (hash) {
      var params = new URLSearchParams(hash);
      var t = params.get("token");
      if (t) {
        try { sessionStorage.setItem(TOKEN_KEY, t); } catch (e) { /* storage off: keep it in memory */ }
        state.token = t;
        // The token must not linger in the address bar, history or bookmarks.
        history.replaceState(null, "", location.pathname + location.search);
        return;
      }
    }
    try { state.token = sessionStorage.getItem(TOKEN_KEY); } catch (e) { state.token = null; }
  }
  function setToken(t) {
    state.token = t || null;
    try {
      if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* ignore */ }
    $("signout").hidden = !state.token;
  }
  function showAuth(message) {
    state.authNeeded = true;
    stop();
    $("auth").hidden = false;
    var err = $("auth-error");
    err.textContent = message || "";
    err.hidden = !message;
    document.body.setAttribute("data-state", "auth");
    setLive("error", "Sign-in needed");
    var input = $("token-input");
    input.value = "";
    input.focus();
  }
  function hideAuth() {
    state.authNeeded = false;
    $("auth").hidden = true;
  }

  // ---- status ----
  function setLive(mode, text) {
    document.body.setAttribute("data-live", mode);
    if (text) $("updated").textContent = text;
  }
  function tick() {
    if (state.authNeeded) return;
    if (!state.lastOk) return;
    var ago = fmtAgo(Date.now() - state.lastOk);
    if (document.hidden) setLive("paused", "Paused · updated " + ago);
    else if (document.body.getAttribute("data-live") === "error") $("updated").textContent = "Offline · updated " + ago;
    else setLive("live", "Live · updated " + ago);
  }
  function banner(text) {
    var b = $("banner");
    b.textContent = text || "";
    b.hidden = !text;
  }

  // ---- polling ----
  function stop() {
    if (state.timer) { clearTimeout(state.timer); state.timer = null; }
  }
  function schedule(ms) {
    stop();
    if (document.hidden || state.authNeeded) return;
    state.timer = setTimeout(load, ms);
  }
  function load() {
    stop();
    if (state.inflight || state.authNeeded) return;
    state.inflight = true;
    var q = "window=" + encodeURIComponent(String(state.windowMinutes));
    if (state.tenant) q += "&tenant=" + encodeURIComponent(state.tenant);
    var headers = { Accept: "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    fetch("api/snapshot?" + q, { headers: headers, cache: "no-store", credentials: "omit" })
      .then(function (res) {
        return res.json().catch(function () { return null; }).then(function (body) { return { res: res, body: body }; });
      })
      .then(function (r) {
        state.inflight = false;
        var err = r.body && r.body.error;
        if (r.res.status === 401) {
          var invalid = !!state.token;
          setToken(null);
          var hint = (err && err.hint) || "";
          showAuth(invalid ? "That token was not accepted. " + hint.charAt(0).toUpperCase() + hint.slice(1) : "");
          return;
        }
        if (!r.res.ok || !r.body) {
          if (r.res.status === 403 && state.tenant) { state.tenant = ""; }
          banner((err && err.message ? err.message + (err.hint ? " — " + err.hint : "") : "The server answered " + r.res.status + "."));
          setLive("error");
          tick();
          schedule(POLL_MS * 2);
          return;
        }
        banner("");
        hideAuth();
        state.lastOk = Date.now();
        render(r.body);
        setLive("live");
        tick();
        state.updates++;
        document.body.setAttribute("data-state", "ready");
        document.body.setAttribute("data-updates", String(state.updates));
        schedule(POLL_MS);
      })
      .catch(function () {
        state.inflight = false;
        setLive("error", state.lastOk ? "Offline · updated " + fmtAgo(Date.now() - state.lastOk) : "Cannot reach the server");
        schedule(POLL_MS * 2);
      });
  }

  // ---- charts ----
  function baseOptions() {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: false }, tooltip: { intersect: false, mode: "index" } },
      layout: { padding: 2 }
    };
  }
  function axis(title, extra) {
    var a = {
      grid: { color: css("--grid"), drawTicks: false },
      border: { display: false },
      ticks: { color: css("--muted"), padding: 6, font: { size: 11 } },
      title: { display: !!title, text: title || "", color: css("--muted"), font: { size: 11, weight: "600" } }
    };
    if (extra) for (var k in extra) a[k] = extra[k];
    return a;
  }
  function makeCharts() {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = css("--muted");

    var spendOpts = baseOptions();
    spendOpts.scales = {
      x: axis("", { grid: { display: false }, ticks: { color: css("--muted"), maxTicksLimit: 8, maxRotation: 0, autoSkip: true, font: { size: 11 } } }),
      y: axis("", { beginAtZero: true, ticks: { color: css("--muted"), maxTicksLimit: 6, font: { size: 11 }, callback: function (v) { return fmtUsd(v); } } })
    };
    spendOpts.plugins.tooltip.callbacks = { label: function (c) { return " Spend " + fmtUsd(c.parsed.y); } };
    charts.spend = new Chart($("c-spend"), {
      type: "line",
      data: { labels: [], datasets: [{ label: "Spend", data: [], borderColor: "#059669", backgroundColor: "rgba(5, 150, 105, 0.12)", fill: true, cubicInterpolationMode: "monotone", pointRadius: 0, pointHoverRadius: 4, borderWidth: 2 }] },
      options: spendOpts
    });

    var callsOpts = baseOptions();
    callsOpts.plugins.legend = { display: true, position: "top", align: "end", labels: { boxWidth: 10, boxHeight: 10, color: css("--muted") } };
    callsOpts.scales = {
      x: axis("", { stacked: true, grid: { display: false }, ticks: { color: css("--muted"), maxTicksLimit: 8, maxRotation: 0, autoSkip: true, font: { size: 11 } } }),
      y: axis("calls", { stacked: true, beginAtZero: true, ticks: { color: css("--muted"), precision: 0, maxTicksLimit: 6, font: { size: 11 } } })
    };
    charts.calls = new Chart($("c-calls"), {
      type: "bar",
      data: { labels: [], datasets: [
        { label: "OK", data: [], backgroundColor: "#6366f1", borderRadius: 2, maxBarThickness: 18 },
        { label: "Errors", data: [], backgroundColor: "#f43f5e", borderRadius: 2, maxBarThickness: 18 }
      ] },
      options: callsOpts
    });

    charts.mode = doughnut("c-mode");
    charts.provider = doughnut("c-provider");
    charts.model = hbar("c-model", "calls");
    charts.tool = hbar("c-tool", "calls");
    charts.errors = hbar("c-errors", "errors");

    var latOpts = baseOptions();
    latOpts.indexAxis = "y";
    latOpts.plugins.legend = { display: true, position: "top", align: "end", labels: { boxWidth: 10, boxHeight: 10, color: css("--muted") } };
    latOpts.plugins.tooltip.callbacks = { label: function (c) { return " " + c.dataset.label + " " + fmtMs(c.parsed.x); } };
    latOpts.scales = {
      x: axis("", { beginAtZero: true, ticks: { color: css("--muted"), maxTicksLimit: 5, font: { size: 11 }, callback: function (v) { return fmtTickMs(v); } } }),
      y: axis("", { grid: { display: false }, ticks: { color: css("--text"), font: { size: 11.5 } } })
    };
    charts.latency = new Chart($("c-latency"), {
      type: "bar",
      data: { labels: [], datasets: [
        { label: "p50", data: [], backgroundColor: "#a5b4fc", borderRadius: 3, maxBarThickness: 12 },
        { label: "p90", data: [], backgroundColor: "#6366f1", borderRadius: 3, maxBarThickness: 12 },
        { label: "p99", data: [], backgroundColor: "#312e81", borderRadius: 3, maxBarThickness: 12 }
      ] },
      options: latOpts
    });
  }
  function doughnut(id) {
    var o = baseOptions();
    o.cutout = "62%";
    o.plugins.legend = { display: true, position: "right", labels: { boxWidth: 10, boxHeight: 10, padding: 10, color: css("--text"), font: { size: 12 } } };
    o.plugins.tooltip = { callbacks: { label: function (c) { return " " + c.label + ": " + fmtInt(c.parsed) + " calls"; } } };
    return new Chart($(id), { type: "doughnut", data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderColor: css("--card"), borderWidth: 2 }] }, options: o });
  }
  function hbar(id, unit) {
    var o = baseOptions();
    o.indexAxis = "y";
    o.plugins.tooltip = { callbacks: { label: function (c) { return " " + fmtInt(c.parsed.x) + " " + unit; } } };
    o.scales = {
      x: axis(unit, { beginAtZero: true, ticks: { color: css("--muted"), precision: 0, maxTicksLimit: 5, font: { size: 11 } } }),
      y: axis("", { grid: { display: false }, ticks: { color: css("--text"), font: { size: 11.5 }, callback: function (v) { var l = String(this.getLabelForValue(v)); return l.length > 28 ? l.slice(0, 27) + "…" : l; } } })
    };
    return new Chart($(id), { type: "bar", data: { labels: [], datasets: [{ label: unit, data: [], backgroundColor: [], borderRadius: 3, maxBarThickness: 16 }] }, options: o });
  }
  function setGroups(chart, groups, field) {
    chart.data.labels = groups.map(function (g) { return g.key; });
    chart.data.datasets[0].data = groups.map(function (g) { return g[field]; });
    chart.data.datasets[0].backgroundColor = groups.map(function (g) { return color(g.key); });
    chart.update("none");
  }
  function note(id, text) { $(id).textContent = text; }

  // ---- render ----
  function render(s) {
    var t = s.totals;
    // Header
    var scope = $("scope");
    if (s.viewer && !s.viewer.canFilter && s.viewer.tenant) { scope.textContent = "Tenant: " + s.viewer.tenant; scope.hidden = false; }
    else if (s.viewer && s.viewer.admin) { scope.textContent = "Admin"; scope.hidden = false; }
    else scope.hidden = true;
    renderTenants(s);

    // KPIs
    $("k-calls").textContent = fmtInt(t.calls);
    $("k-calls-sub").textContent = fmtWindow(s.window.minutes) + (s.tenant ? " · " + s.tenant : "");
    $("k-spend").textContent = fmtUsd(t.spendUsd);
    $("k-spend-sub").textContent = t.calls ? fmtUsd(t.spendUsd / t.calls) + " per call · " + fmtCompact(t.inputTokens + t.outputTokens) + " tokens" : "no calls";
    $("k-errors").textContent = fmtPct(t.errorRate);
    $("k-errors-sub").textContent = fmtInt(t.errors) + " error" + (t.errors === 1 ? "" : "s");
    kpiTone("k-errors", t.errorRate >= 0.05 ? "bad" : t.errorRate > 0 ? "warn" : t.calls ? "good" : "");
    $("k-p99").textContent = t.latency.count ? fmtMs(t.latency.p99) : "–";
    $("k-p99-sub").textContent = t.latency.count ? "p50 " + fmtMs(t.latency.p50) + " · p90 " + fmtMs(t.latency.p90) : "no calls";
    $("k-fallbacks").textContent = fmtInt(t.fallbacks);
    $("k-fallbacks-sub").textContent = fmtInt(t.callsWithFallback) + " call" + (t.callsWithFallback === 1 ? "" : "s") + " fell back · " + fmtPct(s.fallbacks.rate);
    kpiTone("k-fallbacks", t.callsWithFallback ? "warn" : "");
    $("k-breakers").textContent = fmtInt(t.openBreakers);
    $("k-breakers-sub").textContent = s.breakers.length ? s.breakers.length + " tracked" : "none tracked yet";
    kpiTone("k-breakers", t.openBreakers ? "bad" : s.breakers.length ? "good" : "");

    // Time series
    var seconds = s.window.bucketSeconds < 60;
    var labels = s.series.map(function (b) { return fmtClock(b.t, seconds); });
    charts.spend.data.labels = labels;
    charts.spend.data.datasets[0].data = s.series.map(function (b) { return b.spendUsd; });
    charts.spend.update("none");
    note("n-spend", fmtBucket(s.window.bucketSeconds) + " · " + fmtWindow(s.window.minutes) + " · " + fmtUsd(t.spendUsd));
    charts.calls.data.labels = labels;
    charts.calls.data.datasets[0].data = s.series.map(function (b) { return b.calls - b.errors; });
    charts.calls.data.datasets[1].data = s.series.map(function (b) { return b.errors; });
    charts.calls.update("none");
    note("n-calls", fmtBucket(s.window.bucketSeconds));

    // Breakdown charts
    setGroups(charts.mode, s.byMode, "calls");
    note("n-mode", s.byMode.length + " mode" + (s.byMode.length === 1 ? "" : "s"));
    setGroups(charts.provider, s.byProvider, "calls");
    note("n-provider", s.byProvider.length + " provider" + (s.byProvider.length === 1 ? "" : "s"));
    setGroups(charts.model, s.byModel, "calls");
    note("n-model", s.byModel.length + " model" + (s.byModel.length === 1 ? "" : "s"));
    setGroups(charts.tool, s.byTool, "calls");
    note("n-tool", s.byTool.length + " tool" + (s.byTool.length === 1 ? "" : "s"));
    var errs = s.errors.map(function (e) { return { key: e.code, count: e.count }; });
    charts.errors.data.labels = errs.map(function (e) { return e.key; });
    charts.errors.data.datasets[0].data = errs.map(function (e) { return e.count; });
    charts.errors.data.datasets[0].backgroundColor = errs.map(function () { return "#f43f5e"; });
    charts.errors.update("none");
    note("n-errors", t.errors ? fmtInt(t.errors) + " total" : "none");

    var lt = s.latency.byTool.slice(0, 8);
    charts.latency.data.labels = lt.map(function (x) { return x.tool; });
    charts.latency.data.datasets[0].data = lt.map(function (x) { return x.p50; });
    charts.latency.data.datasets[1].data = lt.map(function (x) { return x.p90; });
    charts.latency.data.datasets[2].data = lt.map(function (x) { return x.p99; });
    charts.latency.update("none");
    note("n-latency", t.latency.count ? "overall p50 " + fmtMs(t.latency.p50) + " · p90 " + fmtMs(t.latency.p90) + " · p99 " + fmtMs(t.latency.p99) : "no calls");

    renderFallbacks(s);
    renderBreakers(s);
    renderRecent(s);
  }
  function kpiTone(id, tone) {
    var card = $(id).parentNode;
    card.className = "kpi" + (tone ? " " + tone : "");
  }
  function renderTenants(s) {
    var wrap = $("tenant-filter");
    var canFilter = s.viewer && s.viewer.canFilter;
    var names = (s.tenants || []).map(function (x) { return x.tenant; });
    if (state.tenant && names.indexOf(state.tenant) < 0) names.push(state.tenant);
    wrap.hidden = !canFilter || names.length === 0;
    if (!canFilter) return;
    var key = names.join("\u0000");
    if (key === state.tenantsKey) return;
    state.tenantsKey = key;
    var sel = $("tenant");
    clear(sel);
    var all = el("option", null, "All tenants");
    all.value = "";
    sel.appendChild(all);
    names.forEach(function (n) { var o = el("option", null, n); o.value = n; sel.appendChild(o); });
    sel.value = state.tenant;
  }
  function listItem(name, value, cls) {
    var li = el("li", cls || null);
    li.appendChild(el("span", "name", name));
    if (value !== undefined) li.appendChild(el("span", "val", value));
    return li;
  }
  function renderFallbacks(s) {
    var ul = $("fallbacks");
    clear(ul);
    var f = s.fallbacks;
    note("n-fallbacks", fmtInt(f.calls) + " of " + fmtInt(s.totals.calls) + " calls · " + fmtPct(f.rate));
    if (!f.byModel.length) { ul.appendChild(listItem("No fallbacks in this window: every first choice answered.", undefined, "muted")); return; }
    f.byModel.forEach(function (m) {
      ul.appendChild(listItem("answered by " + m.model, fmtInt(m.calls) + " call" + (m.calls === 1 ? "" : "s") + " · " + fmtInt(m.fallbacks) + " hop" + (m.fallbacks === 1 ? "" : "s")));
    });
  }
  function renderBreakers(s) {
    var ul = $("breakers");
    clear(ul);
    var open = s.totals.openBreakers;
    note("n-breakers", open ? open + " open" : s.breakers.length ? "all closed" : "");
    if (!s.breakers.length) { ul.appendChild(listItem("No breakers yet: they appear when a provider model is first called.", undefined, "muted")); return; }
    s.breakers.slice(0, 12).forEach(function (b) {
      var li = el("li", b.alert ? (b.state === "half_open" ? "alert half" : "alert") : null);
      li.appendChild(el("span", "name", b.id));
      var right = el("span", "val");
      var tone = b.state === "closed" ? "ok" : b.state === "half_open" ? "warn" : "bad";
      right.appendChild(el("span", "badge " + tone, b.state.replace("_", "-")));
      right.appendChild(document.createTextNode(" " + fmtInt(b.openings) + " opening" + (b.openings === 1 ? "" : "s")));
      li.appendChild(right);
      ul.appendChild(li);
    });
    if (s.breakers.length > 12) ul.appendChild(listItem("and " + (s.breakers.length - 12) + " more closed", undefined, "muted"));
  }
  function cell(tr, text, cls, title) {
    var td = el("td", cls || null, text);
    if (title) td.title = title;
    tr.appendChild(td);
    return td;
  }
  function renderRecent(s) {
    var tbody = $("recent").tBodies[0];
    clear(tbody);
    $("recent-empty").hidden = s.recent.length > 0;
    note("n-recent", s.recent.length ? "newest " + s.recent.length + " of " + fmtInt(s.totals.calls) : "");
    s.recent.forEach(function (d) {
      var tr = el("tr");
      tr.setAttribute("data-request-id", d.requestId);
      cell(tr, fmtClock(d.at, true), "mono", new Date(d.at).toLocaleString());
      cell(tr, d.tenant, null, d.tenant);
      cell(tr, d.tool, null, d.tool);
      cell(tr, d.mode || "—", "mode", d.mode || "");
      cell(tr, d.taskType || "—", "task", d.taskType || "");
      var m = cell(tr, shortModel(d.model, d.provider), "model", d.model || "");
      if (d.fallbacks > 0) m.appendChild(el("span", "sub", "after " + d.fallbacks + " fallback" + (d.fallbacks === 1 ? "" : "s")));
      cell(tr, d.provider || "—", "provider", d.provider || "");
      cell(tr, fmtMs(d.latencyMs), "num");
      cell(tr, fmtUsd(d.costUsd), "num");
      var o = el("td", "outcome");
      o.appendChild(el("span", "badge " + (d.outcome === "ok" ? "ok" : "bad"), d.outcome));
      o.title = d.outcome;
      tr.appendChild(o);
      var r = el("td", "reason");
      r.appendChild(el("span", "clamp", d.reason || "—"));
      if (d.reason) r.title = d.reason;
      tr.appendChild(r);
      tbody.appendChild(tr);
    });
  }

  // ---- wiring ----
  function setWindow(m) {
    state.windowMinutes = m;
    try { localStorage.setItem(WINDOW_KEY, String(m)); } catch (e) { /* ignore */ }
    var buttons = $("windows").querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) buttons[i].setAttribute("aria-pressed", String(Number(buttons[i].getAttribute("data-window")) === m));
  }
  function init() {
    if (typeof Chart === "undefined") { banner("Chart.js did not load; charts are unavailable."); return; }
    readToken();
    $("signout").hidden = !state.token;
    var saved = 60;
    try { saved = Number(localStorage.getItem(WINDOW_KEY)) || 60; } catch (e) { /* ignore */ }
    setWindow([15, 60, 360, 1440].indexOf(saved) >= 0 ? saved : 60);
    makeCharts();

    $("windows").addEventListener("click", function (ev) {
      var b = ev.target.closest("button[data-window]");
      if (!b) return;
      setWindow(Number(b.getAttribute("data-window")));
      load();
    });
    $("tenant").addEventListener("change", function (ev) {
      state.tenant = ev.target.value;
      load();
    });
    $("auth-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var t = $("token-input").value.trim();
      if (!t) return;
      setToken(t);
      hideAuth();
      setLive("", "Connecting…");
      load();
    });
    $("signout").addEventListener("click", function () {
      setToken(null);
      showAuth("");
    });
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) { stop(); tick(); }
      else if (!state.authNeeded) { if (Date.now() - state.lastOk >= POLL_MS) load(); else schedule(POLL_MS - (Date.now() - state.lastOk)); tick(); }
    });
    setInterval(tick, 1000);
    load();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
