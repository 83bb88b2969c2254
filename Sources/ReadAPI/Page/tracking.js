// The tracking page: plain JavaScript, no build step. Talks only to this server's /api.
"use strict";

const STRINGS = {
  en: {
    skip: "Skip to content", loading: "Loading your appointment…", preparing: "Your appointment is being prepared… this page updates by itself.", service: "Service", when: "When", duration: "Duration",
    modify: "Change appointment", cancel: "Cancel appointment", modifyTitle: "Choose a new time", chooseService: "Service",
    chooseDay: "Day", chooseSlot: "Available times", noSlots: "No free time on this day.", back: "Back",
    confirmModify: "Confirm new time", retry: "Try again", help: "Questions?", confirmCancelTitle: "Cancel this appointment?",
    confirmCancelText: "This cannot be undone.", keep: "Keep it", confirmCancel: "Yes, cancel",
    hello: (name) => name ? `Hello ${name}, here is your appointment` : "Your appointment",
    minutes: (n) => `${n} min`, title: "Your appointment",
    status: { Approved: "Confirmed", Cancelled: "Cancelled", Completed: "Completed", PendingStaffApproval: "Awaiting confirmation", PendingClientApproval: "Awaiting your confirmation" },
    stale: "We could not reach the booking system; this may not be up to date.",
    cancelling: "Cancelling…", cancelled: "Your appointment is cancelled.", working: "Saving your change…",
    modified: "Your appointment was changed.", stillWorking: "Your request is being processed…",
    notFoundTitle: "Appointment not found", notFoundText: "This link is not valid or has expired. Please check the link in your confirmation e-mail.",
    limitedTitle: "Too many requests", limitedText: "Please wait a moment, then try again.",
    errorTitle: "Something went wrong", errorText: "We could not load your appointment. Please try again in a few minutes.",
    genericError: "Sorry, that did not work. Please try again.",
  },
  fr: {
    skip: "Aller au contenu", loading: "Chargement de votre rendez-vous…", preparing: "Votre rendez-vous est en préparation… cette page se met à jour toute seule.", service: "Service", when: "Quand", duration: "Durée",
    modify: "Modifier le rendez-vous", cancel: "Annuler le rendez-vous", modifyTitle: "Choisissez un nouvel horaire",
    chooseService: "Service", chooseDay: "Jour", chooseSlot: "Horaires disponibles", noSlots: "Aucun horaire libre ce jour-là.",
    back: "Retour", confirmModify: "Confirmer le nouvel horaire", retry: "Réessayer", help: "Des questions ?",
    confirmCancelTitle: "Annuler ce rendez-vous ?", confirmCancelText: "Cette action est définitive.", keep: "Le garder",
    confirmCancel: "Oui, annuler",
    hello: (name) => name ? `Bonjour ${name}, voici votre rendez-vous` : "Votre rendez-vous",
    minutes: (n) => `${n} min`, title: "Votre rendez-vous",
    status: { Approved: "Confirmé", Cancelled: "Annulé", Completed: "Terminé", PendingStaffApproval: "En attente de confirmation", PendingClientApproval: "En attente de votre confirmation" },
    stale: "Le système de réservation est injoignable ; ces informations peuvent ne pas être à jour.",
    cancelling: "Annulation…", cancelled: "Votre rendez-vous est annulé.", working: "Enregistrement de votre modification…",
    modified: "Votre rendez-vous a été modifié.", stillWorking: "Votre demande est en cours de traitement…",
    notFoundTitle: "Rendez-vous introuvable", notFoundText: "Ce lien n'est pas valide ou a expiré. Vérifiez le lien de votre e-mail de confirmation.",
    limitedTitle: "Trop de requêtes", limitedText: "Veuillez patienter un instant, puis réessayer.",
    errorTitle: "Un problème est survenu", errorText: "Impossible de charger votre rendez-vous. Veuillez réessayer dans quelques minutes.",
    genericError: "Désolé, cela n'a pas fonctionné. Veuillez réessayer.",
  },
};

const $ = (id) => document.getElementById(id);
const state = { code: decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || ""), config: null, t: STRINGS.en, view: null, slot: null, lastFocus: null };

class HttpError extends Error { constructor(status, body) { super(body && body.error || `HTTP ${status}`); this.status = status; this.body = body; } }

