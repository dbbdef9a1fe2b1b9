// The dashboard: the signed-in person's connections and invitations, read and changed through
// the API with the session cookie and this page's CSRF token.


/** What the partner is to this account, in words. */
const PARTNER_ROLE = { buyer: "receives leads from you", seller: "sends leads to you", both: "exchanges leads with you both ways" };

/** A list item: its text, a link (`[label, href]`) if any, then its buttons. */
function item(text, buttons, link) {
  const li = document.createElement("li");
  li.append(document.createTextNode(text));
  if (link) {
    const a = document.createElement("a");
    a.textContent = link[0];
    a.href = link[1];
    li.append(" ", a);
  }
  for (const [label, run, secondary] of buttons || []) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    if (secondary) button.className = "secondary";
    action(button, "list-error", run);
    li.append(" ", button);
  }
  return li;
}

function fill(listId, items, empty) {
  $(listId).replaceChildren(...(items.length ? items : [item(empty)]));
}

async function load() {
  const [connections, received, sent, flows, settings] = await Promise.all([
    asPerson("GET", "/connections?limit=100"),
    asPerson("GET", "/invitations?direction=received&status=pending&limit=100"),
    asPerson("GET", "/invitations?direction=sent&status=pending&limit=100"),
    asPerson("GET", "/flows?limit=100"),
    asPerson("GET", "/notification-settings"),
  ]);
  for (const reply of [connections, received, sent, flows, settings]) {
    if (reply.status === 401) return show("signed-out");
    if (reply.status !== 200) return say("list-error", problem(reply));
  }
  fill("received", received.body.map((inv) => item(
    inv.inviter.name + " invites you to connect " + (ROLES[inv.relationship_type] || "") + " (until " + longDate(inv.expires_at) + ").",
    [
      ["Accept", async () => { const r = await asPerson("POST", "/invitations/" + inv.id + "/accept"); return r.status === 200 ? load() : say("list-error", problem(r)); }],
      ["Decline", () => confirmThen("Decline the invitation from " + inv.inviter.name + "?",
        inv.inviter.name + " will see that you declined, and this invitation can no longer be accepted. They can send a new one.",
        "Decline", () => asPerson("POST", "/invitations/" + inv.id + "/decline")), true],
    ])), "None waiting for you.");
  const active = connections.body.filter((c) => c.status === "active");
  const former = connections.body.filter((c) => c.status !== "active");
  known = new Map(connections.body.map((c) => [c.id, c]));
  fill("active", active.map((c) => item(
    c.connected_account.name + " " + (PARTNER_ROLE[c.relationship_type] || "") + " (since " + longDate(c.created_at) + "). " + setupNote(c),
    [], ["Details", "#connection/" + c.id])), "No connections yet: invite a partner above.");
  fill("sent", sent.body.map((inv) => item(
    (inv.invitee_account ? inv.invitee_account.name : inv.invitee_email) + " " + (PARTNER_ROLE[inv.relationship_type] || "") + ", invited " + longDate(inv.created_at) + ", waiting for an answer until " + longDate(inv.expires_at) + ".")), "None waiting for an answer.");
  fill("former", former.map((c) => item(c.connected_account.name + ", revoked " + longDate(c.revoked_at) + ".", [], ["Details", "#connection/" + c.id])), "None.");
  knownFlows = new Map(flows.body.map((f) => [f.id, f]));
  $("change-emails").checked = settings.body.change_emails;
  fill("flows-list", flows.body.map((f) => item(f.name + (f.enabled ? "" : " (paused)") + ".", [], ["Report", "#flow/" + f.id])), "No flows yet.");
  report($("account-report"), "/reports/account", "your account");
  route();
}

/** The connections and flows last read, by id. */
let known = new Map();
let knownFlows = new Map();

/** Whether the partner sends leads to this account (so this account receives, as a buyer). */
const sendsToUs = (c) => c.relationship_type === "seller" || c.relationship_type === "both";
/** Whether this account sends leads to the partner. */
const weSend = (c) => c.relationship_type === "buyer" || c.relationship_type === "both";

