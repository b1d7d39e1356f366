// Browser end-to-end tests: headless Chromium (Debian's, driven by playwright-core) on the demo
// site (examples/) with the real instant server. Every wait waits for something on the page,
// with a bound; nothing sleeps and hopes. Screenshots go to js/test-results/.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

import { chromiumPath, missingForBrowserTests, repo, startDemoSite } from "../helpers/demo-site.mjs";

const missing = missingForBrowserTests();
// tools/js_test.sh sets INSTANT_E2E_REQUIRED=1: there a missing piece is a failure, not a skip.
if (missing && process.env.INSTANT_E2E_REQUIRED === "1") throw new Error(`browser tests cannot run: ${missing}`);
const skip = missing || false;

const WAIT = 15000;
// Lifetime of the tokens of the site's second instance (site.shortTokensUrl), seconds.
const TOKEN_TTL = 4;
const artifacts = join(repo, "js/test-results");
let site;
let browser;

before(async () => {
  if (skip) return;
  mkdirSync(artifacts, { recursive: true });
  [site, browser] = await Promise.all([
    startDemoSite({ shortTokenTtl: TOKEN_TTL }),
    chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      timeout: 30000,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    }),
  ]);
});

after(async () => {
  await browser?.close();
  await site?.stop();
});

/** A fresh browser session on the demo page, with the page's errors collected. */
async function openPage(t, url = site.url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const problems = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (msg) => msg.type() === "error" && problems.push(`console: ${msg.text()}`));
  t.after(() => context.close());
  await page.goto(url);
  return { page, problems };
}

const card = (page, channel) => page.locator(`.channel[data-channel="${channel}"]`);
const messageIn = (page, channel, text) => card(page, channel).locator(`li[data-message="${text}"]`);

async function waitConnected(page, user, channels) {
  await page.locator(`body[data-user="${user}"]`).waitFor();
  await page.locator('#status[data-state="connected"]').waitFor();
  for (const channel of channels) await page.locator(`.channel[data-channel="${channel}"][data-state="subscribed"]`).waitFor();
}

async function login(page, user, password = user) {
  await page.fill("#username", user);
  await page.fill("#password", password);
  await page.click("#login");
}

test("alice sees public, $users and $group1 messages, and not $staff", { skip }, async (t) => {
  const { page, problems } = await openPage(t);
  await waitConnected(page, "anonymous", ["public"]);
  await login(page, "alice");
  await waitConnected(page, "alice", ["public", "$users", "$group1"]);
  assert.equal(await card(page, "$staff").getAttribute("data-state"), "not-granted");
  assert.equal(await page.locator("#publish-form").isHidden(), true, "no publish form for non-staff");

  const marker = `for alice ${Date.now()}`;
  await site.publish(["public", "$users", "$group1", "$staff"], marker);
  for (const channel of ["public", "$users", "$group1"]) await messageIn(page, channel, marker).waitFor();
  // $staff was published in the same command, before the others arrived: alice never gets it.
  assert.equal(await card(page, "$staff").locator("li").count(), 0);
  const received = await page.evaluate(() => window.demo.instant.channels.map((c) => c.name));
  assert.deepEqual(received, ["$group1", "$users", "public"]);
  await page.screenshot({ path: join(artifacts, "demo-alice.png"), fullPage: true });
  assert.deepEqual(problems, []);
});

test("bob (staff) sees $staff, and publishes from the page's form", { skip }, async (t) => {
  const { page, problems } = await openPage(t);
  await login(page, "bob");
  await waitConnected(page, "bob", ["public", "$users", "$staff"]);
  assert.equal(await card(page, "$group1").getAttribute("data-state"), "not-granted");

  const marker = `for staff ${Date.now()}`;
  await site.publish(["$staff"], marker);
  await messageIn(page, "$staff", marker).waitFor();

  await page.locator("#publish-form").waitFor();
  const important = `from the form ${Date.now()}`;
  await page.selectOption("#publish-channel", "$staff");
  await page.fill("#publish-message", important);
  await page.selectOption("#publish-event-class", "important");
  await page.click("#publish");
  await messageIn(page, "$staff", important).waitFor();
  await page.locator("#important", { hasText: important }).waitFor(); // routed by onEvent("important")
  assert.equal(await page.locator("#publish-result").textContent(), "published");
  await page.screenshot({ path: join(artifacts, "demo-bob.png"), fullPage: true });
  assert.deepEqual(problems, []);
});

