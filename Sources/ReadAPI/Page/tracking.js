// The tracking page: plain JavaScript, no build step. Its configuration and every string come
// with the HTML (a JSON data block, not a script); it talks only to this server's /api.
"use strict";

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("page-config").textContent);
const M = config.messages;
const state = { code: decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || ""), view: null, slot: null, lastFocus: null };
const codePath = () => `/api/tracking/${encodeURIComponent(state.code)}`;

// A message with its {placeholders} filled.
function t(key, values = {}) {
  return (M[key] || key).replace(/\{(\w+)\}/g, (_, name) => (name in values ? values[name] : `{${name}}`));
}

class HttpError extends Error { constructor(status, body) { super(body && body.error || `HTTP ${status}`); this.status = status; this.body = body; } }

// A read the server answers 202 "preparing" is asked again after its Retry-After.
async function api(path, options = {}, onPreparing = null) {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(path, { headers: { accept: "application/json", ...(options.body ? { "content-type": "application/json" } : {}) }, ...options });
    const body = await response.json().catch(() => null);
    if (response.status === 202 && body && body.code === "preparing" && !options.method && attempt < 60) {
      if (onPreparing) onPreparing();
      const seconds = Math.min(10, Math.max(1, Number(response.headers.get("retry-after")) || 2));
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      continue;
    }
    if (!response.ok && response.status !== 202) throw new HttpError(response.status, body);
    return { status: response.status, body };
  }
}

// A failure as the visitor reads it: our words for the codes we know, else the server's sentence.
function failure(error) {
  const code = error && error.body && error.body.code;
  return (code && M["error." + code]) || (error && error.body && error.body.error) || t("genericError");
}

function applyConfig() {
  document.documentElement.style.setProperty("--brand", config.primaryColor);
  document.title = `${t("title")} · ${config.businessName}`;
  $("business").textContent = config.businessName;
  if (config.logoUrl) { $("logo").src = config.logoUrl; $("logo").alt = config.businessName; $("logo").hidden = false; }
  $("support").textContent = config.supportContact;
}

function show(section) {
  for (const id of ["loading", "card", "modifier", "problem"]) $(id).hidden = id !== section;
}

function problem(kind) {
  const [title, text] = kind === "notFound" ? ["notFoundTitle", "notFoundText"] : kind === "limited" ? ["limitedTitle", "limitedText"] : ["errorTitle", "errorText"];
  $("problem-title").textContent = t(title);
  $("problem-text").textContent = t(text);
  $("problem").dataset.kind = kind;
  $("retry").hidden = kind === "notFound";
  show("problem");
  $("problem-title").focus();
}

// --- Time: in the venue's zone, labelled; the visitor's own time too when it differs. ---
const DAY = { weekday: "long", month: "long", day: "numeric", year: "numeric" };
const TIME = { hour: "numeric", minute: "2-digit" };
function format(date, options, zone) { return new Intl.DateTimeFormat(document.documentElement.lang, { ...options, timeZone: zone }).format(date); }
function span(start, end, zone) {
  const formatter = new Intl.DateTimeFormat(document.documentElement.lang, { ...DAY, ...TIME, timeZone: zone, timeZoneName: "short" });
  return end && formatter.formatRange ? formatter.formatRange(start, end) : formatter.format(start);
}
function localZone() { return Intl.DateTimeFormat().resolvedOptions().timeZone; }
function sameClock(date, zoneA, zoneB) { return format(date, { ...DAY, ...TIME }, zoneA) === format(date, { ...DAY, ...TIME }, zoneB); }

function setText(id, text) { $(id).textContent = text || ""; $(id).hidden = !text; }