/** Where a connection's delivery setup stands, in a sentence (empty when none applies). */
function setupNote(c) {
  if (c.status !== "active") return "";
  if (sendsToUs(c)) return c.buyer_delivery_configured ? "Delivery to you is set up." : "Delivery to you is not set up yet.";
  return "";
}

/** The dashboard's address says what it shows: `#connection/ID` one connection, else the lists
 *  (so the browser's Back button goes back to them). */
function route() {
  const match = /^#(connection|flow)\/([0-9a-fA-F]{24})$/.exec(location.hash);
  const c = match && match[1] === "connection" && known.get(match[2]);
  if (c) return showConnection(c);
  const f = match && match[1] === "flow" && knownFlows.get(match[2]);
  if (f) {
    say("flow-title", f.name);
    show("flow");
    return report($("flow-report"), "/reports/flows/" + f.id, f.name);
  }
  show("home");
}

const count = (n, one, many) => n + " " + (n === 1 ? one : many);

async function showConnection(c) {
  const name = c.connected_account.name;
  say("connection-title", name);
  say("connection-summary", name + " " + (PARTNER_ROLE[c.relationship_type] || "") + ". Connected since " + longDate(c.created_at)
    + (c.status === "active" ? "." : "; revoked " + longDate(c.revoked_at) + " by " + (c.revoked_by || "the partner") + "."));
  const figures = [
    ["Delivered and accepted", count(c.leads_delivered || 0, "lead", "leads")],
    ["Rejected by the buyer's rules", count(c.leads_rejected || 0, "lead", "leads")],
    ["Could not be delivered", count(c.leads_failed || 0, "lead", "leads")],
    ["Last delivery", c.last_delivery_at ? longDate(c.last_delivery_at) : "none yet"],
  ];
  $("figures").replaceChildren(...figures.flatMap(([term, value]) => {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = term;
    dd.textContent = value;
    return [dt, dd];
  }));
  $("setup-block").hidden = c.status !== "active" || !(sendsToUs(c) || weSend(c));
  $("setup-link").hidden = true;
  if (sendsToUs(c) && !c.buyer_delivery_configured) {
    say("setup-text", "Leads from " + name + " reach you once you choose the flow that receives them.");
    $("setup-link").href = "/buyer-onboarding?invitation_id=" + encodeURIComponent(c.invitation_id);
    $("setup-link").hidden = false;
  } else if (sendsToUs(c)) {
    say("setup-text", "Set up on " + longDate(c.buyer_delivery_configured_at) + ": leads from " + name + " arrive in your flow.");
  } else {
    say("setup-text", name + " sets up on its side how it receives your leads; your buyer steps deliver to it once it has.");
  }
  report($("connection-report"), "/reports/connections/" + c.id, "the leads between you and " + name);
  $("resend-block").hidden = c.status !== "active" || !sendsToUs(c);
  say("resend-status", "");
  fillNotes(c.documentation);
  $("revoke-block").hidden = c.status !== "active";
  show("connection");
  $("flows-block").hidden = true;
  if (c.status === "active" && weSend(c)) {
    const reply = await asPerson("GET", "/connections/" + c.id + "/submission-docs");
    if (reply.status !== 200) return say("notes-error", problem(reply));
    $("flows").replaceChildren(...(reply.body.flows.length ? reply.body.flows.map((f) => {
      const li = document.createElement("li"), a = document.createElement("a");
      a.href = new URL(f.docs_url).pathname;
      a.textContent = "How to send leads to " + f.flow.name + (f.enabled ? "" : " (paused by " + name + ")");
      li.append(a);
      return li;
    }) : [item(name + " has not opened a flow to you yet.")]));
    $("flows-block").hidden = false;
  }
}

const CONTACT_FIELDS = [["name", "Name", "text", "name"], ["email", "Email", "email", "email"], ["phone", "Phone", "tel", "tel"], ["role", "Role", "text", "off"]];

