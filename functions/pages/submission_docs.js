// Submission instructions for a source (seed 002): the same URL answers the page and, asked for
// JSON with the source's own API key, the instructions, which this script shows.
let key = apiKey.get();

function stop(title, text) {
  say("stopped-title", title);
  say("stopped-text", text);
  show("stopped");
}

function render(docs) {
  say("docs-title", "Sending leads to " + docs.flow.name + " as " + docs.source.name);
  say("docs-url", docs.submit_url);
  say("docs-method", docs.method);
  say("docs-auth", docs.authentication);
  say("docs-types", docs.content_types.join(" or "));
  say("docs-response", docs.response);
  say("docs-curl", docs.example.curl);
  const rows = $("docs-fields").querySelector("tbody");
  rows.replaceChildren();
  for (const field of docs.fields) {
    const row = rows.insertRow();
    for (const text of [field.name, field.type, field.required ? "yes" : "no"]) row.insertCell().textContent = text;
  }
  $("docs-fields").hidden = docs.fields.length === 0;
  const criteria = docs.acceptance_criteria || { required: [], rules: [] };
  const quoted = (values) => values.map((v) => "“" + v + "”").join(", ");
  const rules = [
    ...criteria.required.map((field) => field + " must be present and not blank."),
    ...criteria.rules.map((r) => r.operator === "is_one_of" ? r.field + " must be one of " + quoted(r.values) + "." : r.field + " must not be any of " + quoted(r.values) + "."),
  ];
  $("docs-rules").replaceChildren(...rules.map((text) => { const li = document.createElement("li"); li.textContent = text; return li; }));
  $("docs-rules-block").hidden = rules.length === 0;
  $("docs-any-field").hidden = docs.fields.length !== 0;
  show("docs");
}

async function start() {
  if (!key && !data.person) return show("key");
  const reply = key ? await api("GET", location.pathname, undefined, key) : await asPerson("GET", location.pathname);
  if (reply.status === 401 && !key) return show("key");
  if (reply.status === 401) {
    apiKey.forget();
    key = null;
    say("key-error", "That API key was not accepted. Check it and try again.");
    return show("key");
  }
  if (reply.status === 404) return stop("No instructions here", "This flow does not take leads from your account: the link is wrong, or the connection was revoked.");
  if (reply.status !== 200) return stop("Something went wrong", problem(reply));
  render(reply.body);
}

action($("key-form"), "key-error", async () => {
  const typed = $("api-key").value.trim();
  if (!typed) return say("key-error", "Enter your API key.");
  key = typed;
  apiKey.set(key);
  await start();
});

action($("copy-curl"), "copy-status", async () => {
  try {
    await navigator.clipboard.writeText($("docs-curl").textContent);
    say("copy-status", "Copied.");
  } catch (_) {
    say("copy-status", "Select the example and copy it.");
  }
});

start();
