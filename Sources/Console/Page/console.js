// The operations console: plain JavaScript, no build step. Every view reads /console/api/...,
// the same JSON operators can script; every change sends the session's CSRF token.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { csrf: null, range: "1h", timer: null, selected: new Set(), filter: {} };

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}
const svg = (tag, attributes = {}) => {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
};
const time = (ms) => new Date(ms).toLocaleString();
const age = (ms) => ms == null ? "—" : ms < 1000 ? `${ms} ms` : ms < 120000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60000)} min`;

async function api(path, options = {}) {
  const headers = { accept: "application/json" };
  // The automatic refresh is not the operator's activity: it must not keep the session from going idle.
  if (state.refreshing) headers["x-console-refresh"] = "1";
  if (options.method && options.method !== "GET") { headers["x-csrf-token"] = state.csrf || ""; headers["content-type"] = "application/json"; }
  const response = await fetch("/console/api/" + path, { ...options, headers });
  const body = await response.json().catch(() => null);
  if (response.status === 401) { location.assign("/console/login"); throw new Error("login required"); }
  if (!response.ok) throw new Error((body && body.error) || `HTTP ${response.status}`);
  return body;
}
const post = (path, body) => api(path, { method: "POST", body: JSON.stringify(body || {}) });

function say(text, error = false) { $("status").textContent = text; $("status").className = error ? "status error" : "status"; }

// A confirmation before anything that changes state; resolves true when confirmed.
function confirmAction(text) {
  return new Promise((resolve) => {
    const previous = document.activeElement;
    $("confirm-text").textContent = text;
    $("confirm-backdrop").hidden = false;
    $("confirm-cancel").focus();
    const close = (answer) => {
      $("confirm-backdrop").hidden = true;
      $("confirm-ok").onclick = $("confirm-cancel").onclick = null;
      document.removeEventListener("keydown", keys);
      if (previous) previous.focus();
      resolve(answer);
    };
    const keys = (event) => {
      if (event.key === "Escape") close(false);
      if (event.key === "Tab") { event.preventDefault(); (document.activeElement === $("confirm-ok") ? $("confirm-cancel") : $("confirm-ok")).focus(); }
    };
    document.addEventListener("keydown", keys);
    $("confirm-ok").onclick = () => close(true);
    $("confirm-cancel").onclick = () => close(false);
  });
}

// --- Charts: inline SVG, axes, a tooltip on hover. ---
function chart(title, points, series, unit = "") {
  const width = 600, height = 190, left = 58, bottom = 24, top = 8, right = 8;
  const values = points.map((point) => series.map((s) => s.value(point) || 0));
  const max = Math.max(1, ...values.flat());
  const x = (index) => left + (index / Math.max(1, points.length - 1)) * (width - left - right);
  const y = (value) => top + (1 - value / max) * (height - top - bottom);
  const graph = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${title}: ${series.map((s) => s.name).join(", ")}` });
  for (const fraction of [0, 0.5, 1]) {
    graph.append(svg("line", { class: "grid", x1: left, x2: width - right, y1: y(max * fraction), y2: y(max * fraction) }));
    const label = svg("text", { x: left - 6, y: y(max * fraction) + 4, "text-anchor": "end" });
    label.textContent = `${Math.round(max * fraction * 10) / 10}${unit}`;
    graph.append(label);
  }
  graph.append(svg("line", { class: "axis", x1: left, x2: left, y1: top, y2: height - bottom }));
  graph.append(svg("line", { class: "axis", x1: left, x2: width - right, y1: height - bottom, y2: height - bottom }));
  for (const index of [0, Math.floor((points.length - 1) / 2), points.length - 1]) {
    const label = svg("text", { x: x(index), y: height - 6, "text-anchor": index === 0 ? "start" : index === points.length - 1 ? "end" : "middle" });
    label.textContent = new Date(points[index].minute * 60000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    graph.append(label);
  }
  series.forEach((s, n) => graph.append(svg("polyline", { class: `line s${n}`, points: values.map((row, index) => `${x(index)},${y(row[n])}`).join(" ") })));
  const cursor = svg("line", { class: "axis", x1: 0, x2: 0, y1: top, y2: height - bottom, visibility: "hidden" });
  graph.append(cursor);
  graph.addEventListener("mousemove", (event) => {
    const box = graph.getBoundingClientRect();
    const at = ((event.clientX - box.left) / box.width) * width;
    const index = Math.max(0, Math.min(points.length - 1, Math.round(((at - left) / (width - left - right)) * (points.length - 1))));
    cursor.setAttribute("x1", x(index)); cursor.setAttribute("x2", x(index)); cursor.setAttribute("visibility", "visible");
    const tip = $("tooltip");
    tip.textContent = [new Date(points[index].minute * 60000).toLocaleTimeString()].concat(series.map((s, n) => `${s.name}: ${values[index][n]}${unit}`)).join("\n");
    tip.style.left = `${event.clientX + 12}px`; tip.style.top = `${event.clientY + 12}px`; tip.hidden = false;
  });
  graph.addEventListener("mouseleave", () => { $("tooltip").hidden = true; cursor.setAttribute("visibility", "hidden"); });
  const totals = series.map((s, n) => values.reduce((sum, row) => sum + row[n], 0));
  const legend = el("ul", { class: "legend" }, series.map((s, n) => el("li", {}, el("span", { class: `s${n}` }), `${s.name} (${unit ? "max " + Math.max(0, ...values.map((row) => row[n])) + unit : totals[n]})`)));
  return el("section", { class: "panel chart", "data-chart": title }, el("h2", { text: title }), graph, legend);
}

