// The journeys people click through, in headless Chromium against a running infra/run:
// what the person sees at each step, then what the backend holds.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Stack, accessibilityProblems, browser, eventually, fitsSmallScreen, shot, webhookReceiver } from "./stack.mjs";

let stack;
let chromium;

before(async () => {
  [stack, chromium] = await Promise.all([Stack.start("pages"), browser()]);
});

after(async () => {
  await chromium?.close();
  await stack?.stop();
});

const heading = (page) => page.locator("section:not([hidden]) h1");

async function invite(seller, body) {
  const sent = await stack.api("POST", "/invitations", seller.key, body);
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  return sent.body;
}

test("a new partner claims the emailed invitation, keeps the key, and sets up delivery as a buyer", async () => {
  const seller = stack.account("Seller");
  const address = `new-buyer-${Date.now()}@example.com`;
  await invite(seller, { email: address, relationship_type: "buyer" });
  const link = await stack.invitationLink(address);
  const page = await chromium.newPage();
  await chromium.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.url });

  const response = await page.goto(link);
  assert.equal(response.status(), 200);
  assert.match(response.headers()["content-security-policy"], /script-src 'sha256-[^']+'; style-src 'sha256-/);
  assert.doesNotMatch(response.headers()["content-security-policy"], /unsafe-inline/);
  assert.equal(response.headers()["referrer-policy"], "no-referrer");
  await assert.doesNotReject(heading(page).filter({ hasText: `${seller.name} invites you to connect` }).waitFor());
  assert.match(await page.locator("#open-summary").textContent(), /as a buyer: you would receive leads from them/);
  assert.equal(await page.locator("#open-invitee").textContent(), address);
  await checkLayouts(page, "1-invitation-new-partner");

  // Keyboard only: the first tab stop is the company name; Enter submits.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "account-name");
  await page.keyboard.type("Buyer Browser Co");
  await page.keyboard.press("Tab");
  await page.keyboard.type("Bea Buyer");
  await page.keyboard.press("Enter");
  await heading(page).filter({ hasText: "Your account is ready" }).waitFor();
  const key = await page.locator("#created-key").textContent();
  assert.match(key, /^sk_live_[0-9a-f]{40}$/);
  assert.ok(!page.url().includes(key), "the key is never in a URL");
  await page.getByRole("button", { name: "Copy API key" }).click();
  await page.locator("#copy-status").filter({ hasText: /Copied|Selected/ }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
  await checkLayouts(page, "2-invitation-account-created");

  const account = await stack.api("GET", "/account", key);
  assert.deepEqual([account.status, account.body.name, account.body.plan], [200, "Buyer Browser Co", "free"]);
  const connections = await stack.api("GET", "/connections", key);
  assert.equal(connections.body[0].connected_account.id, seller.id);

  // The buyer onboarding, in the same tab: the key is remembered for it, never asked again.
  await page.getByRole("link", { name: "Set up how you receive their leads" }).click();
  await heading(page).filter({ hasText: `Where should leads from ${seller.name} go?` }).waitFor();
  assert.ok(!page.url().includes("sk_live"), "the key is never in a URL");
  assert.equal(await page.getByRole("radio").count(), 1, "a free account gets the default receiving flow");
  assert.ok(await page.locator("#flow-free").isVisible());
  await checkLayouts(page, "3-buyer-onboarding-flow");
  await page.getByRole("button", { name: "Set up delivery" }).click();
  await heading(page).filter({ hasText: "Delivery is set up" }).waitFor({ timeout: 60_000 });
  const redirect = "/flows/" + (await page.locator("#done-text").textContent()).match(/\(([0-9a-f]{24})\)/)[1];
  // The next step is a page a person can open: the connection on the dashboard.
  assert.match(await page.getByRole("link", { name: "See the connection on your dashboard" }).getAttribute("href"), /^\/dashboard#connection\/[0-9a-f]{24}$/);
  await checkLayouts(page, "4-buyer-onboarding-done");

  const invitationId = new URL(page.url()).searchParams.get("invitation_id");
  const onboards = await stack.api("GET", `/onboards?invitation_id=${invitationId}`, key);
  assert.deepEqual([onboards.body[0].status, onboards.body[0].setup_status, onboards.body[0].redirect], ["completed", "succeeded", redirect]);
  const flows = await stack.api("GET", "/flows", key);
  assert.equal(`/flows/${flows.body[0].id}`, redirect);
  const sellerEmails = await eventually("the seller's email", async () => (await stack.emailsTo(seller.email)).find((m) => m.subject.includes("set up to receive your leads")));
  assert.match(sellerEmails.subject, /Buyer Browser Co/);

  // Reloading resumes where the onboard is.
  await page.reload();
  await heading(page).filter({ hasText: "Delivery is set up" }).waitFor();
  assert.ok((await page.locator("#done-text").textContent()).includes(redirect.split("/").pop()));
  await page.close();

  // Neither the link's token nor the key is ever written into the product's logs.
  const logs = readFileSync(stack.log, "utf8");
  assert.ok(logs.includes("GET /invitations/claim"), "the page's requests are logged");
  assert.ok(!logs.includes(new URL(link).searchParams.get("token")) && !logs.includes(key), "no token or key in the logs");
});

test("an existing account accepts one invitation and declines another from the link alone", async () => {
  const buyer = stack.account("Buyer");
  const sellers = [stack.account("First"), stack.account("Second")];
  await invite(sellers[0], { email: buyer.email, relationship_type: "buyer" });
  const firstLink = await stack.invitationLink(buyer.email);
  await invite(sellers[1], { email: buyer.email, relationship_type: "seller" });
  const secondLink = await stack.invitationLink(buyer.email);
  const page = await chromium.newPage();

  await page.goto(firstLink);
  await heading(page).filter({ hasText: `${sellers[0].name} invites you to connect` }).waitFor();
  assert.equal(await page.locator("#existing-account").textContent(), buyer.name);
  assert.ok(!(await page.locator("#create").isVisible()), "no account to create");
  await checkLayouts(page, "5-invitation-existing-account");
  await page.getByRole("button", { name: "Accept invitation" }).click();
  await heading(page).filter({ hasText: "You are connected" }).waitFor();
  await checkLayouts(page, "6-invitation-accepted");
  const connections = await stack.api("GET", "/connections", buyer.key);
  assert.deepEqual(connections.body.map((c) => c.connected_account.id), [sellers[0].id]);

  await page.goto(secondLink);
  assert.match(await page.locator("#open-summary").textContent(), /as a source: you would send leads to them/);
  // Declining is asked once more, and going back changes nothing.
  await page.getByRole("button", { name: "Decline" }).first().click();
  await heading(page).filter({ hasText: `Decline the invitation from ${sellers[1].name}?` }).waitFor();
  await page.getByRole("button", { name: "Go back" }).click();
  await heading(page).filter({ hasText: `${sellers[1].name} invites you to connect` }).waitFor();
  assert.equal((await stack.api("GET", "/invitations?direction=received&status=pending", buyer.key)).body.length, 1);
  await page.getByRole("button", { name: "Decline" }).first().click();
  await page.getByRole("button", { name: "Decline", exact: true }).click();
  await heading(page).filter({ hasText: "Invitation declined" }).waitFor();
  await checkLayouts(page, "7-invitation-declined");
  const invitations = await stack.api("GET", "/invitations?direction=received&status=declined", buyer.key);
  assert.equal(invitations.body[0].inviter.id, sellers[1].id);

  // A used link says what became of the invitation.
  await page.goto(firstLink);
  await heading(page).filter({ hasText: "This invitation was already accepted" }).waitFor();
  await checkLayouts(page, "8-invitation-used-link");
  await page.goto(stack.url + "/invitations/claim?token=not-a-token");
  await heading(page).filter({ hasText: "This invitation link is not valid" }).waitFor();
  await page.close();
});

