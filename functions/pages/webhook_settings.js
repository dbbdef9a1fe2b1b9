// Settings → Webhooks: the endpoints we send events to (added, secrets rotated, deliveries and
// their attempts read and sent again, removed) and the provider integrations we receive from
// (added, events read, removed), through the API with the session and this page's CSRF token.
// A secret is shown once, on its own step, never kept.

const PROVIDERS = { "360onboard": "360onboard", incode: "Incode", "360dialog": "360dialog" };
let endpoints = new Map();
let integrations = new Map();

function button(label, run, ariaLabel, secondary = true) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (secondary) b.className = "secondary";
  if (ariaLabel) b.setAttribute("aria-label", ariaLabel);
  action(b, "list-error", run);
  return b;
}

function link(label, href, ariaLabel) {
  const a = document.createElement("a");
  a.textContent = label;
  a.href = href;
  if (ariaLabel) a.setAttribute("aria-label", ariaLabel);
  return a;
}

function listItem(text, ...controls) {
  const li = document.createElement("li");
  li.append(document.createTextNode(text));
  for (const control of controls) li.append(" ", control);
  return li;
}

/** Shows a secret once, with what goes with it. */
function showSecret(title, text, secret, details) {
  say("secret-title", title);
  say("secret-text", text);
  say("secret-value", secret);
  say("copy-status", "");
  $("secret-details").replaceChildren(...details.flatMap(([term, value]) => {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = term;
    dd.textContent = value;
    return [dt, dd];
  }));
  history.pushState(null, "", "#secret");
  show("secret");
}

async function load() {
  const [hooks, providers] = await Promise.all([asPerson("GET", "/api/v1/webhooks?limit=100"), asPerson("GET", "/integrations?limit=100")]);
  for (const reply of [hooks, providers]) {
    if (reply.status === 401) return show("signed-out");
    if (reply.status !== 200) return say("list-error", problem(reply));
  }
  endpoints = new Map(hooks.body.webhooks.map((e) => [e.id, e]));
  integrations = new Map(providers.body.map((i) => [i.id, i]));
  $("endpoints").replaceChildren(...(hooks.body.webhooks.length ? hooks.body.webhooks.map((e) => listItem(
    e.url + " — " + e.events.join(", ") + (e.status === "active" ? "" : " (disabled: " + (e.disabled_reason || "too many failures") + ")") + ", added " + longDate(e.created_at) + ".",
    link("Deliveries", "#endpoint/" + e.id, "Deliveries to " + e.url),
    button("Rotate secret", () => rotate(e), "Rotate secret of " + e.url),
    button("Remove", () => confirmThen("Remove the endpoint " + e.url + "?", "No more events are sent to it, including deliveries waiting for a retry. Add it again to get a new secret.", "Remove endpoint",
      () => asPerson("DELETE", "/api/v1/webhooks/" + e.id)), "Remove " + e.url),
  )) : [listItem("No endpoints yet.")]));
  $("integrations").replaceChildren(...(providers.body.length ? providers.body.map((i) => listItem(
    PROVIDERS[i.provider] + (i.name ? " — " + i.name : "") + ", posting to " + i.receive_url + ", added " + longDate(i.created_at) + ".",
    link("Events", "#integration/" + i.id, "Events from " + (i.name || PROVIDERS[i.provider])),
    button("Remove", () => confirmThen("Remove the " + PROVIDERS[i.provider] + " integration?", "Its receiving URL refuses every delivery from then on: the provider's events are no longer recorded.", "Remove integration",
      () => asPerson("DELETE", "/integrations/" + i.id)), "Remove the " + PROVIDERS[i.provider] + " integration " + (i.name || "")),
  )) : [listItem("No provider integrations yet.")]));
  route();
}

async function rotate(endpoint) {
  const reply = await asPerson("POST", "/api/v1/webhooks/" + endpoint.id + "/secrets", undefined, { "idempotency-key": "rotate-" + crypto.randomUUID() });
  if (reply.status !== 201) return say("list-error", problem(reply));
  showSecret("A new secret for " + endpoint.url, "It signs from now on; the previous one also signs for 24 hours, while you switch. It is shown only this once: copy it now.", reply.body.webhook.secret, [["Secrets in use", String(reply.body.webhook.active_secrets)]]);
}

/** The page's address says what it shows: `#endpoint/ID`, `#integration/ID`, else the lists. */
async function route() {
  const [kind, id] = location.hash.slice(1).split("/");
  if (kind === "endpoint" && endpoints.has(id)) return showDeliveries(endpoints.get(id));
  if (kind === "integration" && integrations.has(id)) return showEvents(integrations.get(id));
  say("secret-value", "");
  show("home");
}

