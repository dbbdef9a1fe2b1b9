// The dashboard: the signed-in person's connections and invitations, read and changed through
// the API with the session cookie and this page's CSRF token.


/** What the partner is to this account, in words. */
const PARTNER_ROLE = { buyer: "receives leads from you", seller: "sends leads to you", both: "exchanges leads with you both ways" };

/** A list item: its text, then its buttons. */
function item(text, buttons) {
  const li = document.createElement("li");
  li.append(document.createTextNode(text));
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

/** Asks before an action that cannot be undone; `run` answers a reply or null. */
let confirmed = null;
function confirmThen(title, text, yes, run) {
  say("confirm-title", title);
  say("confirm-text", text);
  say("confirm-yes", yes);
  confirmed = run;
  show("confirm");
}

async function load() {
  const [connections, received, sent] = await Promise.all([
    asPerson("GET", "/connections?limit=100"),
    asPerson("GET", "/invitations?direction=received&status=pending&limit=100"),
    asPerson("GET", "/invitations?direction=sent&status=pending&limit=100"),
  ]);
  for (const reply of [connections, received, sent]) {
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
  fill("active", active.map((c) => item(
    c.connected_account.name + " " + (PARTNER_ROLE[c.relationship_type] || "") + " (since " + longDate(c.created_at) + ").",
    [["Revoke", () => confirmThen("Revoke the connection with " + c.connected_account.name + "?",
      "From now on no lead goes between you and " + c.connected_account.name + ": their submissions are refused and deliveries to them stop. Both of you keep what was exchanged. To connect again, one of you sends a new invitation.",
      "Revoke connection", () => asPerson("DELETE", "/connections/" + c.id)), true]])), "No connections yet: invite a partner above.");
  fill("sent", sent.body.map((inv) => item(
    (inv.invitee_account ? inv.invitee_account.name : inv.invitee_email) + " " + (PARTNER_ROLE[inv.relationship_type] || "") + ", invited " + longDate(inv.created_at) + ", waiting for an answer until " + longDate(inv.expires_at) + ".")), "None waiting for an answer.");
  fill("former", former.map((c) => item(c.connected_account.name + ", revoked " + longDate(c.revoked_at) + ".")), "None.");
  show("home");
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
  $("confirm-no").addEventListener("click", () => show("home"));
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