function renderWhere(view) {
  const where = view.location || { kind: "business" };
  const kinds = { business: "location.business", home: "location.home", phone: "location.phone", video: "location.video", custom: "location.custom" };
  $("where-kind").textContent = t(kinds[where.kind] || "location.business");
  $("where").dataset.kind = where.kind;
  setText("where-text", where.text);
  $("video").hidden = !where.videoUrl;
  if (where.videoUrl) $("video").href = where.videoUrl;
  const venue = view.venue;
  $("venue").hidden = !venue;
  if (!venue) return;
  setText("venue-name", venue.name);
  setText("venue-address", venue.address);
  $("venue-phone").hidden = !venue.phone;
  if (venue.phone) { $("venue-phone").href = "tel:" + venue.phone.replace(/[^+\d]/g, ""); $("venue-phone").textContent = t("callVenue", { phone: venue.phone }); }
  $("directions").hidden = !venue.directionsUrl;
  if (venue.directionsUrl) $("directions").href = venue.directionsUrl;
}

// Google Calendar and Outlook.com take the event in their URL; the .ics comes from the server.
function calendarLinks(view, start, end) {
  const stamp = (date) => date.toISOString().replace(/[-:]|\.\d{3}/g, "");
  const title = [view.serviceName, config.businessName].filter(Boolean).join(" · ");
  const place = view.venue ? [view.venue.name, view.venue.address].filter(Boolean).join(", ") : (view.location && (view.location.videoUrl || view.location.text)) || "";
  const google = new URLSearchParams({ action: "TEMPLATE", text: title, dates: `${stamp(start)}/${stamp(end)}`, location: place, details: location.href, ctz: view.timeZone });
  const outlook = new URLSearchParams({ path: "/calendar/action/compose", rru: "addevent", subject: title, startdt: start.toISOString(), enddt: end.toISOString(), location: place, body: location.href });
  $("calendar-ics").href = `${codePath()}/calendar.ics`;
  $("calendar-google").href = "https://calendar.google.com/calendar/render?" + google;
  $("calendar-outlook").href = "https://outlook.live.com/calendar/0/action/compose?" + outlook;
}

function render(view) {
  state.view = view;
  const name = view.client && view.client.firstName;
  $("greeting").textContent = name ? t("greeting", { name }) : t("greetingAnonymous");
  $("status").textContent = t("status." + view.state);
  $("status").className = "badge " + view.state;
  $("status").dataset.state = view.state;
  const note = view.state === "cancelled" ? (view.cancelledBy === "visitor" ? "note.cancelledByYou" : "note.cancelled") : "note." + view.state;
  setText("state-note", M[note] || "");
  $("stale").hidden = !view.stale;
  $("service").textContent = view.serviceName || "—";
  const start = view.startsOn ? new Date(view.startsOn) : null;
  const end = view.endsOn ? new Date(view.endsOn) : null;
  $("when").textContent = start ? span(start, end, view.timeZone) : "—";
  $("when").dataset.zone = view.timeZone;
  const local = localZone();
  setText("when-local", start && local && !sameClock(start, view.timeZone, local) ? t("localTime", { time: span(start, end, local) }) : "");
  $("duration").textContent = view.duration ? t("minutes", { n: view.duration }) : "—";
  $("staff").textContent = view.staffFirstName || "";
  $("staff").hidden = $("staff-label").hidden = !view.staffFirstName;
  renderWhere(view);
  const open = view.actions.canCancel || view.actions.canModify;
  setText("rules", open && view.changeUntil ? t("changeUntil", { time: format(new Date(view.changeUntil), { ...DAY, ...TIME, timeZoneName: "short" }, view.timeZone) }) : "");
  const tooLate = view.changeRefusal === "too_late" && !["past", "completed", "noShow", "arrived"].includes(view.state);
  setText("too-late", tooLate ? (config.supportContact ? t("tooLateContact", { contact: config.supportContact }) : t("tooLate")) : "");
  $("cancel").hidden = !view.actions.canCancel;
  $("modify").hidden = !view.actions.canModify;
  const again = view.bookAgain;
  $("book-again").hidden = !(again && config.widgetApiKey);
  $("book-again-link").hidden = !(again && !config.widgetApiKey && config.bookingUrl);
  if (config.bookingUrl) $("book-again-link").href = config.bookingUrl;
  $("calendar").hidden = !(start && !["cancelled", "past", "completed", "noShow"].includes(view.state));
  if (start) calendarLinks(view, start, end || new Date(start.getTime() + (view.duration || 30) * 60000));
  show("card");
}