// A read the server answers 202 "preparing" (the booking's details are on their way from the
// booking system) is asked again after its Retry-After; `onPreparing` lets the caller say so.
async function api(path, options = {}, onPreparing = null) {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(path, { headers: { "accept": "application/json", ...(options.body ? { "content-type": "application/json" } : {}) }, ...options });
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

function applyConfig(config) {
  state.config = config;
  state.t = STRINGS[config.language] || STRINGS.en;
  document.documentElement.lang = config.language;
  document.documentElement.style.setProperty("--brand", config.primaryColor);
  document.title = `${state.t.title} · ${config.businessName}`;
  $("business").textContent = config.businessName;
  if (config.logoUrl) { $("logo").src = config.logoUrl; $("logo").alt = config.businessName; $("logo").hidden = false; }
  $("support").textContent = config.supportContact;
  document.querySelectorAll("[data-i18n]").forEach((node) => {
    const text = state.t[node.dataset.i18n];
    if (typeof text === "string") node.textContent = text;
  });
}

function show(section) {
  for (const id of ["loading", "card", "modifier", "problem"]) $(id).hidden = id !== section;
}

function problem(kind) {
  const t = state.t;
  const [title, text] = kind === "notFound" ? [t.notFoundTitle, t.notFoundText] : kind === "limited" ? [t.limitedTitle, t.limitedText] : [t.errorTitle, t.errorText];
  $("problem-title").textContent = title;
  $("problem-text").textContent = text;
  $("problem").dataset.kind = kind;
  $("retry").hidden = kind === "notFound";
  show("problem");
  $("problem-title").focus?.();
}

function formatWhen(iso) {
  const date = new Date(iso);
  return new Intl.DateTimeFormat(state.config.language, { dateStyle: "full", timeStyle: "short", timeZone: state.config.timeZone }).format(date);
}

function render(view) {
  state.view = view;
  const t = state.t;
  $("greeting").textContent = t.hello(view.client && view.client.firstName);
  const statusKey = view.isCompleted ? "Completed" : view.status;
  $("status").textContent = t.status[statusKey] || statusKey;
  $("status").className = "badge " + (statusKey.startsWith("Pending") ? "Pending" : statusKey);
  $("status").dataset.status = statusKey;
  $("stale").hidden = !view.stale;
  $("service").textContent = view.serviceName || "—";
  $("when").textContent = view.startsOn ? formatWhen(view.startsOn) : "—";
  $("duration").textContent = view.duration ? t.minutes(view.duration) : "—";
  $("cancel").hidden = !view.actions.canCancel;
  $("modify").hidden = !view.actions.canModify;
  show("card");
}

function say(id, text, kind) {
  const node = $(id);
  node.textContent = text || "";
  node.className = "message" + (kind ? " " + kind : "");
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
    const { body } = await api(`/api/tracking/${encodeURIComponent(state.code)}`, {}, () => { $("loading").textContent = state.t.preparing; });
    render(body);
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
    if (body.state === "failed") throw new HttpError(422, { error: body.reason });
  }
  throw new HttpError(504, null);
}