/** One contact's inputs, ids `contact-N-field`. */
function contactRow(contact) {
  const row = document.createElement("div");
  row.className = "contact";
  const n = $("contacts").children.length;
  for (const [field, label, type, autocomplete] of CONTACT_FIELDS) {
    const l = document.createElement("label"), input = document.createElement("input");
    input.id = "contact-" + n + "-" + field;
    input.type = type;
    input.autocomplete = autocomplete;
    input.value = (contact && contact[field]) || "";
    input.setAttribute("aria-describedby", "notes-error");
    l.htmlFor = input.id;
    l.textContent = label + (field === "name" ? "" : " (optional)");
    row.append(l, input);
  }
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "secondary";
  remove.textContent = "Remove this contact";
  remove.addEventListener("click", () => { row.remove(); renumber(); });
  row.append(remove);
  $("contacts").append(row);
}

/** Keeps the inputs' ids in step with their position (errors name `contacts[N]`). */
function renumber() {
  [...$("contacts").children].forEach((row, n) => {
    for (const input of row.querySelectorAll("input")) {
      const field = input.id.split("-").pop();
      input.id = "contact-" + n + "-" + field;
      input.previousElementSibling.htmlFor = input.id;
    }
  });
}

function fillNotes(documentation) {
  const d = documentation || {};
  $("purpose").value = d.purpose || "";
  $("expected_volume").value = d.expected_volume || "";
  $("contacts").replaceChildren();
  for (const contact of d.contacts || []) contactRow(contact);
  say("notes-status", "");
  say("notes-error", "");
  clearFieldErrors($("notes"));
}

/** Puts a refused field's problem next to it (`contacts[1].email: …` names contact 2's email). */
function markInvalid(reply) {
  const invalid = invalidField(reply);
  const contact = invalid && /^contacts\[(\d+)\]\.(\w+)$/.exec(invalid.field);
  const input = invalid && (contact ? $("contact-" + contact[1] + "-" + contact[2]) : $(invalid.field));
  if (!input) return say("notes-error", problem(reply));
  const label = input.labels[0].textContent.replace(" (optional)", "");
  fieldError(input, label + (contact ? " of contact " + (Number(contact[1]) + 1) : "") + ": " + invalid.message);
}

/** The periods a report shows: [label, granularity, days]. */
const PERIODS = [["Last 7 days, by day", "day", 7], ["Last 48 hours, by hour", "hour", 2], ["Last 30 days, by day", "day", 30]];
const SVG = "http://www.w3.org/2000/svg";
const percent = (rate) => rate === null ? "–" : Math.round(rate * 100) + "%";
const dayOf = (ms) => new Date(ms).toISOString().slice(0, 10);

/** A bucket's label: its day, or its day and hour, in the reader's words. */
function bucketLabel(start, granularity) {
  const at = new Date(start);
  return granularity === "hour" ? at.toLocaleString(undefined, { day: "numeric", month: "short", hour: "numeric" }) : at.toLocaleDateString(undefined, { day: "numeric", month: "short" });
}

