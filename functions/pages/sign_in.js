// The sign-in page: asks for an address; the server emails the link (or says nothing more).
if (data.signed_in_as) {
  say("already-email", data.signed_in_as);
  show("already");
} else {
  show("ask");
  action($("ask-form"), "ask-error", async () => {
    const email = $("email").value.trim();
    if (!email || !email.includes("@")) {
      $("email").setAttribute("aria-invalid", "true");
      say("ask-error", "Enter your email address, like name@company.com.");
      return $("email").focus();
    }
    $("email").removeAttribute("aria-invalid");
    const reply = await api("POST", "/sign-in", { email });
    if (reply.status !== 202) {
      if (reply.status === 422) $("email").setAttribute("aria-invalid", "true");
      return say("ask-error", reply.status === 422 ? "That does not look like an email address. Check it and try again." : problem(reply));
    }
    say("sent-text", "If an account uses " + email + ", a sign-in link is on its way there. It works once, for 15 minutes.");
    show("sent");
  });
}
