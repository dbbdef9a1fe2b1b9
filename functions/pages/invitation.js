// The invitation page: the emailed link's token is in the URL (never sent anywhere but the API).
const token = new URLSearchParams(location.search).get("token") || "";
const invitation = data.invitation;

const CLOSED = {
  unknown: ["This invitation link is not valid", "The link may be incomplete, or it was replaced by a newer invitation email. Open the most recent email, or ask the person who invited you to send the invitation again."],
  expired: ["This invitation has expired", "Ask {inviter} to send the invitation again: the new email has a fresh link."],
  revoked: ["This invitation was withdrawn", "{inviter} withdrew it. Ask them to send a new invitation if you still want to connect."],
  declined: ["This invitation was declined", "It can no longer be accepted. Ask {inviter} to send a new invitation if you change your mind."],
  accepted: ["This invitation was already accepted", "The connection with {inviter} exists."],
};

function onboardingLink(linkId, paragraphId, accepted) {
  const buyer = invitation.relationship_type === "buyer" || invitation.relationship_type === "both";
  if (!buyer) return;
  $(linkId).href = "/buyer-onboarding?invitation_id=" + encodeURIComponent(accepted.invitation.id);
  $(paragraphId).hidden = false;
}

/** For a partner invited to send leads: where its instructions are (its connection, on the
 *  dashboard). */
function sourcesLink(linkId, paragraphId, accepted) {
  const source = invitation.relationship_type === "seller" || invitation.relationship_type === "both";
  if (!source || !accepted.connection) return;
  $(linkId).href = "/dashboard#connection/" + encodeURIComponent(accepted.connection.id);
  $(paragraphId).hidden = false;
}

function closed(state) {
  const [title, text] = CLOSED[state] || CLOSED.unknown;
  const inviter = invitation ? invitation.inviter.name : "the inviter";
  say("closed-title", title);
  say("closed-text", text.replace("{inviter}", inviter));
  if (state === "accepted") {
    $("closed-accepted").hidden = false;
    if (invitation) onboardingLink("closed-onboarding-link", "closed-onboarding", { invitation });
  }
  show("closed");
}

/** Answers through the link; `asSignedIn`: for the signed-in person's account (session and CSRF
 *  token), which the API allows for a link to an address without an account. */
async function answer(body, alertId, asSignedIn) {
  const sent = Object.assign({ token }, body);
  const reply = asSignedIn ? await asPerson("POST", "/invitations/claim", sent) : await api("POST", "/invitations/claim", sent);
  if (reply.status === 201) {
    apiKey.set(reply.body.api_key);
    say("created-partner", invitation.inviter.name);
    say("created-key", reply.body.api_key);
    const buyer = invitation.relationship_type !== "seller";
    say("created-next", buyer
      ? "Set up how you receive leads from " + invitation.inviter.name + ". The page opens in this tab and remembers your key until you close it."
      : invitation.inviter.name + " can now send you their flows' details; use your API key to call the API.");
    onboardingLink("created-onboarding-link", "created-onboarding", reply.body);
    sourcesLink("created-sources-link", "created-sources", reply.body);
    return show("created");
  }
  if (reply.status === 200 && reply.body.connection) {
    say("accepted-text", "You are now connected with " + invitation.inviter.name + ".");
    onboardingLink("accepted-onboarding-link", "accepted-onboarding", reply.body);
    sourcesLink("accepted-sources-link", "accepted-sources", reply.body);
    return show("accepted");
  }
  if (reply.status === 200) {
    say("declined-text", invitation.inviter.name + " will see that you declined. Nothing was connected.");
    return show("declined");
  }
  if (reply.status === 409 || reply.status === 410 || reply.status === 404) {
    const details = (reply.body && reply.body.details) || "";
    const state = reply.status === 410 ? "expired" : reply.status === 404 ? "unknown" : ["accepted", "declined", "revoked"].find((s) => details.includes(s));
    if (state) return closed(state);
  }
  say(alertId, problem(reply));
}

if (data.state !== "pending" || !token) {
  closed(token ? data.state : "unknown");
} else {
  say("open-title", invitation.inviter.name + " invites you to connect");
  say("open-summary", invitation.inviter.name + " invites you to connect " + (ROLES[invitation.relationship_type] || "") + ".");
  say("open-invitee", [invitation.invitee_account && invitation.invitee_account.name, invitation.invitee_email].filter(Boolean).join(", "));
  say("open-expires", new Date(invitation.expires_at).toLocaleString(undefined, { dateStyle: "long", timeStyle: "short" }));
  if (data.answers_for) {
    say("existing-account", data.answers_for);
    $("existing").hidden = false;
  } else {
    $("create").hidden = false;
    if (data.person) {
      say("as-person-email", data.person.email);
      say("as-person-account", data.person.account);
      say("as-person-account-button", data.person.account);
      $("as-person").hidden = false;
      action($("accept-as-person"), "open-error", () => answer({ answer: "accept" }, "open-error", true));
    }
  }
  show("open");
  action($("accept"), "open-error", () => answer({ answer: "accept" }, "open-error"));
  // Declining cannot be undone: it is asked once more.
  for (const id of ["decline", "decline-new"]) {
    $(id).addEventListener("click", () => {
      say("confirm-decline-title", "Decline the invitation from " + invitation.inviter.name + "?");
      say("confirm-decline-text", invitation.inviter.name + " will see that you declined, and this link stops working. They can send a new invitation.");
      show("confirm-decline");
    });
  }
  action($("confirm-decline-yes"), "confirm-decline-error", () => answer({ answer: "decline" }, "confirm-decline-error"));
  $("confirm-decline-no").addEventListener("click", () => show("open"));
  action($("create"), "open-error", () => {
    const accountName = $("account-name").value.trim();
    const name = $("user-name").value.trim();
    if (!accountName || !name) {
      say("open-error", "Enter your company name and your name.");
      (accountName ? $("user-name") : $("account-name")).focus();
      return;
    }
    return answer({ account_name: accountName, name }, "open-error");
  });
}

copyButton("copy", "created-key", "copy-status");