function element(name, attributes, text) {
  const node = name.startsWith("svg:") ? document.createElementNS(SVG, name.slice(4)) : document.createElement(name);
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A bar chart drawn in SVG (no script or style from elsewhere): one bar per bucket, `value`
 *  of `max`, its title the exact figure. The table after it has the same numbers. */
function barChart(title, buckets, value, max, format, granularity) {
  const width = 640, height = 110, gap = buckets.length > 20 ? 2 : 6, bar = (width - gap * buckets.length) / buckets.length;
  const svg = element("svg:svg", { viewBox: "0 0 " + width + " " + (height + 26), class: "chart", role: "img", "aria-label": title + ": the table below has each figure" });
  svg.append(element("svg:line", { x1: 0, y1: height, x2: width, y2: height, class: "axis" }));
  buckets.forEach((b, i) => {
    const v = value(b) || 0, h = max ? Math.max(v ? 2 : 0, (v / max) * (height - 4)) : 0;
    const rect = element("svg:rect", { x: (i * (bar + gap)).toFixed(1), y: (height - h).toFixed(1), width: bar.toFixed(1), height: h.toFixed(1), class: "bar" });
    rect.append(element("svg:title", {}, bucketLabel(b.start, granularity) + ": " + format(value(b))));
    svg.append(rect);
  });
  const first = element("svg:text", { x: 0, y: height + 22, class: "tick" }, bucketLabel(buckets[0].start, granularity));
  const last = element("svg:text", { x: width, y: height + 22, class: "tick", "text-anchor": "end" }, bucketLabel(buckets[buckets.length - 1].start, granularity));
  svg.append(first, last);
  const figure = element("figure", { class: "chart-figure" });
  figure.append(element("figcaption", {}, title), svg);
  return figure;
}

/** Reasons and how many, most first, as a list (empty: "none"). */
function reasonList(title, reasons) {
  const block = element("div");
  block.append(element("h3", {}, title));
  const entries = Object.entries(reasons).sort((a, b) => b[1] - a[1]);
  const list = element("ul");
  list.append(...(entries.length ? entries.map(([reason, n]) => element("li", {}, reason + ": " + count(n, "lead", "leads"))) : [element("li", {}, "None.")]));
  block.append(list);
  return block;
}

/** Fills `container` with the report at `path` (about `subject`) for the period chosen in it. */
async function report(container, path, subject) {
  if (!container.querySelector("select")) {
    const choose = element("label", { for: container.id + "-period" }, "Period");
    const select = element("select", { id: container.id + "-period" });
    PERIODS.forEach(([text], i) => select.append(element("option", { value: i }, text)));
    select.addEventListener("change", () => report(container, container.dataset.path, container.dataset.subject));
    container.replaceChildren(choose, select, element("div", { class: "report-body", "aria-live": "polite" }));
  }
  container.dataset.path = path;
  container.dataset.subject = subject;
  const [label, granularity, days] = PERIODS[Number(container.querySelector("select").value)];
  const body = container.querySelector(".report-body");
  const to = dayOf(Date.now()), from = dayOf(Date.now() - (days - 1) * 86400000);
  const reply = await asPerson("GET", path + "?granularity=" + granularity + "&from=" + from + "&to=" + to);
  if (reply.status !== 200) return body.replaceChildren(element("p", { role: "alert" }, problem(reply)));
  const r = reply.body, t = r.total, buckets = r.buckets;
  const settled = t.delivered + t.buyer_rejected + t.failed;
  const summary = element("p", {}, label + ": " + count(t.submitted, "lead", "leads") + " came in (" + t.accepted + " accepted, " + t.rejected + " rejected); "
    + count(t.delivered, "delivery", "deliveries") + " accepted by buyers, " + t.buyer_rejected + " rejected by buyers, " + t.failed + " failed, " + t.skipped + " not attempted"
    + (settled ? "; success rate " + percent(t.success_rate) + "." : "."));
  const maxVolume = Math.max(1, ...buckets.map((b) => Math.max(b.submitted, b.delivered)));
  const charts = element("div", { class: "charts" });
  charts.append(
    barChart("Leads in", buckets, (b) => b.submitted, maxVolume, (v) => count(v, "lead", "leads"), granularity),
    barChart("Delivered to buyers", buckets, (b) => b.delivered, maxVolume, (v) => count(v, "lead", "leads"), granularity),
    barChart("Success rate", buckets, (b) => b.success_rate, 1, percent, granularity),
  );
  const speed = element("p", {}, t.processing_p50_ms === null && !settled ? "Processing time: nothing delivered yet."
    : "Processing time, submission to buyer answer: half within " + (t.processing_p50_ms === null ? "more than 5 minutes" : t.processing_p50_ms + " ms")
      + ", 95% within " + (t.processing_p95_ms === null ? "more than 5 minutes" : t.processing_p95_ms + " ms") + ".");
  const table = element("table", { class: "report-table" });
  table.append(element("caption", {}, "Each " + granularity + " of " + subject));
  const head = element("tr");
  for (const h of ["When", "In", "Accepted", "Rejected", "Delivered", "Rejected by buyers", "Failed", "Not attempted", "Success rate"]) head.append(element("th", { scope: "col" }, h));
  table.append(element("thead"), element("tbody"));
  table.tHead.append(head);
  for (const b of buckets) {
    const row = element("tr");
    row.append(element("th", { scope: "row" }, bucketLabel(b.start, granularity)));
    for (const v of [b.submitted, b.accepted, b.rejected, b.delivered, b.buyer_rejected, b.failed, b.skipped, percent(b.success_rate)]) row.append(element("td", {}, String(v)));
    table.tBodies[0].append(row);
  }
  const numbers = element("details");
  numbers.append(element("summary", {}, "The numbers behind the charts"), element("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Each " + granularity + " of " + subject }, undefined));
  numbers.lastChild.append(table);
  body.replaceChildren(summary, charts, speed, reasonList("Why leads were rejected", t.rejected_by_reason), reasonList("Why buyers rejected them", t.buyer_rejected_by_reason), reasonList("Why deliveries failed", t.failed_by_reason), reasonList("Why buyer steps were not attempted", t.skipped_by_reason), numbers);
}

