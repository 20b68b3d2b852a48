// domaind dashboard: polls the JSON API every 2 s and renders it. No framework, no build
// step. Every value from the API is written with textContent (never as HTML): domain names
// and error messages come from the outside world. The API token, when the service wants one,
// lives in this tab's sessionStorage and goes out as `Authorization: Bearer <token>`.
"use strict";

(() => {
  const REFRESH_MS = 2000;
  const WINDOW_MINUTES = 15;
  const TOKEN_KEY = "domaind.token";
  const RUNS_SHOWN = 10;
  const ACTOR_ORDER = ["db_writer", "extractors", "parsers", "fetcher", "scheduler"];

  const ui = {
    live: true,
    timer: null,
    locked: false,
    selectedJob: null,
    searchCursor: null,
  };

  const $ = (id) => document.getElementById(id);

  // ---- API -------------------------------------------------------------------------------

  class Unauthorized extends Error {}

  class ApiFailure extends Error {
    constructor(status, kind, message) {
      super(message);
      this.status = status;
      this.kind = kind;
    }
  }

  function token() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (_) {
      return "";
    }
  }

  function setToken(value) {
    try {
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (_) {
      // Storage disabled: the token lasts until the page reloads.
    }
  }

  async function api(path, method = "GET") {
    const headers = { Accept: "application/json" };
    const presented = token();
    if (presented) headers.Authorization = "Bearer " + presented;
    let response;
    try {
      response = await fetch(path, { method, headers, cache: "no-store" });
    } catch (e) {
      throw new ApiFailure(0, "network", "cannot reach domaind (" + e.message + ")");
    }
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (_) {
      body = null;
    }
    if (response.status === 401) {
      lock(presented ? "That token was refused." : "");
      throw new Unauthorized("token required");
    }
    if (!response.ok) {
      const message = body && body.message ? body.message : "HTTP " + response.status;
      throw new ApiFailure(response.status, body && body.error, message);
    }
    return body;
  }

  // ---- formatting -------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function duration(secs) {
    if (secs === null || secs === undefined || Number.isNaN(secs)) return "–";
    secs = Math.max(0, Math.round(secs));
    if (secs < 60) return secs + " s";
    const m = Math.floor(secs / 60);
    if (m < 60) return m + " min " + (secs % 60) + " s";
    const h = Math.floor(m / 60);
    if (h < 48) return h + " h " + String(m % 60).padStart(2, "0") + " min";
    return Math.floor(h / 24) + " d " + (h % 24) + " h";
  }

  function relative(iso) {
    if (!iso) return "–";
    const secs = (Date.parse(iso) - Date.now()) / 1000;
    if (Math.abs(secs) < 1) return "now";
    return secs > 0 ? "in " + duration(secs) : duration(-secs) + " ago";
  }

  function clock(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    return d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
  }

  function timeCell(iso, col) {
    return el("td", { title: iso ? clock(iso) : null, "data-col": col || null },
      el("time", { datetime: iso || null, text: relative(iso) }));
  }

  function badge(text) {
    return el("span", { class: "badge b-" + String(text).replace(/[^a-z_]/g, ""), text });
  }

  function number(n) {
    return typeof n === "number" ? n.toLocaleString("en-US") : "–";
  }

  function summaryText(run) {
    if (run.error) return run.error;
    const s = run.summary;
    if (!s || typeof s !== "object") return "";
    return Object.entries(s)
      .filter(([, v]) => typeof v !== "object")
      .map(([k, v]) => k + " " + v)
      .join(", ");
  }

  // ---- token prompt ------------------------------------------------------------------------

  function lock(message) {
    ui.locked = true;
    $("main").hidden = true;
    $("token-panel").hidden = false;
    $("forget-token").hidden = true;
    const error = $("token-error");
    error.textContent = message || "";
    error.hidden = !message;
    $("service").textContent = "";
    setLive("locked — token required", "locked");
    $("token-input").focus();
  }

  function unlock() {
    ui.locked = false;
    $("token-panel").hidden = true;
    $("main").hidden = false;
    $("forget-token").hidden = !token();
  }

  // ---- banner and live state --------------------------------------------------------------

  function setBanner(problems) {
    const banner = $("banner");
    banner.replaceChildren(...problems.map((p) => el("p", { text: p })));
    banner.hidden = problems.length === 0;
  }

  function setLive(text, state) {
    const live = $("live-state");
    live.textContent = text;
    live.dataset.state = state || (ui.live ? "live" : "paused");
  }

  function describe(failure, what) {
    if (failure instanceof ApiFailure && failure.status === 503 && /database/i.test(failure.message)) {
      return "Database unreachable: " + what + " are not available (" + failure.message + ")";
    }
    return what + ": " + failure.message;
  }

  // ---- renderers ---------------------------------------------------------------------------

  function renderStatus(status) {
    const health = status.escalated ? "escalated" : status.draining ? "draining" : "running";
    $("service").textContent =
      "version " + status.version + " · instance " + status.instance + " · up " + duration(status.uptime_secs) +
      " · " + health;
    const counts = status.domains;
    let total = 0;
    for (const name of ["pending", "processing", "completed", "error"]) {
      const n = counts ? counts[name] : null;
      if (typeof n === "number") total += n;
      $("count-" + name).textContent = number(n);
    }
    $("count-total").textContent = counts ? number(total) : "–";
    renderActors(status, health);
  }

  function actorRow(actor, depth, label) {
    const failure = actor.last_failure
      ? el("span", { title: actor.last_failure_at ? clock(actor.last_failure_at) : null, text: actor.last_failure })
      : el("span", { class: "muted", text: "none" });
    return el(
      "tr",
      { "data-testid": "actor", "data-actor": actor.name, class: "depth-" + depth + (actor.restarts ? " restarted" : "") },
      el("th", { scope: "row" }, el("span", { class: "tree", "aria-hidden": "true", text: depth ? "└ " : "" }), label || actor.name),
      el("td", { "data-col": "state" }, badge(actor.state)),
      el("td", { "data-col": "restarts", class: "num", text: String(actor.restarts) }),
      el("td", { "data-col": "uptime", text: duration(actor.uptime_secs) }),
      el("td", { "data-col": "last-failure", class: "failure" }, failure),
    );
  }

  function renderActors(status, health) {
    const actors = status.actors || [];
    const groups = new Map();
    let root = null;
    for (const actor of actors) {
      if (actor.name === "supervisor") {
        root = actor;
        continue;
      }
      const m = /^(.*)-\d+$/.exec(actor.name);
      const group = m ? m[1] + "s" : actor.name;
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group).push(actor);
    }
    const rank = (g) => (ACTOR_ORDER.indexOf(g) === -1 ? ACTOR_ORDER.length : ACTOR_ORDER.indexOf(g));
    const ordered = [...groups.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const rows = [];
    const top = Object.assign({}, root || { name: "supervisor", restarts: 0 }, {
      state: health,
      restarts: status.restarts_total,
      uptime_secs: root ? root.uptime_secs : status.uptime_secs,
    });
    rows.push(actorRow(top, 0));
    for (const group of ordered) {
      const members = groups.get(group);
      if (members.length === 1 && members[0].name === group) {
        rows.push(actorRow(members[0], 1));
        continue;
      }
      members.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
      const running = members.filter((a) => a.state === "running").length;
      const restarts = members.reduce((sum, a) => sum + a.restarts, 0);
      rows.push(
        el(
          "tr",
          { "data-testid": "actor-group", "data-group": group, class: "depth-1 group" },
          el("th", { scope: "row" }, el("span", { class: "tree", "aria-hidden": "true", text: "└ " }), group + " × " + members.length),
          el("td", { text: running + " running" }),
          el("td", { class: "num", text: String(restarts) }),
          el("td", { text: "" }),
          el("td", { text: "" }),
        ),
      );
      for (const actor of members) rows.push(actorRow(actor, 2));
    }
    $("actors-body").replaceChildren(...rows);
  }

  function renderStats(stats) {
    const buckets = stats.throughput || [];
    const svg = $("throughput-chart");
    const ns = "http://www.w3.org/2000/svg";
    // Drawn at the element's own width so text is never stretched.
    const width = Math.max(200, Math.round(svg.getBoundingClientRect().width) || 640);
    const height = 140;
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    const bottom = 122;
    const max = Math.max(1, ...buckets.map((b) => b.total));
    const slot = width / Math.max(1, buckets.length);
    const nodes = [];
    const line = document.createElementNS(ns, "line");
    for (const [k, v] of Object.entries({ x1: 0, x2: width, y1: bottom, y2: bottom, class: "axis" })) line.setAttribute(k, v);
    nodes.push(line);
    buckets.forEach((b, i) => {
      let y = bottom;
      const g = document.createElementNS(ns, "g");
      const title = document.createElementNS(ns, "title");
      const at = new Date(b.minute).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
      title.textContent =
        at + ": " + b.total + " attempts (" + b.completed + " completed, " + b.retried + " retried, " + b.failed +
        " failed, " + b.lost + " lost)";
      g.append(title);
      for (const part of ["completed", "retried", "failed", "lost"]) {
        const h = (b[part] / max) * (bottom - 14);
        if (h <= 0) continue;
        y -= h;
        const rect = document.createElementNS(ns, "rect");
        const attrs = { x: i * slot + 2, y, width: Math.max(1, slot - 4), height: h, class: "bar-" + part };
        for (const [k, v] of Object.entries(attrs)) rect.setAttribute(k, v);
        g.append(rect);
      }
      nodes.push(g);
      if (i === 0 || i === buckets.length - 1 || i % 5 === 0) {
        const label = document.createElementNS(ns, "text");
        label.setAttribute("y", height - 3);
        const edge = i === 0 ? " start" : i === buckets.length - 1 ? " end" : "";
        label.setAttribute("x", i === 0 ? i * slot + 2 : i === buckets.length - 1 ? width - 2 : i * slot + slot / 2);
        label.setAttribute("class", "tick" + edge);
        label.textContent = i === buckets.length - 1 ? "now" : at;
        nodes.push(label);
      }
    });
    const peak = document.createElementNS(ns, "text");
    peak.setAttribute("x", 4);
    peak.setAttribute("y", 11);
    peak.setAttribute("class", "tick start");
    peak.textContent = "max " + max + "/min";
    nodes.push(peak);
    svg.replaceChildren(...nodes);

    const sum = (part) => buckets.reduce((s, b) => s + b[part], 0);
    const last = buckets.length > 1 ? buckets[buckets.length - 2] : null;
    $("throughput-summary").textContent =
      "Last " + WINDOW_MINUTES + " minutes: " + number(sum("total")) + " attempts — " + number(sum("completed")) +
      " completed, " + number(sum("retried")) + " retried, " + number(sum("failed")) + " failed" +
      (last ? ". Last full minute: " + number(last.total) + " attempts." : ".");

    const rows = (stats.errors || []).map((group) =>
      el(
        "tr",
        { "data-testid": "error-group", "data-kind": group.error_kind },
        el("th", { scope: "row" }, badge(group.error_kind)),
        el("td", { class: "num", "data-col": "attempts", text: number(group.attempts) }),
        timeCell(group.last_at),
        el(
          "td",
          { "data-col": "examples" },
          el(
            "ul",
            { class: "examples" },
            ...group.examples.map((e) =>
              el(
                "li",
                {},
                el("button", { type: "button", class: "link", onclick: () => showDomain(e.id), text: e.domain }),
                e.error_message ? el("span", { class: "muted", text: " — " + e.error_message }) : null,
              ),
            ),
          ),
        ),
        el(
          "td",
          {},
          el("button", {
            type: "button",
            "data-testid": "retry-kind",
            onclick: () => retryErrors(group.error_kind),
            text: "Retry",
            title: "Requeue the domains now in error with kind " + group.error_kind,
          }),
        ),
      ),
    );
    if (rows.length === 0) {
      rows.push(el("tr", {}, el("td", { colspan: 5, class: "muted", text: "No failed attempts in this window." })));
    }
    $("errors-body").replaceChildren(...rows);
  }

  function renderJobs(jobs) {
    if (!ui.selectedJob || !jobs.some((j) => j.id === ui.selectedJob)) {
      ui.selectedJob = jobs.length ? jobs[0].id : null;
    }
    const rows = jobs.map((job) => {
      const last = job.last_run;
      const lastCell = last
        ? el("td", { "data-col": "last-run", title: clock(last.started_at) },
            badge(last.outcome), " ", relative(last.started_at), el("span", { class: "muted", text: " (" + last.trigger + ")" }))
        : el("td", { "data-col": "last-run", class: "muted", text: "never" });
      const stateText = (job.paused ? "paused" : "active") + (job.running ? " · " + job.running + " running" : "");
      return el(
        "tr",
        { "data-testid": "job", "data-job": job.id, class: job.id === ui.selectedJob ? "selected" : null },
        el("th", { scope: "row" }, el("div", { text: job.id }), el("div", { class: "muted small", text: job.description })),
        el("td", { text: job.scope + (job.active_here ? "" : " (not here)") }),
        job.paused ? el("td", { "data-col": "next-run", class: "muted", text: "paused" }) : timeCell(job.next_run_at, "next-run"),
        lastCell,
        el("td", { "data-col": "state" }, badge(job.paused ? "paused" : "active"), job.running ? " " + job.running + " running" : "",
          el("span", { class: "sr-only", text: stateText })),
        el(
          "td",
          { class: "buttons" },
          el("button", { type: "button", "data-testid": "run-now", onclick: (ev) => runNow(job.id, ev.currentTarget), text: "Run now" }),
          job.paused
            ? el("button", { type: "button", "data-testid": "resume", onclick: () => setPaused(job.id, false), text: "Resume" })
            : el("button", { type: "button", "data-testid": "pause", onclick: () => setPaused(job.id, true), text: "Pause" }),
          el("button", {
            type: "button",
            "data-testid": "history",
            "aria-pressed": String(job.id === ui.selectedJob),
            onclick: () => {
              ui.selectedJob = job.id;
              refreshSoon();
            },
            text: "Runs",
          }),
        ),
      );
    });
    $("jobs-body").replaceChildren(...rows);
  }

  function renderRuns(jobId, runs) {
    $("runs-job").textContent = jobId || "–";
    const rows = runs.map((run) =>
      el(
        "tr",
        { "data-testid": "run", "data-run-id": run.id, "data-trigger": run.trigger, "data-outcome": run.outcome },
        el("th", { scope: "row", text: "#" + run.id }),
        el("td", { text: run.trigger }),
        el("td", {}, badge(run.outcome)),
        timeCell(run.started_at),
        el("td", { text: run.duration_ms === null || run.duration_ms === undefined ? "–" : run.duration_ms + " ms" }),
        el("td", { class: run.error ? "failure" : null, text: summaryText(run) }),
      ),
    );
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: 6, class: "muted", text: "No runs yet." })));
    $("runs-body").replaceChildren(...rows);
  }

  // ---- refresh loop ------------------------------------------------------------------------

  async function refresh() {
    if (ui.locked) return;
    const [status, stats, jobs] = await Promise.allSettled([
      api("/api/v1/status"),
      api("/api/v1/stats?minutes=" + WINDOW_MINUTES),
      api("/api/v1/jobs"),
    ]);
    const results = [status, stats, jobs];
    if (results.some((r) => r.status === "rejected" && r.reason instanceof Unauthorized)) return;
    if (results.every((r) => r.status === "rejected" && r.reason.kind === "network")) {
      setBanner(["Cannot reach domaind: " + status.reason.message + ". Retrying every 2 s."]);
      if ($("live-state").dataset.state !== "offline") {
        setLive("offline since " + new Date().toLocaleTimeString(), "offline");
      }
      return;
    }
    unlock();
    const problems = [];
    if (status.status === "fulfilled") {
      const s = status.value;
      renderStatus(s);
      if (s.database_error) problems.push("Database unreachable: " + s.database_error);
      if (s.escalated) problems.push("The supervisor escalated (restart intensity exceeded): the service is stopping.");
      else if (s.draining) problems.push("The service is shutting down (draining).");
    } else {
      problems.push(describe(status.reason, "Status"));
    }
    if (stats.status === "fulfilled") renderStats(stats.value);
    else problems.push(describe(stats.reason, "Throughput and errors"));
    if (jobs.status === "fulfilled") {
      renderJobs(jobs.value.jobs || []);
      if (ui.selectedJob) {
        try {
          const id = ui.selectedJob;
          const runs = await api("/api/v1/jobs/" + encodeURIComponent(id) + "/runs?limit=" + RUNS_SHOWN);
          renderRuns(id, runs.runs || []);
        } catch (e) {
          if (e instanceof Unauthorized) return;
          problems.push(describe(e, "Job runs"));
        }
      }
    } else {
      problems.push(describe(jobs.reason, "Jobs"));
    }
    setBanner(problems);
    setLive((ui.live ? "live · updated " : "paused · updated ") + new Date().toLocaleTimeString());
  }

  async function tick() {
    clearTimeout(ui.timer);
    ui.timer = null;
    try {
      await refresh();
    } catch (e) {
      setBanner(["Dashboard error: " + e.message]);
    }
    if (ui.live && !document.hidden) ui.timer = setTimeout(tick, REFRESH_MS);
  }

  function refreshSoon() {
    clearTimeout(ui.timer);
    ui.timer = setTimeout(tick, 0);
  }

  // ---- actions -----------------------------------------------------------------------------

  async function runNow(id, button) {
    ui.selectedJob = id;
    const message = $("job-message");
    button.disabled = true;
    button.textContent = "Running…";
    message.textContent = "Running " + id + "…";
    refreshSoon();
    try {
      const run = await api("/api/v1/jobs/" + encodeURIComponent(id) + "/run", "POST");
      const detail = summaryText(run);
      message.textContent =
        id + ": run " + (run.run_id ? "#" + run.run_id + " " : "") + run.outcome + (detail ? " — " + detail : "");
    } catch (e) {
      if (!(e instanceof Unauthorized)) message.textContent = id + ": " + e.message;
    } finally {
      button.disabled = false;
      button.textContent = "Run now";
      refreshSoon();
    }
  }

  async function setPaused(id, paused) {
    const message = $("job-message");
    try {
      await api("/api/v1/jobs/" + encodeURIComponent(id) + (paused ? "/pause" : "/resume"), "POST");
      message.textContent = id + (paused ? " paused: it no longer fires on schedule." : " resumed.");
    } catch (e) {
      if (!(e instanceof Unauthorized)) message.textContent = id + ": " + e.message;
    }
    refreshSoon();
  }

  async function retryErrors(kind) {
    const what = kind ? "every domain in error with kind " + kind : "every domain in error";
    if (!window.confirm("Requeue " + what + " now?")) return;
    const message = $("retry-message");
    message.textContent = "Requeueing…";
    try {
      const query = "status=error" + (kind ? "&error_kind=" + encodeURIComponent(kind) : "");
      const result = await api("/api/v1/domains/retry?" + query, "POST");
      message.textContent =
        "Requeued " + result.requeued + " domain" + (result.requeued === 1 ? "" : "s") +
        (result.more ? "; more remain — press again." : ".");
    } catch (e) {
      if (!(e instanceof Unauthorized)) message.textContent = "Retry failed: " + e.message;
    }
    refreshSoon();
  }

  async function search(more) {
    const q = $("search-q").value.trim();
    const status = $("search-status").value;
    const params = new URLSearchParams({ limit: "50" });
    if (q) params.set("q", q);
    if (status) params.set("status", status);
    if (more && ui.searchCursor) params.set("cursor", ui.searchCursor);
    const message = $("search-message");
    try {
      const page = await api("/api/v1/domains?" + params);
      const rows = page.domains.map((d) =>
        el(
          "tr",
          { "data-testid": "search-row", "data-domain": d.domain },
          el("th", { scope: "row" }, el("button", { type: "button", class: "link", onclick: () => showDomain(d.id), text: d.domain })),
          el("td", { text: d.tenant_id }),
          el("td", {}, badge(d.status)),
          el("td", { class: "num", text: String(d.attempts) }),
          el("td", { class: "failure", title: d.error_message || null, text: d.error_kind || "" }),
          timeCell(d.last_processed),
        ),
      );
      const body = $("search-body");
      if (more) body.append(...rows);
      else body.replaceChildren(...rows);
      ui.searchCursor = page.next_cursor;
      $("search-table").hidden = body.children.length === 0;
      $("search-more").hidden = !page.next_cursor;
      message.textContent = body.children.length === 0
        ? "No domain matches."
        : body.children.length + " domain" + (body.children.length === 1 ? "" : "s") + " shown" +
          (page.next_cursor ? " (more available)." : ".");
    } catch (e) {
      if (!(e instanceof Unauthorized)) message.textContent = "Search failed: " + e.message;
    }
  }

  async function showDomain(id) {
    const panel = $("domain-detail");
    try {
      const d = await api("/api/v1/domains/" + encodeURIComponent(id));
      const meta = d.metadata || {};
      const facts = [
        ["status", d.status],
        ["tenant", d.tenant_id],
        ["attempts", typeof d.attempts === "number" ? String(d.attempts) : null],
        ["title", meta.title],
        ["description", meta.description],
        ["final URL", meta.final_url],
        ["HTTP status", meta.status_code],
        ["error", d.error_kind ? d.error_kind + ": " + (d.error_message || "") : null],
        ["last processed", d.last_processed ? clock(d.last_processed) : null],
      ].filter(([, v]) => v !== null && v !== undefined && v !== "");
      const history = Array.isArray(d.recent_attempts) ? d.recent_attempts : [];
      const finished = d.status === "completed" || d.status === "error";
      panel.replaceChildren(
        el("h3", { text: d.domain }),
        el("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })])),
        el("h4", { text: "Latest attempts" }),
        el(
          "ul",
          { class: "attempts" },
          ...history.map((a) =>
            el("li", {}, badge(a.outcome), " " + clock(a.started_at) + " · " + a.elapsed_ms + " ms" +
              (a.http_status ? " · HTTP " + a.http_status : "") + (a.error_kind ? " · " + a.error_kind : "")),
          ),
        ),
        finished
          ? el("button", {
              type: "button",
              "data-testid": "retry-domain",
              text: "Retry this domain",
              onclick: async () => {
                try {
                  await api("/api/v1/domains/" + encodeURIComponent(id) + "/retry", "POST");
                  showDomain(id);
                  refreshSoon();
                } catch (e) {
                  if (!(e instanceof Unauthorized)) panel.append(el("p", { class: "error-text", text: e.message }));
                }
              },
            })
          : null,
        el("button", { type: "button", text: "Close", onclick: () => (panel.hidden = true) }),
      );
      panel.hidden = false;
    } catch (e) {
      if (e instanceof Unauthorized) return;
      panel.replaceChildren(el("p", { class: "error-text", text: "Cannot load domain " + id + ": " + e.message }));
      panel.hidden = false;
    }
  }

  // ---- wiring ------------------------------------------------------------------------------

  function start() {
    $("token-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const value = $("token-input").value.trim();
      if (!value) return;
      setToken(value);
      $("token-input").value = "";
      ui.locked = false;
      $("token-error").hidden = true;
      setLive("checking token…");
      refreshSoon();
    });
    $("forget-token").addEventListener("click", () => {
      setToken("");
      lock("");
    });
    $("toggle-live").addEventListener("click", (ev) => {
      ui.live = !ui.live;
      ev.currentTarget.textContent = ui.live ? "Pause refresh" : "Resume refresh";
      if (ui.live) refreshSoon();
      else clearTimeout(ui.timer);
      setLive(ui.live ? "live" : "paused");
    });
    $("retry-all").addEventListener("click", () => retryErrors(null));
    $("search-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      search(false);
    });
    $("search-more").addEventListener("click", () => search(true));
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && ui.live) refreshSoon();
    });
    refreshSoon();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