test("a paid buyer types its key once, picks its own flow, and a later connection is set up directly", async () => {
  const buyer = stack.account("Paid", "paid");
  const flow = await stack.api("POST", "/flows", buyer.key, { name: "Main intake", enabled: true });
  assert.equal(flow.status, 201, JSON.stringify(flow.body));
  const sellers = [stack.account("Alpha"), stack.account("Beta")];
  const page = await chromium.newPage();

  await invite(sellers[0], { email: buyer.email, relationship_type: "buyer" });
  await page.goto(await stack.invitationLink(buyer.email));
  await page.getByRole("button", { name: "Accept invitation" }).click();
  await page.getByRole("link", { name: "Set up how you receive their leads" }).click();
  // No key in this tab yet: the page asks for it, once.
  await heading(page).filter({ hasText: "Set up lead delivery" }).waitFor();
  await page.getByLabel("Your API key").fill("sk_live_" + "0".repeat(40));
  await page.getByRole("button", { name: "Continue" }).click();
  await page.locator("#api-key-error").filter({ hasText: "not accepted" }).waitFor();
  assert.equal(await page.getByLabel("Your API key").inputValue(), "sk_live_" + "0".repeat(40), "the refused key stays to be corrected");
  assert.equal(await page.getByLabel("Your API key").getAttribute("aria-invalid"), "true");
  await page.getByLabel("Your API key").fill(buyer.key);
  await checkLayouts(page, "14-buyer-onboarding-key");
  await page.getByLabel("Your API key").press("Enter");
  await heading(page).filter({ hasText: `Where should leads from ${sellers[0].name} go?` }).waitFor();
  assert.ok(!page.url().includes("sk_live"));
  await page.getByRole("radio", { name: "Main intake" }).check();
  await checkLayouts(page, "15-buyer-onboarding-paid-flow");
  await page.getByRole("button", { name: "Set up delivery" }).click();
  await heading(page).filter({ hasText: "Delivery is set up" }).waitFor({ timeout: 60_000 });
  assert.ok((await page.locator("#done-text").textContent()).includes(flow.body.id));
  const firstInvitation = new URL(page.url()).searchParams.get("invitation_id");
  const onboard = (await stack.api("GET", `/onboards?invitation_id=${firstInvitation}`, buyer.key)).body[0];
  assert.deepEqual([onboard.flow_id, onboard.status, onboard.setup_status], [flow.body.id, "completed", "succeeded"]);

  // The account finished an onboard before: the next connection's setup is one call, POST /onboard/buyer.
  await invite(sellers[1], { email: buyer.email, relationship_type: "buyer" });
  await page.goto(await stack.invitationLink(buyer.email));
  await page.getByRole("button", { name: "Accept invitation" }).click();
  await page.getByRole("link", { name: "Set up how you receive their leads" }).click();
  await heading(page).filter({ hasText: `Where should leads from ${sellers[1].name} go?` }).waitFor();
  await page.getByRole("radio", { name: "Main intake" }).check();
  await page.getByRole("button", { name: "Set up delivery" }).click();
  await heading(page).filter({ hasText: "Delivery is set up" }).waitFor({ timeout: 60_000 });
  const secondInvitation = new URL(page.url()).searchParams.get("invitation_id");
  assert.deepEqual((await stack.api("GET", `/onboards?invitation_id=${secondInvitation}`, buyer.key)).body, [], "no onboard record: the direct setup");
  const connection = await stack.api("GET", `/connections/${secondInvitation}`, buyer.key);
  assert.deepEqual([connection.body.buyer_delivery_configured, connection.body.buyer_flow_id], [true, flow.body.id]);
  await page.reload();
  await heading(page).filter({ hasText: "Delivery is set up" }).waitFor();
  await page.close();
});

test("a buyer setup that fails says why and offers a retry", async () => {
  const seller = stack.account("Revoking");
  const buyer = stack.account("Stranded");
  const sent = await invite(seller, { email: buyer.email, relationship_type: "buyer" });
  const page = await chromium.newPage();
  await page.goto(await stack.invitationLink(buyer.email));
  await page.getByRole("button", { name: "Accept invitation" }).click();
  await page.getByRole("link", { name: "Set up how you receive their leads" }).click();
  await page.getByLabel("Your API key").fill(buyer.key);
  await page.getByRole("button", { name: "Continue" }).click();
  await heading(page).filter({ hasText: "Where should leads" }).waitFor();
  // The seller ends the connection while the buyer is choosing: the setup cannot succeed.
  const connection = await stack.api("GET", `/connections/${sent.invitation.id}`, seller.key);
  assert.equal((await stack.api("DELETE", `/connections/${connection.body.id}`, seller.key)).status, 200);
  await page.getByRole("button", { name: "Set up delivery" }).click();
  await heading(page).filter({ hasText: "The setup did not finish" }).waitFor({ timeout: 60_000 });
  assert.match(await page.locator("#failed-text").textContent(), /revoked/);
  await checkLayouts(page, "16-buyer-onboarding-failed");
  const invitationId = new URL(page.url()).searchParams.get("invitation_id");
  const failed = (await stack.api("GET", `/onboards?invitation_id=${invitationId}`, buyer.key)).body[0];
  assert.deepEqual([failed.status, failed.setup_status], ["failed", "failed"]);
  // Retrying completes the onboard again; the setup fails again for the same reason, and says so.
  await page.getByRole("button", { name: "Try again" }).click();
  const retried = await eventually("the retry to fail again", async () => {
    const now = (await stack.api("GET", `/onboards?invitation_id=${invitationId}`, buyer.key)).body[0];
    return now.version > failed.version && now.setup_status === "failed" && now;
  });
  assert.equal(retried.status, "failed");
  await heading(page).filter({ hasText: "The setup did not finish" }).waitFor({ timeout: 60_000 });
  assert.match(await page.locator("#failed-text").textContent(), /revoked/);
  await page.close();
});