function say(id, text, kind) {
  $(id).textContent = text || "";
  $(id).className = "message" + (kind ? " " + kind : "");
}

function followCode(code) {
  if (code && code !== state.code) {
    state.code = code;
    history.replaceState(null, "", "/track/" + encodeURIComponent(code));
  }
}

async function load() {
  show("loading");
  try {
    render((await api(codePath(), {}, () => { $("loading").textContent = t("preparing"); })).body);
  } catch (error) {
    problem(error.status === 404 ? "notFound" : error.status === 429 ? "limited" : "error");
  }
}

// Waits for a command's job when the API answered 202.
async function pollJob(statusUrl) {
  for (let i = 0; i < 60; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { body } = await api(statusUrl);
    if (body.state === "succeeded") return body;
    if (body.state === "failed") throw new HttpError(422, { error: body.reason, code: body.refusal });
  }
  throw new HttpError(504, null);
}

async function runCommand(path, payload, messageId, workingText, doneText) {
  say(messageId, workingText);
  const { status, body } = await api(path, { method: "POST", body: payload ? JSON.stringify(payload) : undefined });
  let view = body;
  if (status === 202 && body.code === "preparing") {
    view = (await api(codePath())).body;
  } else if (status === 202) {
    say(messageId, t("stillWorking"));
    followCode((await pollJob(body.statusUrl)).trackingCode);
    view = (await api(codePath())).body;
  }
  followCode(view.trackingCode);
  render(view);
  say("message", doneText, "success");
}

// --- Cancel dialog: focus moves in, Tab stays inside, Escape closes, focus returns. ---
function openDialog() {
  state.lastFocus = document.activeElement;
  $("dialog-backdrop").hidden = false;
  $("dialog-keep").focus();
}
function closeDialog() {
  $("dialog-backdrop").hidden = true;
  if (state.lastFocus) state.lastFocus.focus();
}
function onKey(event) {
  if (!$("dialog-backdrop").hidden) {
    if (event.key === "Escape") { closeDialog(); return; }
    if (event.key !== "Tab") return;
    const items = [...$("dialog").querySelectorAll("select, textarea, button")];
    const index = items.indexOf(document.activeElement);
    event.preventDefault();
    items[(index + (event.shiftKey ? items.length - 1 : 1)) % items.length].focus();
  } else if (event.key === "Escape" && !$("modifier").hidden) {
    leaveModify();
  }
}

async function confirmCancel() {
  const button = $("dialog-confirm");
  button.disabled = true; $("cancel").disabled = true;
  const reason = $("reason").value, note = $("reason-note").value.trim();
  closeDialog();
  try {
    const payload = reason || note ? { reason: reason || undefined, note: note || undefined } : null;
    await runCommand(`${codePath()}/cancel`, payload, "message", t("cancelling"), t("cancelled"));
    $("main").focus();
  } catch (error) {
    say("message", failure(error), "error");
  } finally {
    button.disabled = false; $("cancel").disabled = false;
  }
}

// --- Booxi's BookNow widget: modify by code, or book again with the service and staff preselected. ---
function loadWidget() {
  return new Promise((resolve, reject) => {
    if (window.BookNow) return resolve();
    const script = document.createElement("script");
    script.src = config.widgetScriptUrl;
    script.onload = resolve; script.onerror = reject;
    document.head.appendChild(script);
  });
}