asSignedIn(() => {
  action($("invite"), "invite-error", async () => {
    const email = $("invite-email").value.trim();
    const relationship = document.querySelector("input[name=relationship]:checked").value;
    say("invite-status", "");
    if (!email || !email.includes("@")) {
      $("invite-email").setAttribute("aria-invalid", "true");
      say("invite-error", "Enter your partner's email address, like name@company.com.");
      return $("invite-email").focus();
    }
    $("invite-email").removeAttribute("aria-invalid");
    const reply = await asPerson("POST", "/invitations", { email, relationship_type: relationship });
    if (reply.status !== 200 && reply.status !== 201) return say("invite-error", problem(reply));
    $("invite-email").value = "";
    say("invite-status", "Invitation sent to " + email + ".");
    await load();
  });
  action($("confirm-yes"), "confirm-error", async () => {
    const reply = await confirmed();
    if (reply.status !== 200 && reply.status !== 204) return say("confirm-error", problem(reply));
    await load();
  });
  $("confirm-no").addEventListener("click", () => route());
  window.addEventListener("hashchange", route);
  $("add-contact").addEventListener("click", () => { contactRow(null); $("contacts").lastElementChild.querySelector("input").focus(); });
  action($("notes"), "notes-error", async () => {
    const c = known.get(location.hash.split("/")[1]);
    const contacts = [...$("contacts").children].map((row) => Object.fromEntries([...row.querySelectorAll("input")].map((i) => [i.id.split("-").pop(), i.value])));
    const reply = await asPerson("PUT", "/connections/" + c.id + "/documentation", { purpose: $("purpose").value, expected_volume: $("expected_volume").value, contacts });
    if (reply.status !== 200) return markInvalid(reply);
    clearFieldErrors($("notes"));
    known.set(c.id, reply.body);
    fillNotes(reply.body.documentation);
    say("notes-status", "Notes saved.");
  });
  action($("notify"), "notify-error", async () => {
    const change_emails = $("change-emails").checked;
    const reply = await asPerson("PUT", "/notification-settings", { change_emails });
    if (reply.status !== 200) return say("notify-error", problem(reply));
    say("notify-status", reply.body.change_emails ? "Saved: you will be emailed about changes." : "Saved: you will not be emailed about changes.");
  });
  action($("resend"), "resend-error", async () => {
    const c = known.get(location.hash.split("/")[1]);
    const reply = await asPerson("POST", "/connections/" + c.id + "/submission-docs/resend");
    if (reply.status === 429) return say("resend-error", "They were sent the instructions less than a minute ago. Try again in a minute.");
    if (reply.status !== 200) return say("resend-error", problem(reply));
    say("resend-status", "Sent to " + count(reply.body.recipients, "person", "people") + " at " + c.connected_account.name + ", listing " + count(reply.body.flows, "flow", "flows") + ".");
  });
  action($("revoke"), "notes-error", async () => {
    const c = known.get(location.hash.split("/")[1]);
    confirmThen("Revoke the connection with " + c.connected_account.name + "?",
      "From now on no lead goes between you and " + c.connected_account.name + ": their submissions are refused and deliveries to them stop. Both of you keep what was exchanged. To connect again, one of you sends a new invitation.",
      "Revoke connection", () => asPerson("DELETE", "/connections/" + c.id));
  });
  for (const [id, everywhere] of [["sign-out", false], ["sign-out-everywhere", true]]) {
    action($(id), "home-error", async () => {
      const reply = await asPerson("POST", "/sign-out", { everywhere });
      if (reply.status !== 200) return say("home-error", problem(reply));
      say("goodbye-text", everywhere ? "Every session of yours has ended, on every device." : "Your session on this device has ended.");
      show("goodbye");
    });
  }
  load();
});