test("a revoked invitation's link says it was withdrawn", async () => {
  const seller = stack.account("Revoker");
  const address = `revoked-${Date.now()}@example.com`;
  const sent = await invite(seller, { email: address, relationship_type: "both" });
  const link = await stack.invitationLink(address);
  assert.equal((await stack.api("DELETE", `/invitations/${sent.invitation.id}`, seller.key)).status, 200);
  const page = await chromium.newPage();
  await page.goto(link);
  await heading(page).filter({ hasText: "This invitation was withdrawn" }).waitFor();
  assert.match(await page.locator("#closed-text").textContent(), new RegExp(seller.name));
  await checkLayouts(page, "9-invitation-revoked");
  await page.close();
});

test("a client confirms the details behind its onboarding link, and the receiver gets client.completed", async () => {
  const customer = stack.account("Customer");
  const receiver = await webhookReceiver();
  const received = receiver.received;
  try {
    const hook = await stack.api("POST", "/api/v1/webhooks", customer.key, { url: `http://127.0.0.1:${receiver.address().port}/hook`, events: ["client.completed"] });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    const campaign = await stack.api("POST", "/api/v1/campaigns", customer.key, { name: "Spring onboarding" });
    assert.equal(campaign.status, 201, JSON.stringify(campaign.body));
    const campaignId = campaign.body.campaign.id;
    assert.equal((await stack.api("POST", `/api/v1/campaigns/${campaignId}/publish`, customer.key)).status, 200);
    const client = await stack.api("POST", "/api/v1/clients", customer.key, { campaign_id: campaignId, email: "client@example.com", first_name: "Cleo" });
    assert.equal(client.status, 201, JSON.stringify(client.body));
    const link = client.body.client.link;

    // JSON callers keep the JSON.
    const asJson = await fetch(link, { headers: { accept: "application/json" } });
    assert.equal((await asJson.json()).campaign.name, "Spring onboarding");

    const page = await chromium.newPage();
    await page.goto(link);
    await heading(page).filter({ hasText: "Welcome to Spring onboarding" }).waitFor();
    // Who is asking, and the invited address as text, not as a field that looks editable.
    assert.equal(await page.locator("#details-asker").textContent(), `${customer.name} asks you to check your details for Spring onboarding, complete what is missing, and confirm.`);
    assert.equal(await page.locator("#email").textContent(), "client@example.com");
    assert.equal(await page.locator("input[type=email]").count(), 0);
    assert.equal(await page.getByLabel("First name").inputValue(), "Cleo");
    await checkLayouts(page, "10-client-onboarding-details");
    // An emptied required name is refused next to its field; a wrong phone is named in words there.
    await page.getByLabel("First name").fill("");
    await page.getByRole("button", { name: "Confirm and finish" }).click();
    await page.locator("#first-name-error").filter({ hasText: "Enter your first name." }).waitFor();
    assert.equal(await page.getByLabel("First name").getAttribute("aria-invalid"), "true");
    await page.getByLabel("First name").fill("Cleo");
    await page.getByLabel("Last name").fill("Client");
    await page.getByLabel("Phone (optional)").fill("call me");
    await page.getByRole("button", { name: "Confirm and finish" }).click();
    await page.locator("#phone-error").filter({ hasText: /^Phone: must be a phone number/ }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), "phone");
    await checkLayouts(page, "10-client-onboarding-field-error");
    assert.equal((await stack.api("GET", `/api/v1/clients?campaign_id=${campaignId}`, customer.key)).body.clients[0].status, "invited", "nothing completed yet");
    await page.getByLabel("Company (optional)").fill("Cleo & Co");
    await page.getByLabel("Phone (optional)").fill("+1 555 0100");
    await page.getByRole("button", { name: "Confirm and finish" }).click();
    await heading(page).filter({ hasText: "You are all set" }).waitFor();
    await checkLayouts(page, "11-client-onboarding-done");

    const completed = await eventually("client.completed at the receiver", async () => received.find((r) => r.body.event === "client.completed"));
    assert.match(completed.headers["webhook-signature"], /^v1,[A-Za-z0-9+/=]+/, "signed (Standard Webhooks)");
    assert.deepEqual([completed.body.data.first_name, completed.body.data.last_name, completed.body.data.company_name, completed.body.data.phone], ["Cleo", "Client", "Cleo & Co", "+1 555 0100"]);
    const clients = await stack.api("GET", `/api/v1/clients?campaign_id=${campaignId}`, customer.key);
    assert.equal(clients.body.clients[0].status, "completed");

    // The used link: a page that says it is done; an unknown one: a page that says so.
    await page.reload();
    await heading(page).filter({ hasText: "You are all set" }).waitFor();
    await page.goto(stack.url + "/c/unknown-token");
    await heading(page).filter({ hasText: "This onboarding link is not valid" }).waitFor();
    await checkLayouts(page, "12-client-onboarding-unknown");
    await page.close();
  } finally {
    receiver.close();
  }
});

