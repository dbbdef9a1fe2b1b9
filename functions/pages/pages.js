"use strict";
// Shared by every page: the data the server put in the page, the steps, and calls to the API
// (same origin; an API key only ever in the Authorization header, kept for this tab alone;
// cookies only where a call is made as the signed-in person: `credentials` "same-origin").
const $ = (id) => document.getElementById(id);
const data = JSON.parse($("data").textContent);
const say = (id, text) => { $(id).textContent = text; };

/** Shows one step (a `section[data-step]`) and moves the focus to its heading. */
function show(id) {
  for (const step of document.querySelectorAll("section[data-step]")) step.hidden = step.id !== id;
  const heading = $(id).querySelector("h1");
  if (heading) { heading.tabIndex = -1; heading.focus(); }
}

async function api(method, path, body, key, headers, credentials) {
  const sent = Object.assign({ accept: "application/json" }, headers || {});
  if (body !== undefined) sent["content-type"] = "application/json";
  if (key) sent.authorization = "Bearer " + key;
  try {
    const response = await fetch(path, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body), credentials: credentials || "omit", cache: "no-store" });
    let json = null;
    try { json = await response.json(); } catch (_) { json = null; }
    return { status: response.status, body: json, etag: response.headers.get("etag") };
  } catch (_) {
    return { status: 0, body: { details: "The server could not be reached. Check your connection and try again." } };
  }
}

/** A call made as the signed-in person: the session cookie, and the CSRF token the server put
 *  in this page (`data.person`). */
const asPerson = (method, path, body, headers) =>
  api(method, path, body, undefined, Object.assign({ "x-csrf-token": data.person.csrf }, headers || {}), "same-origin");

/** Runs a signed-in person's page once it says who is signed in (`#who`, `#account`); without
 *  a session the page offers the sign-in (`#signed-out`). */
function asSignedIn(start) {
  if (!data.person) return show("signed-out");
  say("who", data.person.email);
  say("account", data.person.account);
  start();
}

const longDate = (at) => new Date(at).toLocaleDateString(undefined, { dateStyle: "long" });
const dateTime = (at) => new Date(at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** What to tell a person about a failed call. */
const problem = (reply) => (reply.body && reply.body.details) || "Something went wrong (" + reply.status + "). Please try again.";

/** Disables a button while its action runs; the action's errors land in `alertId`. */
function action(button, alertId, run) {
  button.addEventListener(button.tagName === "FORM" ? "submit" : "click", async (event) => {
    event.preventDefault();
    const control = button.tagName === "FORM" ? button.querySelector("button[type=submit]") : button;
    say(alertId, "");
    control.disabled = true;
    try { await run(); } finally { control.disabled = false; }
  });
}

/** A button that copies the text of `codeId` (a key shown once), saying so in `statusId`. */
function copyButton(buttonId, codeId, statusId) {
  $(buttonId).addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($(codeId).textContent);
      say(statusId, "Copied.");
    } catch (_) {
      getSelection().selectAllChildren($(codeId));
      say(statusId, "Selected: press Ctrl+C (or Cmd+C) to copy.");
    }
  });
}

const apiKey = {
  name: "onboarding-api-key",
  get() { return sessionStorage.getItem(this.name); },
  set(key) { sessionStorage.setItem(this.name, key); },
  forget() { sessionStorage.removeItem(this.name); },
};

const ROLES = {
  buyer: "as a buyer: you would receive leads from them",
  seller: "as a source: you would send leads to them",
  both: "to exchange leads in both directions",
};

/** Shows a problem next to the input it is about: the input marked invalid, the message right
 *  after it and read with it, the focus on it. */
function fieldError(input, message) {
  clearFieldErrors(input.form);
  const note = document.createElement("p");
  note.className = "field-error";
  note.id = input.id + "-error";
  note.textContent = message;
  input.after(note);
  input.dataset.describedby = input.getAttribute("aria-describedby") || "";
  input.setAttribute("aria-describedby", (note.id + " " + input.dataset.describedby).trim());
  input.setAttribute("aria-invalid", "true");
  input.focus();
}

function clearFieldErrors(form) {
  for (const note of form.querySelectorAll(".field-error")) note.remove();
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    if (input.dataset.describedby !== undefined) input.setAttribute("aria-describedby", input.dataset.describedby);
  }
}

/** The field a refusal names (`details` "field: message"), and its message. */
function invalidField(reply) {
  const match = /^([\w.\[\]]+):\s*(.*)$/.exec((reply.body && reply.body.details) || "");
  return (reply.status === 422 || reply.status === 400) && match ? { field: match[1], message: match[2] } : null;
}

/** The action the confirmation step (`#confirm`) asks about, set by `confirmThen`. */
let confirmed = null;

/** Asks before an action that cannot be undone: `run` is done if the person confirms. */
function confirmThen(title, text, yes, run) {
  say("confirm-title", title);
  say("confirm-text", text);
  say("confirm-yes", yes);
  say("confirm-error", "");
  confirmed = run;
  show("confirm");
}