const views = {
  "": async (view) => {
    const [queues, points] = await Promise.all([api("queues"), api("stats?range=" + state.range)]);
    const count = (name) => (point) => point.counts[name];
    view.replaceChildren(
      el("div", { class: "cards" }, ["webhooks", "commands", "delayed", "dead"].map((name) =>
        el("div", { class: "card", "data-queue": name }, el("div", { class: "value", text: String(queues[name]) }), el("div", { class: "label", text: `${name} queue` })))),
      el("div", { class: "actions", role: "group", "aria-label": "Time range" },
        ["1h", "24h"].map((range) => el("button", { type: "button", "aria-pressed": String(state.range === range), onclick: () => { state.range = range; show(); }, text: range === "1h" ? "Last hour" : "Last 24 hours" }))),
      el("div", { class: "charts" },
        chart("Webhooks", points, [{ name: "accepted", value: count("accepted") }, { name: "duplicates", value: count("duplicates") }, { name: "rejected", value: count("rejected") }]),
        chart("Jobs", points, [{ name: "applied", value: count("applied") }, { name: "retried", value: count("retried") }, { name: "dead-lettered", value: count("deadLettered") }]),
        chart("Booxi calls", points, [{ name: "calls", value: count("booxiCalls") }, { name: "429s", value: count("booxi429") }]),
        chart("Push latency", points, [{ name: "p50", value: (p) => p.pushP50 }, { name: "p99", value: (p) => p.pushP99 }], " ms")));
  },

  async workers(view) {
    const lanes = await api("workers");
    view.replaceChildren(el("section", { class: "panel" }, lanes.length === 0 ? el("p", { text: "No worker is registered." }) : el("table", {},
      el("thead", {}, el("tr", {}, ["Lane", "Heartbeat", "Holding", "Jobs in hand (id, kind, age, attempt)"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, lanes.map((lane) => el("tr", {},
        el("td", {}, el("code", { text: lane.id })),
        el("td", { class: lane.alive ? "" : "dead", text: lane.alive ? `${age(lane.heartbeatAgeMs)} ago` : "expired" }),
        el("td", { text: String(lane.holding) }),
        el("td", {}, lane.jobs.length === 0 ? "—" : el("ul", {}, lane.jobs.map((job) => el("li", {}, el("code", { text: job.id }), ` ${job.kind}, ${age(job.ageMs)}, attempt ${job.attempt}`))))))))));
  },

  async "dead-letters"(view) {
    const query = new URLSearchParams(Object.entries(state.filter).filter(([, v]) => v));
    const page = await api("dead-letters?" + query);
    const reason = el("select", { id: "filter-reason" }, el("option", { value: "", text: "any reason" }), page.groups.map((g) => el("option", { value: g.reason, selected: state.filter.reason === g.reason, text: g.reason })));
    const kind = el("select", { id: "filter-kind" }, ["", "webhook", "cancel", "modify", "unreadable"].map((k) => el("option", { value: k, selected: (state.filter.kind || "") === k, text: k || "any kind" })));
    const since = el("input", { id: "filter-since", type: "datetime-local", value: state.filter.sinceText || "" });
    const apply = () => { state.filter = { reason: reason.value, kind: kind.value, sinceText: since.value, since: since.value ? String(new Date(since.value).getTime()) : "" }; state.selected.clear(); show(); };
    const filterBody = { reason: state.filter.reason || null, kind: state.filter.kind || null, since: state.filter.since ? Number(state.filter.since) : null };
    const act = async (action, ids) => {
      const what = ids ? `${ids.length} selected dead letter(s)` : `all ${page.items.length} dead letter(s) matching the filter`;
      if (!(await confirmAction(`${action === "replay" ? "Replay" : "Purge"} ${what}?`))) return;
      const result = await post(`dead-letters/${action}`, ids ? { ids } : { filter: filterBody });
      state.selected.clear();
      await show();
      say(action === "replay" ? `Replayed ${result.replayed} of ${result.selected}.` : `Purged ${result.purged} of ${result.selected}.`);
    };
    const detail = el("section", { class: "panel", id: "letter", hidden: true });
    const open = (item) => {
      const payload = el("pre", { id: "letter-payload", text: item.payload });
      detail.replaceChildren(el("h2", { text: `Dead letter ${item.id}` }),
        el("p", {}, `Reason: ${item.reason}`), el("p", {}, `Kind ${item.kind}, ${item.attempts} attempt(s), failed ${time(item.failedAt)}`),
        el("p", {}, `Last error: ${item.lastError || "—"}`), payload,
        el("button", { type: "button", id: "reveal", class: "secondary", text: "Reveal personal data", onclick: async () => {
          if (!(await confirmAction("Reveal this letter's personal data? The audit log records it."))) return;
          payload.textContent = (await post(`dead-letters/${encodeURIComponent(item.id)}/reveal`)).payload;
        } }));
      detail.hidden = false;
      detail.querySelector("h2").focus?.();
    };
    view.replaceChildren(
      el("section", { class: "panel" }, el("h2", { text: `By reason (${page.total})` }), page.groups.length === 0 ? el("p", { text: "No dead letters." }) :
        el("table", { id: "groups" }, el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Reason" }), el("th", { scope: "col", text: "Letters" }))),
          el("tbody", {}, page.groups.map((g) => el("tr", {}, el("td", {}, el("button", { type: "button", class: "link", text: g.reason, onclick: () => { state.filter = { reason: g.reason }; show(); } })), el("td", { text: String(g.count) })))))),
      el("section", { class: "panel" }, el("h2", { text: "Filter" }),
        el("div", { class: "filters" }, el("div", {}, el("label", { for: "filter-reason", text: "Reason" }), reason), el("div", {}, el("label", { for: "filter-kind", text: "Kind" }), kind),
          el("div", {}, el("label", { for: "filter-since", text: "Failed since" }), since), el("button", { type: "button", id: "apply-filter", onclick: apply, text: "Apply" })),
        el("div", { class: "actions" },
          el("button", { type: "button", id: "replay-selected", onclick: () => act("replay", [...state.selected]), text: "Replay selected" }),
          el("button", { type: "button", id: "purge-selected", class: "danger", onclick: () => act("purge", [...state.selected]), text: "Purge selected" }),
          el("button", { type: "button", id: "replay-matching", class: "secondary", onclick: () => act("replay", null), text: "Replay all matching" }),
          el("button", { type: "button", id: "purge-matching", class: "secondary", onclick: () => act("purge", null), text: "Purge all matching" })),
        el("table", { id: "letters" }, el("thead", {}, el("tr", {}, ["", "Job", "Kind", "Reason", "Attempts", "Failed"].map((h, n) => el("th", { scope: "col", text: h, "aria-label": n === 0 ? "Select" : null })))),
          el("tbody", {}, page.items.map((item) => el("tr", { "data-id": item.id },
            el("td", {}, el("input", { type: "checkbox", "aria-label": `Select ${item.id}`, checked: state.selected.has(item.id), onchange: (event) => event.target.checked ? state.selected.add(item.id) : state.selected.delete(item.id) })),
            el("td", {}, el("button", { type: "button", class: "link", text: item.id.slice(0, 8), "aria-label": `Open ${item.id}`, onclick: () => open(item) })),
            el("td", { text: item.kind }), el("td", { text: item.reason }), el("td", { text: String(item.attempts) }), el("td", { text: time(item.failedAt) })))))),
      detail);
  },

  async retries(view) {
    const retries = await api("retries");
    view.replaceChildren(el("section", { class: "panel" }, retries.length === 0 ? el("p", { text: "No job is waiting for a retry." }) : el("table", {},
      el("thead", {}, el("tr", {}, ["Job", "Kind", "Attempt", "Due", "Last error", ""].map((h, n) => el("th", { scope: "col", text: h, "aria-label": n === 5 ? "Action" : null })))),
      el("tbody", {}, retries.map((job) => el("tr", {}, el("td", {}, el("code", { text: job.id })), el("td", { text: job.kind }), el("td", { text: String(job.attempt) }),
        el("td", { text: time(job.dueAt) }), el("td", { text: job.lastError || "—" }),
        el("td", {}, el("button", { type: "button", text: "Retry now", "aria-label": `Retry ${job.id} now`, onclick: async () => {
          if (!(await confirmAction(`Retry job ${job.id} now?`))) return;
          await post(`retries/${encodeURIComponent(job.id)}/now`); await show(); say("Moved to its queue.");
        } }))))))));
  },

  async timeline(view) {
    const input = el("input", { id: "query", value: state.query || "", size: 40 });
    const results = el("div", { id: "results" });
    const search = async (event) => {
      event && event.preventDefault();
      state.query = input.value.trim();
      if (!state.query) return;
      try {
        const answer = await api("timeline?q=" + encodeURIComponent(state.query));
        results.replaceChildren(el("section", { class: "panel" },
          el("h2", { text: `Booking ${answer.bookingId}` }), el("p", { class: "muted", text: `Found by ${answer.foundBy}; status ${answer.status || "—"}; code ${answer.code || "—"}` }),
          el("ol", { class: "timeline" }, answer.entries.map((entry) => el("li", { "data-type": entry.type },
            el("span", { text: time(entry.at) }), el("strong", { text: entry.type }),
            el("span", { text: Object.entries(entry.fields).filter(([, v]) => v !== "").map(([k, v]) => `${k}: ${v}`).join(", ") })))),
          el("div", { class: "actions" }, el("button", { type: "button", id: "erase", class: "danger", text: "Erase personal data", onclick: async () => {
            if (!(await confirmAction(`Erase every piece of personal data of booking ${answer.bookingId}? This cannot be undone.`))) return;
            const erased = await post("erase", { booking: answer.bookingId });
            results.replaceChildren(); say(`Erased booking ${erased.bookingId}: ${erased.keysDeleted} keys, ${erased.jobsRemoved} jobs.`);
          } }))));
      } catch (error) { results.replaceChildren(el("p", { class: "error", text: error.message })); }
    };
    view.replaceChildren(el("form", { class: "panel filters", onsubmit: search },
      el("div", {}, el("label", { for: "query", text: "Tracking code, Booxi booking id or event id" }), input), el("button", { type: "submit", text: "Search" })), results);
    if (state.query) await search();
  },

  async audit(view) {
    const entries = await api("audit");
    view.replaceChildren(el("section", { class: "panel" }, entries.length === 0 ? el("p", { text: "Nothing recorded yet." }) : el("table", {},
      el("thead", {}, el("tr", {}, ["When", "Who", "Action", "Target", "Outcome", "Detail"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, entries.map((entry) => el("tr", {}, [time(entry.at), entry.user, entry.action, entry.target, entry.outcome || "done", entry.detail].map((text) => el("td", { text }))))))));
  },
};

const titles = { "": "Overview", workers: "Workers", "dead-letters": "Dead letters", retries: "Retries", timeline: "Booking timeline", audit: "Audit" };
const page = () => location.pathname.replace(/^\/console\/?/, "");

async function show() {
  const name = page() in views ? page() : "";
  $("title").textContent = titles[name];
  document.title = `${titles[name]} · booxi-tracking console`;
  document.querySelectorAll("nav a").forEach((link) => {
    if (link.pathname === location.pathname) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  });
  try { await views[name]($("view")); } catch (error) { say(error.message, true); }
}

// The overview refreshes every 5 s while the tab is visible.
function schedule() {
  clearInterval(state.timer);
  if (page() === "") state.timer = setInterval(async () => {
    if (document.hidden) return;
    state.refreshing = true;
    try { await show(); } finally { state.refreshing = false; }
  }, 5000);
}

document.addEventListener("DOMContentLoaded", async () => {
  const session = await api("session");
  state.csrf = session.csrfToken;
  $("who").textContent = session.user;
  $("logout").addEventListener("click", async () => { await api("session", { method: "DELETE" }); location.assign("/console/login"); });
  await show();
  schedule();
});