test("a connected source opens its submission instructions with its own key and copies the example", async () => {
  const seller = stack.account("Owner");
  const vendor = stack.account("Vendor");
  const invited = await stack.api("POST", "/invitations/source", seller.key, { email: vendor.email });
  assert.equal(invited.status, 201, JSON.stringify(invited.body));
  assert.equal((await stack.api("POST", `/invitations/${invited.body.invitation.id}/accept`, vendor.key)).status, 200);
  const entity = (await stack.api("GET", "/entities", seller.key)).body.find((e) => e.connected_account_id === vendor.id);
  const flow = await stack.api("POST", "/flows", seller.key, { name: "Solar leads", enabled: true, fields: ["email", "phone_1", "postal_code"], sources: [{ entity: { id: entity.id } }] });
  assert.equal(flow.status, 201, JSON.stringify(flow.body));
  const docsPath = `/flows/${flow.body.id}/sources/${flow.body.sources[0].id}/docs`;

  const page = await chromium.newPage();
  await chromium.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.url });
  const response = await page.goto(stack.url + docsPath);
  assert.equal(response.status(), 200);
  assert.doesNotMatch(await response.text(), /Solar leads/, "the page itself holds no data");
  await heading(page).filter({ hasText: "Sending leads" }).waitFor();
  await page.getByLabel("Your API key").fill("sk_live_" + "0".repeat(40));
  await page.getByRole("button", { name: "Show the instructions" }).click();
  await page.locator("#key-error").filter({ hasText: "was not accepted" }).waitFor();
  await checkLayouts(page, "14-submission-docs-key");
  await page.getByLabel("Your API key").fill(vendor.key);
  await page.getByRole("button", { name: "Show the instructions" }).click();
  await heading(page).filter({ hasText: "Sending leads to Solar leads as Vendor Inc" }).waitFor();
  const submitUrl = await page.locator("#docs-url").textContent();
  assert.equal(submitUrl, `${stack.url}/flows/${flow.body.id}/sources/${flow.body.sources[0].id}/submit`);
  const rows = await page.locator("#docs-fields tbody tr").allTextContents();
  assert.deepEqual(rows, ["emailemailno", "phone_1phoneno", "postal_codepostal_codeno"]);
  await checkLayouts(page, "15-submission-docs");
  await page.getByRole("button", { name: "Copy the example" }).click();
  await page.locator("#copy-status").filter({ hasText: /Copied|Select/ }).waitFor();
  const curl = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(curl, /^curl -X POST /);

  // The instructions work: the vendor submits exactly as they say.
  const submitted = await stack.api("POST", new URL(submitUrl).pathname, vendor.key, { email: "jane@example.com", phone_1: "5125551234", postal_code: "78701" });
  assert.deepEqual([submitted.status, submitted.body.outcome], [200, "success"]);
  const leads = await stack.api("GET", `/flows/${flow.body.id}/leads`, seller.key);
  assert.equal(leads.body[0].fields.postal_code, "78701");
  assert.ok(!(await page.content()).includes(vendor.key), "the key is never written into the page");
  await page.close();
});

test("an expired invitation's link says so and what to do", async () => {
  const short = await Stack.start("expiry", { INVITATION_TTL_SECONDS: "2" });
  try {
    const seller = short.account("Expirer");
    const address = `late-${Date.now()}@example.com`;
    const sent = await short.api("POST", "/invitations", seller.key, { email: address, relationship_type: "buyer" });
    assert.equal(sent.status, 201);
    const link = await short.invitationLink(address);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const page = await chromium.newPage();
    await page.goto(link);
    await heading(page).filter({ hasText: "This invitation has expired" }).waitFor();
    assert.match(await page.locator("#closed-text").textContent(), /send the invitation again/);
    await checkLayouts(page, "13-invitation-expired");
    await page.close();
  } finally {
    await short.stop();
  }
});

/** Checks the page as it is at both widths: no serious or critical axe finding, no sideways
 *  scrolling at 375 px; a screenshot of each. */
async function checkLayouts(page, name) {
  for (const [width, height, label] of [[1280, 800, "desktop"], [375, 667, "phone"]]) {
    await page.setViewportSize({ width, height });
    assert.deepEqual(await accessibilityProblems(page), [], `${name} at ${width} px`);
    if (width === 375) assert.ok(await fitsSmallScreen(page), `${name}: no horizontal scrolling at 375 px`);
    await shot(page, `${name}-${label}`);
  }
}

/** Signs `user` in as a person does: the sign-in page, the email, the link's button (in a
 *  browser nobody else is signed in to). */
