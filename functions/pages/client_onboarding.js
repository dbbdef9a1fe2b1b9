// The client onboarding page behind a client's `link`: the token is the URL's last segment.
const token = decodeURIComponent(location.pathname.split("/").pop() || "");
const FIELDS = { "first-name": "first_name", "last-name": "last_name", "company-name": "company_name", phone: "phone" };

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
  $("email").value = data.client.email;
  for (const [id, field] of Object.entries(FIELDS)) $(id).value = data.client[field] || "";
  show("details");
  action($("details-form"), "details-error", async () => {
    const body = {};
    for (const [id, field] of Object.entries(FIELDS)) {
      const value = $(id).value.trim();
      if (value) body[field] = value;
    }
    const reply = await api("POST", "/c/" + encodeURIComponent(token) + "/complete", body);
    if (reply.status === 200) return finished(reply.body.client, data.campaign);
    say("details-error", problem(reply));
  });
}
