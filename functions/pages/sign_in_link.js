// The emailed link's page: opening it changes nothing; the button uses the link (once).
const token = new URLSearchParams(location.search).get("token") || "";

const CLOSED = {
  unknown: ["This sign-in link cannot be used", "Each link works once, and only the newest one you were sent. Ask for a new one."],
  expired: ["This sign-in link has expired", "Links work for 15 minutes. Ask for a new one."],
};

function closed(state) {
  const [title, text] = CLOSED[state] || CLOSED.unknown;
  say("closed-title", title);
  say("closed-text", text);
  show("closed");
}

if (data.state !== "valid" || !token) {
  closed(token ? data.state : "unknown");
} else {
  say("valid-email", data.email);
  show("valid");
  action($("go"), "valid-error", async () => {
    const reply = await api("POST", "/sign-in/link", { token }, undefined, undefined, "same-origin");
    if (reply.status === 200) return location.assign(reply.body.next);
    if (reply.status === 404 || reply.status === 410) return closed(reply.status === 410 ? "expired" : "unknown");
    say("valid-error", problem(reply));
  });
}