test("an anonymous visitor sees only public", { skip }, async (t) => {
  const { page, problems } = await openPage(t);
  await waitConnected(page, "anonymous", ["public"]);
  for (const channel of ["$users", "$group1", "$staff"]) {
    assert.equal(await card(page, channel).getAttribute("data-state"), "not-granted", channel);
  }
  const marker = `for everyone ${Date.now()}`;
  await site.publish(["$users", "$staff", "public"], marker);
  await messageIn(page, "public", marker).waitFor();
  assert.equal(await page.locator(".channel:not([data-channel=public]) li").count(), 0);
  assert.deepEqual(problems, []);
});

test("logging out goes back to anonymous: the private channels stop", { skip }, async (t) => {
  const { page, problems } = await openPage(t);
  await login(page, "alice");
  await waitConnected(page, "alice", ["public", "$users", "$group1"]);
  await page.click("#logout");
  await waitConnected(page, "anonymous", ["public"]);
  assert.equal(await card(page, "$users").getAttribute("data-state"), "not-granted");
  const marker = `after logout ${Date.now()}`;
  await site.publish(["$users", "public"], marker);
  await messageIn(page, "public", marker).waitFor();
  assert.equal(await messageIn(page, "$users", marker).count(), 0);
  assert.deepEqual(problems, []);
});

test("a message published while the browser's socket was cut arrives after it reconnects", { skip, timeout: 60000 }, async (t) => {
  const missingHistory = await site.server.historyMissing("$users");
  if (missingHistory) {
    t.skip(missingHistory);
    return;
  }
  const { page, problems } = await openPage(t);
  await login(page, "alice");
  await waitConnected(page, "alice", ["public", "$users", "$group1"]);
  const before = `before the cut ${Date.now()}`;
  await site.publish(["$users"], before);
  await messageIn(page, "$users", before).waitFor();

  site.proxy.cut();
  t.after(() => site.proxy.restore());
  await page.locator('#status[data-state="connecting"]').waitFor();
  const during = `during the cut ${Date.now()}`;
  await site.publish(["$users"], during);
  site.proxy.restore();
  await page.locator('#status[data-state="connected"]').waitFor({ timeout: 30000 });
  await messageIn(page, "$users", during).waitFor({ timeout: 30000 });
  await card(page, "$users").locator(".sub-state", { hasText: "recovered" }).waitFor();
  assert.equal(await messageIn(page, "$users", during).count(), 1, "delivered once");
  assert.equal(await messageIn(page, "$users", before).count(), 1, "no duplicate of what it had");
  await page.screenshot({ path: join(artifacts, "demo-after-reconnect.png"), fullPage: true });
  // The cut itself is reported on the page by design (connection state); nothing else may fail.
  assert.deepEqual(problems.filter((p) => !/WebSocket/.test(p)), []);
});

test("tokens expire every few seconds and are refreshed through Django: the page stays connected", { skip, timeout: 60000 }, async (t) => {
  const { page, problems } = await openPage(t, site.shortTokensUrl);
  await login(page, "alice");
  await waitConnected(page, "alice", ["public", "$users", "$group1"]);
  let refreshes = 0;
  page.on("requestfinished", (request) => request.url().endsWith("/instant/get_token/") && refreshes++);
  const log = () => page.evaluate(() => window.demo.statusLog.join(","));
  const before = await log();
  // Two refresh rounds of the 4 s tokens (connection and subscriptions), however long they take.
  await page.waitForFunction(
    () => performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/instant/get_token/")).length >= 3,
    null,
    { timeout: 30000, polling: 200 },
  );
  assert.ok(refreshes >= 2, `get_token/ refreshes seen: ${refreshes}`);
  const marker = `after refresh ${Date.now()}`;
  await site.publish(["$users", "$group1"], marker);
  await messageIn(page, "$users", marker).waitFor();
  await messageIn(page, "$group1", marker).waitFor();
  assert.equal(await log(), before, "no disconnect or reconnect while the tokens were refreshed");
  assert.deepEqual(problems, []);
});

test("a page whose origin the server does not allow says what to add to allowed_origins", { skip }, async (t) => {
  // The server allows http://127.0.0.1:<port> only; the same site as http://localhost:<port> is another origin.
  const url = `http://localhost:${site.port}/`;
  const { page } = await openPage(t, url);
  const error = page.locator("#error", { hasText: "allowed_origins" });
  await error.waitFor();
  const text = await error.textContent();
  assert.match(text, new RegExp(`"http://localhost:${site.port}"`));
  assert.equal(await page.locator("#status").getAttribute("data-state"), "disconnected");
});
