// The console's login form: POST /console/api/session, then the overview.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("login");
  const error = document.getElementById("error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const body = JSON.stringify({ username: form.username.value, password: form.password.value });
    const response = await fetch("/console/api/session", { method: "POST", headers: { "content-type": "application/json" }, body });
    if (response.ok) { location.assign("/console"); return; }
    const answer = await response.json().catch(() => ({}));
    error.textContent = response.status === 429
      ? `Too many failed logins. Try again in ${response.headers.get("retry-after") || "a few"} seconds.`
      : answer.error || "Login failed.";
    form.password.value = "";
    form.password.focus();
  });
});