async function signIn(page, user, name) {
  await page.context().clearCookies();
  await page.goto(stack.url + "/sign-in");
  await heading(page).filter({ hasText: "Sign in" }).waitFor();
  await checkLayouts(page, `${name}-1-sign-in`);
  await page.getByLabel("Email address").fill(user.email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await heading(page).filter({ hasText: "Check your email" }).waitFor();
  const link = await stack.signInLink(user.email);
  await page.goto(link);
  await heading(page).filter({ hasText: "Sign in" }).waitFor();
  assert.equal(await page.locator("#valid-email").textContent(), user.email);
  await checkLayouts(page, `${name}-2-sign-in-link`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(stack.url + "/dashboard");
  await heading(page).filter({ hasText: "Connections" }).waitFor();
  assert.equal(await page.locator("#who").textContent(), user.email);
  return link;
}

test("people sign in by emailed link, invite and connect from the dashboard, and revoke", async () => {
  const seller = stack.account("Seller");
  const partner = stack.account("Partner");
  const sellerPage = await chromium.newPage();
  const link = await signIn(sellerPage, seller, "20-seller");
  const cookies = await chromium.cookies(stack.url);
  const session = cookies.find((c) => c.name === "__Host-session");
  assert.ok(session && session.httpOnly && session.secure && session.sameSite === "Lax", JSON.stringify(cookies));
  for (const shown of [sellerPage.url(), await sellerPage.title()]) assert.ok(!shown.includes(session.value), "no session token in a URL or title");
  await checkLayouts(sellerPage, "20-seller-3-dashboard-empty");

  // The link works once.
  const again = await chromium.newPage();
  await again.goto(link);
  await heading(again).filter({ hasText: "This sign-in link cannot be used" }).waitFor();
  await again.close();

  // Invite the partner as a buyer, from the dashboard.
  await sellerPage.getByLabel("Their email address").fill(partner.email);
  await sellerPage.getByRole("radio", { name: "receive leads from you (a buyer)" }).check();
  await sellerPage.getByRole("button", { name: "Send invitation" }).click();
  await sellerPage.locator("#invite-status").filter({ hasText: `Invitation sent to ${partner.email}` }).waitFor();
  await sellerPage.locator("#sent li").filter({ hasText: partner.email }).waitFor();
  await checkLayouts(sellerPage, "20-seller-4-invited");

  // The partner, in a browser of its own, accepts from its email, then signs in: both see it.
  const partnerBrowser = await browser();
  try {
    const partnerPage = await partnerBrowser.newPage();
    await partnerPage.goto(await stack.invitationLink(partner.email));
    await partnerPage.getByRole("button", { name: "Accept invitation" }).click();
    await heading(partnerPage).filter({ hasText: "You are connected" }).waitFor();
    const [declined, accepted] = [stack.account("Declined"), stack.account("Accepted")];
    await invite(declined, { email: partner.email, relationship_type: "seller" });
    await invite(accepted, { email: partner.email, relationship_type: "both" });
    await signIn(partnerPage, partner, "21-partner");
    await partnerPage.locator("#active li").filter({ hasText: `${seller.name} sends leads to you` }).waitFor();
    await checkLayouts(partnerPage, "21-partner-3-dashboard-connected");

    // Invitations received: accepted with one click; declined only once confirmed.
    const received = (from) => partnerPage.locator("#received li").filter({ hasText: `${from.name} invites you to connect` });
    await received(accepted).getByRole("button", { name: "Accept" }).click();
    await partnerPage.locator("#active li").filter({ hasText: `${accepted.name} exchanges leads with you both ways` }).waitFor();
    await received(declined).getByRole("button", { name: "Decline" }).click();
    await heading(partnerPage).filter({ hasText: `Decline the invitation from ${declined.name}?` }).waitFor();
    await partnerPage.getByRole("button", { name: "Decline", exact: true }).click();
    await heading(partnerPage).filter({ hasText: "Connections" }).waitFor();
    await partnerPage.locator("#received li").filter({ hasText: "None waiting for you." }).waitFor();
    const answered = await stack.api("GET", "/invitations?direction=sent", declined.key);
    assert.equal(answered.body[0].status, "declined");

    await sellerPage.reload();
    const row = sellerPage.locator("#active li").filter({ hasText: `${partner.name} receives leads from you` });
    await row.waitFor();
    assert.equal(await sellerPage.locator("#sent li").filter({ hasText: partner.email }).count(), 0, "no longer waiting");

    // The connection's own page: figures, where setup stands, notes only the seller sees.
    await row.getByRole("link", { name: "Details" }).click();
    await heading(sellerPage).filter({ hasText: partner.name }).waitFor();
    assert.match(await sellerPage.locator("#figures").textContent(), /Delivered and accepted0 leads/);
    assert.match(await sellerPage.locator("#setup-text").textContent(), /sets up on its side/);
    await sellerPage.getByLabel("Business purpose").fill("Auto leads for the west coast");
    await sellerPage.getByLabel("Expected volume").fill("about 500 a day");
    await sellerPage.getByRole("button", { name: "Add a contact" }).click();
    await sellerPage.locator("#contact-0-name").fill("Ana Lopez");
    await sellerPage.locator("#contact-0-email").fill("ana at partner");
    await sellerPage.getByRole("button", { name: "Save notes" }).click();
    // The wrong field is named in words and marked; nothing is saved.
    await sellerPage.locator("#contact-0-email-error").filter({ hasText: "Email of contact 1: 'ana at partner' is not a valid email address" }).waitFor();
    assert.equal(await sellerPage.locator("#contact-0-email").getAttribute("aria-invalid"), "true");
    assert.equal(await sellerPage.evaluate(() => document.activeElement.id), "contact-0-email");
    await checkLayouts(sellerPage, "20-seller-5-connection-notes-error");
    await sellerPage.locator("#contact-0-email").fill("ana@partner.example.com");
    await sellerPage.getByRole("button", { name: "Save notes" }).click();
    await sellerPage.locator("#notes-status").filter({ hasText: "Notes saved." }).waitFor();
    const noted = (await stack.api("GET", "/connections", seller.key)).body.find((c) => c.connected_account.id === partner.id);
    assert.deepEqual([noted.documentation.purpose, noted.documentation.contacts[0].email], ["Auto leads for the west coast", "ana@partner.example.com"]);
    const partnerSide = (await stack.api("GET", "/connections", partner.key)).body.find((c) => c.connected_account.id === seller.id);
    assert.equal(partnerSide.documentation, null, "the partner never sees the seller's notes");
    await sellerPage.reload();
    await heading(sellerPage).filter({ hasText: partner.name }).waitFor();
    assert.equal(await sellerPage.getByLabel("Expected volume").inputValue(), "about 500 a day", "the page opens where it was, with the notes");

    // Revoking asks first and says what stops.
    await sellerPage.getByRole("button", { name: "Revoke connection" }).click();
    await heading(sellerPage).filter({ hasText: `Revoke the connection with ${partner.name}?` }).waitFor();
    assert.match(await sellerPage.locator("#confirm-text").textContent(), /no lead goes between you/);
    await checkLayouts(sellerPage, "20-seller-6-revoke-confirm");
    await sellerPage.getByRole("button", { name: "Cancel" }).click();
    await heading(sellerPage).filter({ hasText: partner.name }).waitFor();
    await sellerPage.getByRole("button", { name: "Revoke connection" }).click();
    await sellerPage.getByRole("button", { name: "Revoke connection" }).click();
    await sellerPage.locator("#connection-summary").filter({ hasText: "revoked" }).waitFor();
    await sellerPage.goBack();
    await heading(sellerPage).filter({ hasText: "Connections" }).waitFor();
    await sellerPage.locator("#former li").filter({ hasText: partner.name }).waitFor();
    assert.equal(await sellerPage.locator("#active li").filter({ hasText: partner.name }).count(), 0);
    const seen = await stack.api("GET", "/connections", partner.key);
    assert.equal(seen.body.find((c) => c.connected_account.id === seller.id).status, "revoked", "the partner's side is revoked too");
    await partnerPage.reload();
    await partnerPage.locator("#former li").filter({ hasText: seller.name }).waitFor();
  } finally {
    await partnerBrowser.close();
  }

  // Signing out: the session is gone, and the dashboard offers the sign-in again.
  await sellerPage.getByRole("button", { name: "Sign out", exact: true }).click();
  await heading(sellerPage).filter({ hasText: "You are signed out" }).waitFor();
  const ended = await fetch(stack.url + "/connections", { headers: { cookie: `__Host-session=${session.value}` } });
  assert.equal(ended.status, 401, "the old session no longer calls the API");
  await sellerPage.goto(stack.url + "/dashboard");
  await heading(sellerPage).filter({ hasText: "Dashboard" }).waitFor();
  await checkLayouts(sellerPage, "20-seller-7-signed-out");
  await sellerPage.close();
  const log = readFileSync(stack.log, "utf8");
  assert.ok(!log.includes(session.value) && !log.includes(link.split("token=")[1]), "no session or link token in the log");
});

test("a buyer who closed the tab after accepting finishes the setup later, signed in, without a key", async () => {
  const seller = stack.account("TabSeller");
  const address = `tab-buyer-${Date.now()}@example.com`;
  await invite(seller, { email: address, relationship_type: "buyer" });
  const link = await stack.invitationLink(address);
  const first = await chromium.newPage();
  await first.goto(link);
  await first.getByLabel("Company name").fill("Tab Buyer Co");
  await first.getByLabel("Your name").fill("Tab Buyer");
  await first.getByRole("button", { name: "Accept and create account" }).click();
  await heading(first).filter({ hasText: "Your account is ready" }).waitFor();
  await first.close();

  // Later, from the same email: the used link is not a dead end.
  const page = await chromium.newPage();
  await page.goto(link);
  await heading(page).filter({ hasText: "This invitation was already accepted" }).waitFor();
  assert.ok(await page.getByRole("link", { name: "Open your dashboard" }).isVisible());
  await checkLayouts(page, "22-buyer-1-used-link");
  await signIn(page, { email: address }, "22-buyer");
  await page.goto(link);
  await page.getByRole("link", { name: "Continue setting up how you receive their leads" }).click();
  await heading(page).filter({ hasText: `Where should leads from ${seller.name} go?` }).waitFor();
  assert.ok(!(await page.locator("#key").isVisible()), "signed in: no key asked for");
  await checkLayouts(page, "22-buyer-3-onboarding-signed-in");
  await page.getByRole("button", { name: "Set up delivery" }).click();
  await heading(page).filter({ hasText: "Delivery is set up" }).waitFor({ timeout: 60_000 });
  await checkLayouts(page, "22-buyer-4-onboarding-done");
  await page.close();
});

test("keys are created and revoked from Settings, and the revoked key is refused", async () => {
  const owner = stack.account("KeyOwner");
  const page = await chromium.newPage();
  await chromium.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.url });
  await signIn(page, owner, "23-keys");
  await page.getByRole("link", { name: "APIs and keys" }).click();
  await heading(page).filter({ hasText: "APIs and keys" }).waitFor();
  await page.locator("#keys li").first().waitFor();
  await checkLayouts(page, "23-keys-3-settings");

  await page.getByRole("button", { name: "Create an API key" }).click();
  const shown = page.locator("#created-key");
  await shown.filter({ hasText: /^sk_live_[0-9a-f]{40}$/ }).waitFor();
  const key = await shown.textContent();
  assert.ok(!page.url().includes(key), "never in a URL");
  await page.getByRole("button", { name: "Copy API key" }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
  assert.equal((await stack.api("GET", "/account", key)).status, 200, "the new key works");
  await page.locator("#keys li").nth(1).waitFor();
  await checkLayouts(page, "23-keys-4-created");

  const prefix = key.slice(0, "sk_live_".length + 4);
  await page.getByRole("button", { name: `Revoke ${prefix}…` }).click();
  await heading(page).filter({ hasText: `Revoke the key ${prefix}…?` }).waitFor();
  await checkLayouts(page, "23-keys-5-revoke-confirm");
  await page.getByRole("button", { name: "Revoke key" }).click();
  await page.locator("#keys li").filter({ hasText: `${prefix}… of ${owner.email}` }).filter({ hasText: "revoked" }).waitFor();
  assert.equal((await stack.api("GET", "/account", key)).status, 401, "the revoked key is refused");
  assert.equal((await stack.api("GET", "/account", owner.key)).status, 200, "the other key still works");
  await page.close();
});

test("a source partner finds its instructions from the email and its dashboard, signed in, without a key", async () => {
  const seller = stack.account("Owner", "paid");
  const vendor = stack.account("Vendor");
  const invited = await invite(seller, { email: vendor.email, relationship_type: "seller" });
  // The seller opens a flow to the invited partner before it answers, with rules it must meet.
  const flow = await stack.api("POST", "/flows", seller.key, {
    name: "Solar leads", enabled: true, fields: ["email", "state"], sources: [{ entity: { id: invited.entity.id } }],
    acceptance_criteria: { required: ["email"], rules: [{ field: "state", operator: "is_one_of", values: ["TX", "CA"] }] },
  });
  assert.equal(flow.status, 201, JSON.stringify(flow.body));
  const docsPath = `/flows/${flow.body.id}/sources/${flow.body.sources[0].id}/docs`;

  const page = await chromium.newPage();
  await page.goto(await stack.invitationLink(vendor.email));
  await page.getByRole("button", { name: "Accept invitation" }).click();
  await heading(page).filter({ hasText: "You are connected" }).waitFor();
  const toDashboard = page.getByRole("link", { name: "See how to send them leads" });
  assert.ok(await toDashboard.isVisible());
  await checkLayouts(page, "24-source-1-connected");

  // The email names the flow and links its instructions.
  const mail = await eventually("the instructions email", async () => (await stack.emailsTo(vendor.email)).find((m) => m.subject === `How to send leads to ${seller.name}`));
  const emailed = mail.body.match(/https?:\/\/[^"\s<]+\/docs/)[0];
  assert.equal(new URL(emailed).pathname, docsPath);
  assert.match(mail.body, /Solar leads/);

  // Signed in, the dashboard's connection page lists it, and the instructions open without a key.
  await signIn(page, vendor, "24-source-2");
  const row = page.locator("#active li").filter({ hasText: `${seller.name} receives leads from you` });
  await row.getByRole("link", { name: "Details" }).click();
  const docsLink = page.getByRole("link", { name: "How to send leads to Solar leads" });
  await docsLink.waitFor();
  await checkLayouts(page, "24-source-3-connection");
  await docsLink.click();
  await page.waitForURL(stack.url + docsPath);
  await heading(page).filter({ hasText: `Sending leads to Solar leads as ${vendor.name}` }).waitFor();
  const rules = await page.locator("#docs-rules li").allTextContents();
  assert.deepEqual(rules, ["email must be present and not blank.", "state must be one of “TX”, “CA”."]);
  await checkLayouts(page, "24-source-4-instructions");

  // The seller sends the instructions again from its dashboard; a second click within the minute is refused in words.
  // In a browser of its own: a browser holds one session.
  const sellerBrowser = await browser();
  const sellerPage = await sellerBrowser.newPage();
  await signIn(sellerPage, seller, "24-source-seller");
  await sellerPage.locator("#active li").filter({ hasText: `${vendor.name} sends leads to you` }).getByRole("link", { name: "Details" }).click();
  const before = (await stack.emailsTo(vendor.email)).length;
  await sellerPage.getByRole("button", { name: "Email them the instructions again" }).click();
  await sellerPage.locator("#resend-status").filter({ hasText: "listing 1 flow" }).waitFor();
  assert.equal((await stack.emailsTo(vendor.email)).length, before + 1);
  await sellerPage.getByRole("button", { name: "Email them the instructions again" }).click();
  await sellerPage.locator("#resend-error").filter({ hasText: "less than a minute ago" }).waitFor();

  // The vendor sends a lead exactly as the instructions say; the seller's flow has it.
  const submitUrl = await page.locator("#docs-url").textContent();
  const lead = await stack.api("POST", new URL(submitUrl).pathname, vendor.key, { email: "jane@example.com", state: "TX" });
  assert.deepEqual([lead.status, lead.body.outcome], [200, "success"]);
  assert.equal((await stack.api("GET", `/flows/${flow.body.id}/leads`, seller.key)).body.length, 1);

  // The seller revokes from its dashboard: the instructions and the submissions are gone for the vendor.
  await sellerPage.getByRole("button", { name: "Revoke connection" }).click();
  await sellerPage.getByRole("button", { name: "Revoke connection" }).click();
  await sellerPage.locator("#connection-summary").filter({ hasText: "revoked" }).waitFor();
  await page.reload();
  await heading(page).filter({ hasText: "No instructions here" }).waitFor();
  const refused = await stack.api("POST", new URL(submitUrl).pathname, vendor.key, { email: "late@example.com", state: "TX" });
  assert.equal(refused.status, 404);
  await page.goto(stack.url + "/dashboard");
  await page.locator("#former li").filter({ hasText: seller.name }).waitFor();
  await sellerBrowser.close();
  await page.close();
});

test("webhook endpoints and provider integrations are managed from Settings: secrets once, deliveries sent again", async () => {
  const owner = stack.account("HookOwner");
  const receiver = await webhookReceiver();
  const events = (name) => receiver.received.filter((r) => r.body.event === name);
  const page = await chromium.newPage();
  try {
    await signIn(page, owner, "25-webhooks");
    await page.getByRole("link", { name: "Webhooks" }).click();
    await heading(page).filter({ hasText: "Webhooks" }).waitFor();
    await checkLayouts(page, "25-webhooks-3-settings");

    // A URL that is not one is refused next to the field.
    await page.getByLabel("Your URL").fill("not a url");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.locator("#endpoint-url-error").filter({ hasText: /^URL: / }).waitFor();
    const url = `http://127.0.0.1:${receiver.address().port}/hook`;
    await page.getByLabel("Your URL").fill(url);
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await heading(page).filter({ hasText: "Endpoint added" }).waitFor();
    const secret = await page.locator("#secret-value").textContent();
    assert.match(secret, /^whsec_/);
    assert.ok(!page.url().includes(secret), "never in a URL");
    await checkLayouts(page, "25-webhooks-4-secret");
    await page.getByRole("link", { name: "Done: back to webhooks" }).click();
    await page.locator("#endpoints li").filter({ hasText: url }).waitFor();
    assert.equal(await page.locator("#secret-value").textContent(), "", "the secret is not kept on the page");

    // An event is delivered; its delivery and attempt are listed, and it is sent again.
    const campaign = await stack.api("POST", "/api/v1/campaigns", owner.key, { name: "Hooks" });
    await stack.api("POST", `/api/v1/campaigns/${campaign.body.campaign.id}/publish`, owner.key);
    await stack.api("POST", "/api/v1/clients", owner.key, { campaign_id: campaign.body.campaign.id, email: "hooked@example.com" });
    await eventually("client.created at the receiver", async () => events("client.created").length === 1);
    await page.getByRole("link", { name: `Deliveries to ${url}` }).click();
    const delivered = page.locator("#deliveries-list > li").filter({ hasText: "client.created, delivered" });
    await eventually("the delivery listed as delivered", async () => {
      await page.reload();
      await page.locator("#deliveries-list > li").first().waitFor();
      return (await delivered.count()) > 0;
    });
    assert.match(await delivered.first().textContent(), /answered 204 in \d+ ms/);
    await checkLayouts(page, "25-webhooks-5-deliveries");
    await delivered.first().getByRole("button", { name: /^Send again: the client.created delivery/ }).click();
    await page.locator("#deliveries-status").filter({ hasText: "Queued" }).waitFor();
    await eventually("the event received twice", async () => events("client.created").length === 2);
    await page.goBack();
    await heading(page).filter({ hasText: "Webhooks" }).waitFor();

    // Rotating shows the new secret once; removing asks first.
    await page.getByRole("button", { name: `Rotate secret of ${url}` }).click();
    await heading(page).filter({ hasText: `A new secret for ${url}` }).waitFor();
    assert.notEqual(await page.locator("#secret-value").textContent(), secret);
    await page.goBack();
    await page.getByRole("button", { name: `Remove ${url}` }).click();
    await heading(page).filter({ hasText: `Remove the endpoint ${url}?` }).waitFor();
    await page.getByRole("button", { name: "Remove endpoint" }).click();
    await page.locator("#endpoints li").filter({ hasText: "No endpoints yet." }).waitFor();
    assert.deepEqual((await stack.api("GET", "/api/v1/webhooks", owner.key)).body.webhooks, []);

    // A provider integration: its URL and secret once; removed, its URL answers 404.
    await page.getByLabel("Provider").selectOption("incode");
    await page.getByLabel("Name (optional)").fill("KYC");
    await page.getByRole("button", { name: "Add integration" }).click();
    await heading(page).filter({ hasText: "Incode integration added" }).waitFor();
    const receiveUrl = await page.locator("#secret-details dd").first().textContent();
    assert.match(receiveUrl, /\/webhooks\/[0-9a-f]{24}$/);
    await page.goBack();
    await page.getByRole("link", { name: "Events from KYC" }).click();
    await page.locator("#events-list li").filter({ hasText: "Nothing received yet." }).waitFor();
    await page.goBack();
    await page.getByRole("button", { name: /^Remove the Incode integration/ }).click();
    await page.getByRole("button", { name: "Remove integration" }).click();
    await page.locator("#integrations li").filter({ hasText: "No provider integrations yet." }).waitFor();
    const log = readFileSync(stack.log, "utf8");
    assert.ok(!log.includes(secret), "no webhook secret in the log");
    const gone = await fetch(receiveUrl, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(gone.status, 401, "refused as any unauthenticated delivery");
    assert.deepEqual((await stack.api("GET", "/integrations", owner.key)).body, []);
  } finally {
    receiver.close();
    await page.close();
  }
});

test("the API reference reads on a phone and by keyboard, and the contract opens as text", async () => {
  const page = await chromium.newPage();
  await page.goto(stack.url + "/docs");
  await page.getByRole("heading", { name: "Getting started" }).waitFor();
  await checkLayouts(page, "26-docs");
  // Every example and schema block can be reached and scrolled from the keyboard.
  const blocks = await page.locator("pre").evaluateAll((pres) => pres.filter((p) => p.tabIndex !== 0).length);
  assert.equal(blocks, 0);
  const response = await page.goto(stack.url + "/openapi.yaml");
  assert.equal(response.headers()["content-type"], "text/plain; charset=utf-8");
  assert.match(await page.locator("body").textContent(), /^openapi: 3\.1\.0/);
  await page.close();
});

test("a signed-in person accepts an invitation sent to another address of theirs for their own account", async () => {
  const seller = stack.account("Inviter");
  const buyer = stack.account("Holder");
  const personal = `personal-${Date.now()}@example.com`;
  await invite(seller, { email: personal, relationship_type: "buyer" });
  const page = await chromium.newPage();
  await signIn(page, buyer, "27-holder");
  await page.goto(await stack.invitationLink(personal));
  await heading(page).filter({ hasText: `${seller.name} invites you to connect` }).waitFor();
  await checkLayouts(page, "27-holder-3-invitation");
  await page.getByRole("button", { name: `Accept for ${buyer.name}` }).click();
  await heading(page).filter({ hasText: "You are connected" }).waitFor();
  const connections = await stack.api("GET", "/connections", buyer.key);
  assert.deepEqual(connections.body.map((c) => c.connected_account.id), [seller.id], "connected for the signed-in person's account, no new account");
  await page.close();
});

test("the dashboard's charts show what the leads did, with the numbers in a table, on a phone too", async () => {
  const seller = stack.account("Charts", "paid");
  const vendor = stack.account("ChartVendor");
  const buyer = stack.account("ChartBuyer");
  const asSource = await invite(seller, { email: vendor.email, relationship_type: "seller" });
  const asBuyer = await invite(seller, { email: buyer.email, relationship_type: "buyer" });
  for (const [who, sent] of [[vendor, asSource], [buyer, asBuyer]]) {
    const accepted = await stack.api("POST", `/invitations/${sent.invitation.id}/accept`, who.key);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    who.connection = accepted.body.connection.id;
  }
  const flow = await stack.api("POST", "/flows", seller.key, {
    name: "Charted leads", enabled: true, fields: ["email", "phone_1"], sources: [{ entity: { id: asSource.entity.id } }],
    steps: [{ type: "recipient", entity: { id: asBuyer.entity.id }, integration: { module_id: "leadconduit.buyer" } }],
    acceptance_criteria: { required: ["phone_1"] },
  });
  assert.equal(flow.status, 201, JSON.stringify(flow.body));
  const setup = await stack.api("POST", "/onboard/buyer", buyer.key, { connection_id: buyer.connection });
  assert.equal(setup.status, 200, JSON.stringify(setup.body));
  const submit = `/flows/${flow.body.id}/sources/${flow.body.sources[0].id}/submit`;
  for (const lead of [{ email: "a@example.com", phone_1: "5125551234" }, { email: "b@example.com", phone_1: "5125551235" }, { email: "c@example.com", phone_1: "5125551236" }, { email: "d@example.com" }]) {
    assert.equal((await stack.api("POST", submit, vendor.key, lead)).status, 200);
  }
  // The figures come from the table's stream, a moment after the leads.
  await eventually("the deliveries counted in the seller's report", async () => (await stack.api("GET", "/reports/account", seller.key)).body.total.delivered === 3);

  const page = await chromium.newPage();
  await signIn(page, seller, "30-charts");
  const today = new Date().toLocaleDateString(undefined, { day: "numeric", month: "short" });
  /** The report's row for today, as the table behind the charts shows it. */
  const todayRow = async (container) => {
    const row = page.locator(`${container} tbody tr`).filter({ has: page.locator("th", { hasText: today }) });
    await row.waitFor({ state: "attached" });
    return row.locator("td").allTextContents();
  };
  await page.locator("#account-report .report-body p").first().filter({ hasText: "4 leads came in" }).waitFor();
  assert.deepEqual(await todayRow("#account-report"), ["4", "3", "1", "3", "0", "0", "0", "100%"]);
  assert.equal(await page.locator("#account-report svg.chart").count(), 3, "volume in, delivered, success rate");
  const bars = await page.locator("#account-report svg.chart").first().locator("rect title").allTextContents();
  assert.ok(bars.includes(`${today}: 4 leads`), JSON.stringify(bars));
  assert.match(await page.locator("#account-report").textContent(), /Why leads were rejected.*: 1 lead/s);
  await page.locator("#account-report summary").click();
  await checkLayouts(page, "30-charts-1-account");

  // The flow's report, from the list of flows; by the hour.
  await page.locator("#flows-list li").filter({ hasText: "Charted leads" }).getByRole("link", { name: "Report" }).click();
  await heading(page).filter({ hasText: "Charted leads" }).waitFor();
  await page.locator("#flow-report .report-body p").first().filter({ hasText: "4 leads came in" }).waitFor();
  assert.deepEqual(await todayRow("#flow-report"), ["4", "3", "1", "3", "0", "0", "0", "100%"]);
  await page.locator("#flow-report").getByLabel("Period").selectOption({ label: "Last 48 hours, by hour" });
  await page.locator("#flow-report caption").filter({ hasText: "Each hour" }).waitFor({ state: "attached" });
  const hours = await page.locator("#flow-report tbody tr").count();
  assert.equal(hours, 48);
  const busy = await page.locator("#flow-report tbody tr").evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll("td")].map((c) => c.textContent)).filter((cells) => cells[0] !== "0"));
  assert.deepEqual(busy.map((cells) => cells[0]).reduce((a, b) => a + Number(b), 0), 4, JSON.stringify(busy));
  await page.locator("#flow-report summary").click();
  await checkLayouts(page, "30-charts-2-flow");

  // Each connection's page: the buyer's shows the deliveries, the vendor's the leads it sent.
  await page.goBack();
  await page.locator("#active li").filter({ hasText: buyer.name }).getByRole("link", { name: "Details" }).click();
  await page.locator("#connection-report .report-body p").first().filter({ hasText: "3 deliveries accepted by buyers" }).waitFor();
  await page.goBack();
  await page.locator("#active li").filter({ hasText: vendor.name }).getByRole("link", { name: "Details" }).click();
  await page.locator("#connection-report .report-body p").first().filter({ hasText: "4 leads came in (3 accepted, 1 rejected)" }).waitFor();
  await checkLayouts(page, "30-charts-3-connection");

  // The emails about partner changes, turned off from the dashboard (the emails' opt-out link
  // opens this part of it), and on again.
  await page.goto(stack.url + "/dashboard#notifications");
  const box = page.getByLabel("Email me when a partner accepts or declines our invitation, or ends a connection");
  await page.locator("#change-emails:checked").waitFor({ state: "attached" });
  assert.ok(await box.isChecked(), "on for a new user");
  await box.uncheck();
  await page.getByRole("button", { name: "Save email settings" }).click();
  await page.locator("#notify-status").filter({ hasText: "you will not be emailed" }).waitFor();
  assert.deepEqual((await stack.api("GET", "/notification-settings", seller.key)).body, { change_emails: false });
  await checkLayouts(page, "30-charts-4-notifications");
  await page.reload();
  await page.locator("#account-report .report-body p").first().waitFor();
  assert.equal(await box.isChecked(), false, "kept");
  // The buyer ends the connection: the seller, turned off, is not emailed; the vendor's people
  // (on) hear of the seller's revocation of theirs.
  const before = (await stack.emailsTo(seller.email)).length;
  assert.equal((await stack.api("DELETE", `/connections/${buyer.connection}`, buyer.key)).status, 200);
  assert.equal((await stack.api("DELETE", `/connections/${vendor.connection}`, seller.key)).status, 200);
  const ended = await eventually("the vendor told", async () => (await stack.emailsTo(vendor.email)).find((m) => m.subject === `${seller.name} ended your connection on Partner Onboarding`));
  assert.match(ended.body, /no lead goes between you/);
  assert.equal((await stack.emailsTo(seller.email)).length, before, "turned off: no email");
  await page.close();
});
