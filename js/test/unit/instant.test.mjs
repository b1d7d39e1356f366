// The Instant class without a websockets server: Django calls, errors, routing.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Instant, InstantError, websocketEndpoints } from "../../dist/index.js";
import { djangoState, fakeFetch } from "../helpers/fake-django.mjs";

const WS = "ws://127.0.0.1:1";
const alice = { password: "pw", channels: [{ name: "public", level: "public" }, { name: "$users", level: "users" }] };

function setup(options = {}) {
  const state = djangoState({ users: { alice }, anonymous: options.anonymous ?? null });
  const instant = new Instant({ backend: "http://site.test", websockets: WS, fetch: fakeFetch(state), timeout: 2000, ...options.instant });
  return { state, instant };
}

const pub = (channel, payload) => ({ channel, data: JSON.stringify({ channel, site: "s", ...payload }) });

async function rejectsWith(promise, code, pattern) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof InstantError, `an InstantError, got ${error}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

// ---- routing ---------------------------------------------------------------------------------

test("on(channel) gets its channel only; onEvent(class) its event_class only; onMessage everything", () => {
  const { instant } = setup();
  const seen = [];
  instant.on("$users", (m) => seen.push(`users:${m.message}`));
  instant.onEvent("important", (m) => seen.push(`important:${m.message}`));
  instant.onMessage((m) => seen.push(`all:${m.message}`));
  instant.deliver(pub("$users", { message: "a" }));
  instant.deliver(pub("public", { message: "b", event_class: "important" }));
  instant.deliver(pub("public", { message: "c", event_class: "other" }));
  assert.deepEqual(seen, ["users:a", "all:a", "important:b", "all:b", "all:c"]);
});

test("dispatch order is channel, event class, everything; a handler registered twice runs once", () => {
  const { instant } = setup();
  const seen = [];
  const both = () => seen.push("both");
  instant.onMessage(() => seen.push("all"));
  instant.onEvent("e", () => seen.push("event"));
  instant.on("c", () => seen.push("channel"));
  instant.on("c", both);
  instant.onMessage(both);
  instant.deliver(pub("c", { message: "m", event_class: "e" }));
  assert.deepEqual(seen, ["channel", "both", "event", "all"]);
});

test("several handlers per channel, in registration order", () => {
  const { instant } = setup();
  const seen = [];
  instant.on("c", () => seen.push(1));
  instant.on("c", () => seen.push(2));
  instant.deliver(pub("c", { message: "m" }));
  assert.deepEqual(seen, [1, 2]);
});

test("off: the returned function, off(handler), off(channel), off(channel, handler), offEvent, off()", () => {
  const { instant } = setup();
  let n = 0;
  const count = () => n++;
  const dispose = instant.on("c", count);
  dispose();
  instant.deliver(pub("c", { message: "m" }));
  assert.equal(n, 0, "disposer");

  instant.on("c", count);
  instant.onEvent("e", count);
  instant.onMessage(count);
  instant.off(count);
  instant.deliver(pub("c", { message: "m", event_class: "e" }));
  assert.equal(n, 0, "off(handler) removes it everywhere");

  const other = () => n++;
  instant.on("c", count);
  instant.on("c", other);
  instant.off("c", count);
  instant.deliver(pub("c", { message: "m" }));
  assert.equal(n, 1, "off(channel, handler) keeps the others");
  instant.off("c");
  instant.deliver(pub("c", { message: "m" }));
  assert.equal(n, 1, "off(channel) removes all of the channel");

  instant.onEvent("e", count);
  instant.offEvent("e");
  instant.onMessage(count);
  instant.off();
  instant.deliver(pub("c", { message: "m", event_class: "e" }));
  assert.equal(n, 1, "offEvent(class) and off()");
});

test("a handler that throws is reported to onError and the others still run", async () => {
  const { instant } = setup();
  const errors = [];
  const seen = [];
  instant.onError((e) => errors.push(e));
  instant.on("c", () => {
    throw new Error("boom");
  });
  instant.on("c", async () => {
    throw new Error("async boom");
  });
  instant.onMessage(() => seen.push("ran"));
  instant.deliver(pub("c", { message: "m" }));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, ["ran"]);
  assert.equal(errors.length, 2);
  assert.match(errors[0].message, /handler of c threw: boom/);
  assert.match(errors[1].message, /async boom/);
});

test("handlers must be functions", () => {
  const { instant } = setup();
  assert.throws(() => instant.on("c", "not a function"), TypeError);
});

// ---- Django calls ----------------------------------------------------------------------------

test("login posts JSON credentials with the session cookie and keeps the user's channels", async () => {
  const { state, instant } = setup();
  const session = await instant.login("alice", "pw");
  assert.deepEqual(session, { user: "alice", anonymous: false, channels: alice.channels });
  assert.deepEqual(instant.channels, alice.channels);
  assert.equal(instant.user, "alice");
  assert.equal(instant.csrfToken, state.csrf);
  const call = state.calls.at(-1);
  assert.equal(call.path, "/instant/login/");
  assert.deepEqual(JSON.parse(call.body), { username: "alice", password: "pw" });
  assert.equal(call.headers["content-type"], "application/json");
});

test("a wrong password rejects with bad_credentials", async () => {
  const { instant } = setup();
  await rejectsWith(instant.login("alice", "nope"), "bad_credentials", /invalid username or password/);
  assert.equal(instant.user, null);
});

test("getToken for an anonymous session without INSTANT_ALLOW_ANONYMOUS says to log in", async () => {
  const { instant } = setup();
  await rejectsWith(instant.getToken(), "not_logged_in", /login\(username, password\).*INSTANT_ALLOW_ANONYMOUS/s);
});

test("connect() when not logged in rejects with not_logged_in before touching the websockets server", async () => {
  const { instant } = setup();
  await rejectsWith(instant.connect(), "not_logged_in", /log/);
  assert.equal(instant.state, "disconnected");
});

test("an anonymous visitor allowed in gets the public channels", async () => {
  const { instant } = setup({ anonymous: [{ name: "public", level: "public" }] });
  const session = await instant.getToken();
  assert.deepEqual(session, { user: "", anonymous: true, channels: [{ name: "public", level: "public" }] });
});

test("an unreachable backend rejects with backend_unreachable naming the URL", async () => {
  const { state, instant } = setup();
  state.down = true;
  await rejectsWith(instant.getToken(), "backend_unreachable", /http:\/\/site\.test\/instant\/get_token\/.*running/s);
});

test("a backend that does not answer in time rejects within the timeout", async () => {
  const instant = new Instant({ backend: "http://site.test", websockets: WS, timeout: 200, fetch: (url, init) =>
    new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")))) });
  const started = Date.now();
  await rejectsWith(instant.getToken(), "backend_unreachable", /did not answer .* within 200 ms/);
  assert.ok(Date.now() - started < 2000);
});

test("instant's URLs not mounted: the 404 says how to mount them", async () => {
  const { instant } = setup({ instant: { apiPath: "/elsewhere/" } });
  await rejectsWith(instant.getToken(), "backend_error", /include\("instant\.urls"\)/);
});

test("a 500 or a non-token answer is a backend_error", async () => {
  const five = new Instant({ backend: "http://x", websockets: WS, fetch: async () => new Response("oops", { status: 500 }) });
  await rejectsWith(five.getToken(), "backend_error", /answered 500 .*Django log/);
  const other = new Instant({ backend: "http://x", websockets: WS, fetch: async () => new Response("{}", { status: 200 }) });
  await rejectsWith(other.getToken(), "backend_error", /instant's token response/);
});

test("logout posts the CSRF token of the last response, then forgets the session", async () => {
  const { state, instant } = setup();
  await instant.login("alice", "pw");
  await instant.logout();
  const call = state.calls.at(-1);
  assert.equal(call.path, "/instant/logout/");
  assert.equal(call.headers["x-csrftoken"], state.csrf);
  assert.equal(state.session, null);
  assert.equal(instant.user, null);
  assert.deepEqual(instant.channels, []);
  await instant.logout(); // not logged in any more: fine
});

test("a CSRF refusal on logout is explained", async () => {
  const { state, instant } = setup();
  await instant.login("alice", "pw");
  state.csrf = "rotated-elsewhere";
  await rejectsWith(instant.logout(), "backend_error", /CSRF/);
});

test("connect({channels}) only takes granted channels", async () => {
  const { instant } = setup();
  await instant.login("alice", "pw");
  await rejectsWith(instant.connect({ channels: ["$staff"] }), "usage", /not granted to this session: \$staff \(granted: public, \$users\)/);
});

test("login() arguments are checked", async () => {
  const { instant } = setup();
  await rejectsWith(instant.login("alice"), "usage");
});

// ---- addresses -------------------------------------------------------------------------------

test("websockets addresses: path added, http read as ws, health URL beside the endpoint", () => {
  assert.deepEqual(websocketEndpoints("ws://localhost:8427"), {
    endpoint: "ws://localhost:8427/connection/websocket",
    health: "http://localhost:8427/health",
  });
  assert.equal(websocketEndpoints("http://h:1/").endpoint, "ws://h:1/connection/websocket");
  assert.deepEqual(websocketEndpoints("wss://example.com/rt/connection/websocket"), {
    endpoint: "wss://example.com/rt/connection/websocket",
    health: "https://example.com/rt/health",
  });
  assert.throws(() => websocketEndpoints("ftp://x"), (e) => e.code === "usage");
  assert.throws(() => websocketEndpoints("not a url"), (e) => e.code === "usage");
});

test("without a page location the websockets address is required", () => {
  assert.throws(() => new Instant({ fetch: fakeFetch(djangoState()) }), (e) => e.code === "usage" && /websockets/.test(e.message));
});

test("in a page, the defaults are the page's origin (backend) and host (websockets)", async () => {
  const saved = globalThis.location;
  globalThis.location = { origin: "https://site.test", protocol: "https:", host: "site.test" };
  try {
    const state = djangoState({ users: { alice } });
    const urls = [];
    const fetch = (url, init) => {
      urls.push(url);
      return fakeFetch(state)(url, init);
    };
    const instant = new Instant({ fetch });
    assert.equal(instant.websockets, "wss://site.test/connection/websocket");
    await instant.login("alice", "pw");
    assert.deepEqual(urls, ["/instant/login/"]);
  } finally {
    if (saved === undefined) delete globalThis.location;
    else globalThis.location = saved;
  }
});
