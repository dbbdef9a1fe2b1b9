// The buyer onboarding (seed 000's modal): resumes from whatever the onboard holds. Calls the
// API as the signed-in person (session cookie and this page's CSRF token) or, for someone not
// signed in, with the account's API key, typed once and kept for this tab (sessionStorage).
const invitationId = new URLSearchParams(location.search).get("invitation_id") || "";
let key = apiKey.get();
let account = null;
let onboard = null;
/** The connection being set up, once read (the finished page links to it). */
let connectionId = "";

function stop(title, text) {
  say("stopped-title", title);
  say("stopped-text", text);
  show("stopped");
}

/** A call as the signed-in person, else with the key; a refused key asks for it again. */
async function call(method, path, body, headers) {
  if (data.person) {
    const reply = await asPerson(method, path, body, headers);
    if (reply.status !== 401) return reply;
    stop("Your session has ended", "Sign in again, then reopen this page from your dashboard or the invitation email.");
    return null;
  }
  const reply = await api(method, path, body, key, headers);
  if (reply.status === 401) {
    apiKey.forget();
    key = null;
    show("key");
    fieldError($("api-key"), "That API key was not accepted. Check it (it starts with sk_live_) and try again.");
    return null;
  }
  return reply;
}

const version = (reply) => ({ "if-match": reply.etag || '"' + reply.body.version + '"' });

async function start() {
  if (!/^[0-9a-fA-F]{24}$/.test(invitationId)) {
    return stop("This link is incomplete", "Open the onboarding from the invitation you accepted: its link names the invitation.");
  }
  if (!key && !data.person) return show("key");
  const me = await call("GET", "/account");
  if (!me) return;
  if (me.status !== 200) return stop("Something went wrong", problem(me));
  account = me.body;
  $("api-key").value = "";
  const connection = await call("GET", "/connections/" + invitationId);
  if (!connection) return;
  if (connection.status === 404) return stop("No connection to set up", "This invitation was not accepted by your account. Accept it from the invitation email first.");
  if (connection.status !== 200) return stop("Something went wrong", problem(connection));
  connectionId = connection.body.id;
  const found = await call("GET", "/onboards?invitation_id=" + invitationId);
  if (!found) return;
  if (found.status !== 200) return stop("Something went wrong", problem(found));
  if (found.body.length) {
    onboard = found.body[0];
    return route(onboard, connection.body);
  }
  if (connection.body.buyer_delivery_configured) return done(connection.body.connected_account.name, "/flows/" + connection.body.buyer_flow_id);
  return chooseFlow(connection.body);
}

function route(current, connection) {
  onboard = current;
  const partner = connection.connected_account.name;
  if (current.status === "completed" || current.status === "completed_flows_sync") {
    if (current.setup_status === "succeeded") return done(partner, current.redirect);
    return poll(partner);
  }
  if (current.status === "failed") {
    say("failed-text", current.setup_error || "The buyer setup failed.");
    return show("failed");
  }
  return chooseFlow(connection);
}

async function chooseFlow(connection) {
  const partner = connection.connected_account.name;
  say("flow-title", "Where should leads from " + partner + " go?");
  const choices = $("flow-choices");
  choices.textContent = "";
  const option = (value, text, checked) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "flow";
    input.value = value;
    input.checked = checked;
    label.append(input, document.createTextNode(" " + text));
    choices.append(label);
  };
  option("", "A new flow for leads from " + partner, true);
  const paid = account.plan === "paid";
  $("flow-free").hidden = paid;
  if (paid) {
    const flows = await call("GET", "/flows?limit=100");
    if (!flows) return;
    for (const flow of flows.status === 200 ? flows.body : []) option(flow.id, flow.name, onboard && onboard.flow_id === flow.id);
  }
  show("flow");
  const form = $("flow-form");
  form.onsubmit = async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    say("flow-error", "");
    try {
      const picked = form.querySelector("input[name=flow]:checked");
      await complete(connection, picked && picked.value ? picked.value : null);
    } finally {
      button.disabled = false;
    }
  };
}

/** Seed 000: the onboard is created, moved to in_progress with the flow, then completed; a buyer
 * whose account already finished an onboard before calls the setup directly (POST /onboard/buyer). */
async function complete(connection, flowId) {
  if (!onboard && (await finishedBefore())) {
    const setup = await call("POST", "/onboard/buyer", flowId ? { invitation_id: invitationId, flow_id: flowId } : { invitation_id: invitationId });
    if (!setup) return;
    if (setup.status === 200) return done(connection.connected_account.name, setup.body.redirect);
    return say("flow-error", problem(setup));
  }
  if (!onboard) {
    const created = await call("POST", "/onboards", { invitation_id: invitationId }, { "idempotency-key": "buyer-onboarding-" + invitationId });
    if (!created) return;
    if (created.status !== 201) return say("flow-error", problem(created));
    onboard = created.body;
    onboard.etag = created.etag;
  }
  const base = { invitation_id: invitationId, connection_id: onboard.connection_id };
  let reply = await call("PUT", "/onboards/" + onboard.id, Object.assign({ status: "in_progress" }, flowId ? { flow_id: flowId } : {}, base), { "if-match": '"' + onboard.version + '"' });
  if (!reply) return;
  if (reply.status !== 200) return say("flow-error", problem(reply));
  reply = await call("PUT", "/onboards/" + onboard.id, Object.assign({ status: "completed" }, base), version(reply));
  if (!reply) return;
  if (reply.status !== 200) return say("flow-error", problem(reply));
  onboard = reply.body;
  return poll(connection.connected_account.name);
}

async function finishedBefore() {
  const earlier = await call("GET", "/onboards?limit=100");
  return !!earlier && earlier.status === 200 && earlier.body.some((o) => o.setup_status === "succeeded");
}

async function poll(partner) {
  show("progress");
  for (let attempt = 0; attempt < 120; attempt++) {
    const reply = await call("GET", "/onboards/" + onboard.id);
    if (!reply) return;
    if (reply.status === 200) {
      onboard = reply.body;
      if (onboard.setup_status === "succeeded") return done(partner, onboard.redirect);
      if (onboard.setup_status === "failed" || onboard.status === "failed") {
        say("failed-text", onboard.setup_error || "The buyer setup failed.");
        return show("failed");
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  say("progress-text", "This is taking longer than usual. Reload the page to check again.");
}

function done(partner, redirect) {
  say("done-text", "Leads from " + partner + " now arrive in your buyer flow" + (redirect ? " (" + redirect.split("/").pop() + ")" : "") + ".");
  $("done-next").href = "/dashboard#connection/" + encodeURIComponent(connectionId);
  show("done");
}

action($("key-form"), "key-error", async () => {
  const typed = $("api-key").value.trim();
  if (!typed) {
    say("key-error", "Enter your API key.");
    return $("api-key").focus();
  }
  clearFieldErrors($("key-form"));
  key = typed;
  apiKey.set(typed);
  await start();
});

action($("retry"), "failed-error", async () => {
  const base = { invitation_id: invitationId, connection_id: onboard.connection_id, status: "completed" };
  const reply = await call("PUT", "/onboards/" + onboard.id, base, { "if-match": '"' + onboard.version + '"' });
  if (!reply) return;
  if (reply.status !== 200) return say("failed-error", problem(reply));
  onboard = reply.body;
  const connection = await call("GET", "/connections/" + invitationId);
  if (connection && connection.status === 200) await poll(connection.body.connected_account.name);
});

start();