async function bookAgain() {
  const again = state.view.bookAgain || {};
  try {
    await loadWidget();
    const options = { apiKey: config.widgetApiKey, language: document.documentElement.lang };
    if (again.serviceId) options.serviceId = again.serviceId;
    if (again.serviceId && again.staffId) options.staffId = again.staffId;
    window.BookNow.open(options);
  } catch { say("message", t("genericError"), "error"); }
}

// --- Modify: Booxi's widget, or our own service / day / slot flow. ---
async function startModify() {
  if (config.modifyMode === "widget") {
    try {
      await loadWidget();
      window.BookNow.openModify({ trackingNumber: state.code });
    } catch { say("message", t("genericError"), "error"); }
    return;
  }
  show("modifier");
  say("modify-message", "");
  try {
    const { body } = await api(`${codePath()}/services`, {}, () => say("modify-message", t("preparing")));
    $("service-select").replaceChildren(...body.services.map((service) => {
      const option = document.createElement("option");
      option.value = service.id; option.textContent = `${service.name} (${t("minutes", { n: service.duration })})`;
      option.selected = service.id === state.view.serviceId;
      return option;
    }));
    const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
    $("day").min = tomorrow;
    if (!$("day").value) $("day").value = tomorrow;
    $("service-select").focus();
    await loadSlots();
  } catch (error) {
    say("modify-message", failure(error), "error");
  }
}

function leaveModify() { show("card"); $("modify").focus(); }

async function loadSlots() {
  state.slot = null;
  $("modify-confirm").disabled = true;
  const day = $("day").value;
  if (!day) return;
  const from = new Date(day + "T00:00:00Z"), to = new Date(from.getTime() + 86400000);
  const query = `serviceId=${encodeURIComponent($("service-select").value)}&from=${from.toISOString()}&to=${to.toISOString()}`;
  try {
    const { body } = await api(`${codePath()}/availability?${query}`, {}, () => say("modify-message", t("preparing")));
    const seen = new Set();
    const buttons = body.slots.filter((slot) => !seen.has(slot.start) && seen.add(slot.start)).map((slot) => {
      const button = document.createElement("button");
      button.type = "button";
      button.setAttribute("aria-pressed", "false");
      button.dataset.start = slot.start;
      button.textContent = format(new Date(slot.start), TIME, state.view.timeZone);
      button.addEventListener("click", () => {
        document.querySelectorAll("#slots button").forEach((other) => other.setAttribute("aria-pressed", "false"));
        button.setAttribute("aria-pressed", "true");
        state.slot = slot;
        $("modify-confirm").disabled = false;
      });
      return button;
    });
    $("slots").replaceChildren(...buttons);
    $("no-slots").hidden = buttons.length > 0;
  } catch (error) {
    say("modify-message", failure(error), "error");
  }
}

async function confirmModify() {
  if (!state.slot) return;
  const button = $("modify-confirm");
  button.disabled = true;
  try {
    await runCommand(`${codePath()}/modify`, { slot: state.slot.token }, "modify-message", t("working"), t("modified"));
    $("main").focus();
  } catch (error) {
    say("modify-message", failure(error), "error");
    button.disabled = false;
  }
}

function start() {
  applyConfig();
  $("cancel").addEventListener("click", openDialog);
  $("dialog-keep").addEventListener("click", closeDialog);
  $("dialog-confirm").addEventListener("click", confirmCancel);
  $("dialog-backdrop").addEventListener("click", (event) => { if (event.target === $("dialog-backdrop")) closeDialog(); });
  document.addEventListener("keydown", onKey);
  $("modify").addEventListener("click", startModify);
  $("book-again").addEventListener("click", bookAgain);
  $("modify-back").addEventListener("click", leaveModify);
  $("service-select").addEventListener("change", loadSlots);
  $("day").addEventListener("change", loadSlots);
  $("modify-confirm").addEventListener("click", confirmModify);
  $("retry").addEventListener("click", load);
  load();
}

document.addEventListener("DOMContentLoaded", start);
