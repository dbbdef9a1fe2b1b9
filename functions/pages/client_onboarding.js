// The client onboarding page behind a client's `link`: the token is the URL's last segment.
const token = decodeURIComponent(location.pathname.split("/").pop() || "");
const FIELDS = { "first-name": "first_name", "last-name": "last_name", "company-name": "company_name", phone: "phone" };
const LABELS = { first_name: "First name", last_name: "Last name", company_name: "Company", phone: "Phone" };

function finished(client, campaign) {
  say("done-text", "Your onboarding for " + campaign.name + " is complete. Thank you" + (client.first_name ? ", " + client.first_name : "") + ". You can close this page.");
  show("done");
}

if (data.state === "unknown") {
  say("closed-title", "This onboarding link is not valid");
  say("closed-text", "The link may be incomplete or no longer in use. Ask the company that sent it for a new link.");
  show("closed");
} else if (data.state === "completed") {
  finished(data.client, data.campaign);
} else {
  say("details-title", "Welcome to " + data.campaign.name);
  const asker = data.owner || "The company that sent you this link";
  say("details-asker", asker + " asks you to check your details for " + data.campaign.name + ", complete what is missing, and confirm.");
  say("asker-name", data.owner || "them");
  say("email", data.client.email);
  for (const [id, field] of Object.entries(FIELDS)) $(id).value = data.client[field] || "";
  show("details");
  action($("details-form"), "details-error", async () => {
    // Every field is sent: one the client emptied is cleared, not kept.
    const body = {};
    for (const [id, field] of Object.entries(FIELDS)) body[field] = $(id).value.trim();
    clearFieldErrors($("details-form"));
    for (const id of ["first-name", "last-name"]) {
      if (!body[FIELDS[id]]) return fieldError($(id), "Enter your " + LABELS[FIELDS[id]].toLowerCase() + ".");
    }
    const reply = await api("POST", "/c/" + encodeURIComponent(token) + "/complete", body);
    if (reply.status === 200) return finished(reply.body.client, data.campaign);
    const invalid = invalidField(reply);
    const id = invalid && Object.keys(FIELDS).find((key) => FIELDS[key] === invalid.field);
    if (id) return fieldError($(id), LABELS[invalid.field] + ": " + invalid.message);
    say("details-error", problem(reply));
  });
}