async function showDeliveries(endpoint) {
  say("deliveries-title", "Deliveries to " + endpoint.url);
  say("deliveries-status", "");
  say("deliveries-error", "");
  const reply = await asPerson("GET", "/api/v1/webhooks/" + endpoint.id + "/deliveries?limit=50");
  if (reply.status !== 200) return say("deliveries-error", problem(reply));
  $("deliveries-list").replaceChildren(...(reply.body.deliveries.length ? reply.body.deliveries.map((d) => {
    const attempts = d.attempts.map((a) => dateTime(a.at) + ": " + (a.status_code ? "answered " + a.status_code : "failed (" + (a.error || "no answer") + ")") + " in " + a.duration_ms + " ms");
    const li = listItem(d.event + ", " + d.status + (d.replay_of ? " (sent again)" : "") + ", made " + dateTime(d.created_at) + ". ",
      button("Send again", async () => {
        const sent = await asPerson("POST", "/api/v1/webhooks/" + endpoint.id + "/deliveries/" + d.id + "/replay", undefined, { "idempotency-key": "replay-" + crypto.randomUUID() });
        if (sent.status !== 202) return say("deliveries-error", problem(sent));
        await showDeliveries(endpoint);
        say("deliveries-status", "Queued: the event is sent again as a new delivery.");
      }, "Send again: the " + d.event + " delivery of " + dateTime(d.created_at)));
    const ul = document.createElement("ul");
    ul.replaceChildren(...(attempts.length ? attempts : ["no attempt yet"]).map((text) => listItem(text)));
    li.append(ul);
    return li;
  }) : [listItem("Nothing sent to it yet.")]));
  show("deliveries");
}

async function showEvents(integration) {
  say("events-title", "Events from " + (integration.name || PROVIDERS[integration.provider]));
  const reply = await asPerson("GET", "/integrations/" + integration.id + "/events?limit=50");
  if (reply.status !== 200) return say("events-error", problem(reply));
  $("events-list").replaceChildren(...(reply.body.length ? reply.body.map((e) => listItem(
    e.event_type + (e.subject ? " for " + e.subject : "") + ", " + e.outcome + ", received " + dateTime(e.received_at) + ".")) : [listItem("Nothing received yet.")]));
  show("events");
}

asSignedIn(() => {
  action($("endpoint-form"), "endpoint-error", async () => {
    clearFieldErrors($("endpoint-form"));
    const url = $("endpoint-url").value.trim();
    const events = [...document.querySelectorAll("input[name=event]:checked")].map((i) => i.value);
    if (!url) return fieldError($("endpoint-url"), "Enter the URL we should post events to, like https://example.com/hooks.");
    if (!events.length) return say("endpoint-error", "Choose at least one event.");
    const reply = await asPerson("POST", "/api/v1/webhooks", { url, events }, { "idempotency-key": "endpoint-" + crypto.randomUUID() });
    const invalid = invalidField(reply);
    if (invalid && invalid.field === "url") return fieldError($("endpoint-url"), "URL: " + invalid.message);
    if (reply.status !== 201) return say("endpoint-error", problem(reply));
    $("endpoint-url").value = "";
    await load();
    showSecret("Endpoint added", "Check each delivery's webhook-signature with this secret. It is shown only this once: copy it now.", reply.body.webhook.secret, [["URL", url], ["Events", events.join(", ")]]);
  });
  action($("integration-form"), "integration-error", async () => {
    const provider = $("provider").value;
    const name = $("integration-name").value.trim();
    const reply = await asPerson("POST", "/integrations", name ? { provider, name } : { provider }, { "idempotency-key": "integration-" + crypto.randomUUID() });
    if (reply.status !== 201) return say("integration-error", problem(reply));
    $("integration-name").value = "";
    await load();
    showSecret(PROVIDERS[provider] + " integration added", "Give the provider this URL and secret. The secret is shown only this once: copy it now.", reply.body.secret,
      [["Receiving URL", reply.body.receive_url], ["Authentication", reply.body.authentication]]);
  });
  copyButton("copy", "secret-value", "copy-status");
  action($("confirm-yes"), "confirm-error", async () => {
    const reply = await confirmed();
    if (reply.status !== 204) return say("confirm-error", problem(reply));
    history.replaceState(null, "", location.pathname);
    await load();
  });
  $("confirm-no").addEventListener("click", () => route());
  window.addEventListener("hashchange", route);
  load();
});
