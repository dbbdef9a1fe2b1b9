// A running product for the browser tests: `infra/run` started as a user starts it (its own stack
// name; the port its API chooses), its admin CLI, its API over HTTP and the email SES captured; and headless
// Chromium (Debian's package) driven by playwright-core.
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const repo = path.resolve(import.meta.dirname, "../..");
export const screenshots = path.join(repo, "target/browser/screenshots");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns something truthy. */
export async function eventually(what, check, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check().catch((error) => {
      if (error.message.startsWith("infra/run exited")) throw error;
      return null;
    });
    if (value) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await sleep(250);
  }
}

export class Stack {
  /** `infra/run` on a new stack; `env` adds variables (as a user would export them). */
  static async start(label, env = {}) {
    const name = `browser-${label}-${process.pid}`;
    mkdirSync(path.join(repo, "target/browser"), { recursive: true });
    const log = path.join(repo, `target/browser/${name}.log`);
    const output = openSync(log, "w");
    // PORT 0: the API binds a port of the kernel's choosing and writes its address. The rest of
    // the environment is passed on as it is: given endpoints (LocalStack, AWS) are infra/run's
    // too, else it starts the emulators LOCAL_EMULATOR names.
    const childEnv = { ...process.env, ...env, STACK_NAME: name, PORT: "0", RUST_LOG: "info" };
    const process_ = spawn(path.join(repo, "infra/run"), [], { cwd: repo, env: childEnv, stdio: ["ignore", output, output] });
    const exited = () => {
      // A run that exited (its API could not start) will never answer: say why at once.
      if (process_.exitCode !== null) throw new Error(`infra/run exited before it was ready:\n${readFileSync(log, "utf8")}`);
    };
    // run.env, written once the API listens, names its address (and is what infra/admin reads).
    const address = await eventually("infra/run's run.env to name the API's address", async () => {
      exited();
      return readFileSync(path.join(repo, ".local", name, "run.env"), "utf8").match(/^API_ADDRESS=(.*)$/m)?.[1];
    }, 900);
    const stack = new Stack(name, Number(address.split(":").pop()), process_, log);
    await eventually("infra/run to answer /health", async () => {
      exited();
      return (await fetch(stack.url + "/health")).ok;
    }, 60);
    stack.runEnv = Object.fromEntries(readFileSync(path.join(repo, ".local", name, "run.env"), "utf8").trim().split("\n").map((line) => line.split(/=(.*)/s).slice(0, 2)));
    return stack;
  }

  constructor(name, port, process_, log) {
    Object.assign(this, { name, port, process: process_, log, url: `http://127.0.0.1:${port}` });
  }

  async stop() {
    if (this.process.exitCode !== null) return;
    const exited = new Promise((resolve) => this.process.once("exit", resolve));
    this.process.kill("SIGTERM");
    await exited;
  }

  /** `infra/admin ARGS` on this stack; its JSON output. */
  admin(...args) {
    const out = execFileSync(path.join(repo, "infra/admin"), args, { cwd: repo, env: { ...process.env, STACK_NAME: this.name } });
    return JSON.parse(out.toString());
  }

  /** A new account and its first user: { id, key, email, name }. */
  account(label, plan = "free") {
    const email = `${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`.toLowerCase();
    const name = `${label} Inc`;
    const created = this.admin("create-account", "--name", name, "--email", email, "--user-name", label, "--plan", plan);
    return { id: created.account.id, key: created.api_key, email, name };
  }

  async api(method, route, key, body) {
    const headers = { accept: "application/json" };
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(this.url + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  /** The emails SES captured for `address`, oldest first: moto keeps them in its state,
   *  LocalStack at /_aws/ses (read into moto's shape, the HTML part as the body). */
  async emailsTo(address) {
    const endpoint = this.runEnv.AWS_ENDPOINT_URL_SES;
    const moto = await fetch(endpoint + "/moto-api/data.json");
    const messages = moto.ok
      ? ((await moto.json()).ses?.Message || [])
      : ((await (await fetch(endpoint + "/_aws/ses")).json()).messages || []).map((m) => ({
          subject: m.Subject, body: m.Body?.html_part ?? m.Body?.text_part, destinations: m.Destination, source: m.Source,
        }));
    return messages.filter((m) => (m.destinations?.ToAddresses || []).includes(address));
  }

  /** The link in the last invitation email to `address`. */
  async invitationLink(address) {
    const emails = await eventually(`an email to ${address}`, async () => { const found = await this.emailsTo(address); return found.length && found; });
    const link = emails.at(-1).body.match(/https?:\/\/\S+?token=[A-Za-z0-9_-]+/);
    if (!link) throw new Error("no link in the invitation email");
    return link[0];
  }

  /** The link in the sign-in email to `address` (waits for it). */
  async signInLink(address) {
    const link = await eventually(`a sign-in email to ${address}`, async () =>
      (await this.emailsTo(address)).map((m) => m.body.match(/https?:\/\/[^"\s]+\/sign-in\/link\?token=[A-Za-z0-9_-]+/)).findLast(Boolean));
    return link[0];
  }
}

const axeSource = readFileSync(path.join(repo, "tests/browser/node_modules/axe-core/axe.min.js"), "utf8");

/** axe-core's serious and critical findings on the page as it is now ("rule: element, …"). */
export async function accessibilityProblems(page) {
  // Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern.
  await page.evaluate(axeSource);
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** Headless Chromium from Debian's package, with the flags that work on these machines. */
export async function browser() {
  const profile = mkdtempSync(path.join(tmpdir(), "chromium-profile-"));
  const launched = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 375, height: 812 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const close = launched.close.bind(launched);
  launched.close = async () => { await close(); rmSync(profile, { recursive: true, force: true }); };
  return launched;
}

/** A screenshot of the page's current step, under target/browser/screenshots/. */
export async function shot(page, name) {
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
}

/** What a person using only a 375 px wide screen must not need: horizontal scrolling. */
export async function fitsSmallScreen(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

/** A webhook endpoint on 127.0.0.1 that answers 204 and keeps what it received ({headers, body}). */
export async function webhookReceiver() {
  const { createServer } = await import("node:http");
  const received = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => { body += chunk; });
    req.on("end", () => { received.push({ headers: req.headers, body: JSON.parse(body) }); res.writeHead(204).end(); });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { received, address: () => server.address(), close: () => server.close() };
}