async function runCommand(path, payload, messageId, workingText, doneText) {
  say(messageId, workingText);
  const { status, body } = await api(path, { method: "POST", body: payload ? JSON.stringify(payload) : undefined });
  let view = body;
  if (status === 202 && body.code === "preparing") {
    view = (await api(`/api/tracking/${encodeURIComponent(state.code)}`)).body;
  } else if (status === 202) {
    say(messageId, state.t.stillWorking);
    const job = await pollJob(body.statusUrl);
    followCode(job.trackingCode);
    view = (await api(`/api/tracking/${encodeURIComponent(state.code)}`)).body;
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
function trapFocus(event) {
  if ($("dialog-backdrop").hidden) return;
  if (event.key === "Escape") { closeDialog(); return; }
  if (event.key !== "Tab") return;
  const buttons = [$("dialog-keep"), $("dialog-confirm")];
  const index = buttons.indexOf(document.activeElement);
  event.preventDefault();
  buttons[(index + (event.shiftKey ? buttons.length - 1 : 1)) % buttons.length].focus();
}

async function confirmCancel() {
  const button = $("dialog-confirm");
  button.disabled = true; $("cancel").disabled = true;
  closeDialog();
  try {
    await runCommand(`/api/tracking/${encodeURIComponent(state.code)}/cancel`, null, "message", state.t.cancelling, state.t.cancelled);
    $("main").focus();
  } catch (error) {
    say("message", (error.body && error.body.error) || state.t.genericError, "error");
  } finally {
    button.disabled = false; $("cancel").disabled = false;
  }
}

// --- Modify: Booxi's widget, or our own service / day / slot flow. ---
function loadWidget() {
  return new Promise((resolve, reject) => {
    if (window.BookNow) return resolve();
    const script = document.createElement("script");
    script.src = state.config.widgetScriptUrl;
    script.onload = resolve; script.onerror = reject;
    document.head.appendChild(script);
  });
}

async function startModify() {
  if (state.config.modifyMode === "widget") {
    try {
      await loadWidget();
      window.BookNow.openModify({ trackingNumber: state.code });
    } catch { say("message", state.t.genericError, "error"); }
    return;
  }
  show("modifier");
  say("modify-message", "");
  try {
    const { body } = await api(`/api/tracking/${encodeURIComponent(state.code)}/services`, {}, () => say("modify-message", state.t.preparing));
    const select = $("service-select");
    select.replaceChildren(...body.services.map((service) => {
      const option = document.createElement("option");
      option.value = service.id; option.textContent = `${service.name} (${state.t.minutes(service.duration)})`;
      if (service.id === state.view.serviceId) option.selected = true;
      return option;
    }));
    const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
    $("day").min = tomorrow;
    if (!$("day").value) $("day").value = tomorrow;
    $("service-select").focus();
    await loadSlots();
  } catch (error) {
    say("modify-message", (error.body && error.body.error) || state.t.genericError, "error");
  }
}

async function loadSlots() {
  state.slot = null;
  $("modify-confirm").disabled = true;
  const day = $("day").value;
  if (!day) return;
  const from = new Date(day + "T00:00:00Z"), to = new Date(from.getTime() + 86400000);
  const query = `serviceId=${encodeURIComponent($("service-select").value)}&from=${from.toISOString()}&to=${to.toISOString()}`;
  try {
    const { body } = await api(`/api/tracking/${encodeURIComponent(state.code)}/availability?${query}`, {}, () => say("modify-message", state.t.preparing));
    const seen = new Set();
    const buttons = body.slots.filter((slot) => !seen.has(slot.start) && seen.add(slot.start)).map((slot) => {
      const button = document.createElement("button");
      button.type = "button";
      button.setAttribute("aria-pressed", "false");
      button.dataset.start = slot.start;
      button.textContent = new Intl.DateTimeFormat(state.config.language, { timeStyle: "short", timeZone: state.config.timeZone }).format(new Date(slot.start));
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
    say("modify-message", (error.body && error.body.error) || state.t.genericError, "error");
  }
}

async function confirmModify() {
  if (!state.slot) return;
  const button = $("modify-confirm");
  button.disabled = true;
  try {
    const payload = { slot: state.slot.token };
    await runCommand(`/api/tracking/${encodeURIComponent(state.code)}/modify`, payload, "modify-message", state.t.working, state.t.modified);
    $("main").focus();
  } catch (error) {
    say("modify-message", (error.body && error.body.error) || state.t.genericError, "error");
    button.disabled = false;
  }
}

async function start() {
  try {
    applyConfig((await api("/api/page-config")).body);
  } catch {
    applyConfig({ businessName: "", primaryColor: "#2f5d8a", supportContact: "", language: "en", timeZone: "UTC", modifyMode: "builtin" });
  }
  $("cancel").addEventListener("click", openDialog);
  $("dialog-keep").addEventListener("click", closeDialog);
  $("dialog-confirm").addEventListener("click", confirmCancel);
  $("dialog-backdrop").addEventListener("click", (event) => { if (event.target === $("dialog-backdrop")) closeDialog(); });
  document.addEventListener("keydown", trapFocus);
  $("modify").addEventListener("click", startModify);
  $("modify-back").addEventListener("click", () => { show("card"); $("modify").focus(); });
  $("service-select").addEventListener("change", loadSlots);
  $("day").addEventListener("change", loadSlots);
  $("modify-confirm").addEventListener("click", confirmModify);
  $("retry").addEventListener("click", load);
  await load();
}

document.addEventListener("DOMContentLoaded", start);
