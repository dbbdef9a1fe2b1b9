// Settings → APIs and keys: the account's API keys, listed, made (shown once) and revoked
// through the API with the session cookie and this page's CSRF token.

async function load() {
  const reply = await asPerson("GET", "/api-keys");
  if (reply.status === 401) return show("signed-out");
  if (reply.status !== 200) return say("list-error", problem(reply));
  const items = reply.body.map((key) => {
    const li = document.createElement("li");
    const state = key.revoked_at ? "revoked " + longDate(key.revoked_at) : "in use";
    li.append(document.createTextNode(key.prefix + "… of " + key.user_email + ", made " + longDate(key.created_at) + ", " + state + "."));
    if (!key.revoked_at) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = "Revoke";
      button.setAttribute("aria-label", "Revoke " + key.prefix + "…");
      button.addEventListener("click", () => confirmThen("Revoke the key " + key.prefix + "…?",
        "Programs using it are refused from their next request. This cannot be undone: make a new key for them if they still need one. Your sign-in is not affected.",
        "Revoke key", () => asPerson("DELETE", "/api-keys/" + key.id)));
      li.append(" ", button);
    }
    return li;
  });
  $("keys").replaceChildren(...items);
  show("home");
}

asSignedIn(() => {
  action($("create"), "create-error", async () => {
    const reply = await asPerson("POST", "/api-keys", {});
    if (reply.status !== 201) return say("create-error", problem(reply));
    say("created-key", reply.body.api_key);
    say("copy-status", "");
    $("created").hidden = false;
    await load();
  });
  copyButton("copy", "created-key", "copy-status");
  action($("confirm-yes"), "confirm-error", async () => {
    const reply = await confirmed();
    if (reply.status !== 204) return say("confirm-error", problem(reply));
    await load();
  });
  $("confirm-no").addEventListener("click", () => show("home"));
  load();
});
