// django-instant 0.5's useInstant() API on top of Instant.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Centrifuge, Message, useInstant } from "../../dist/index.js";
import { djangoState, fakeFetch } from "../helpers/fake-django.mjs";

const alice = { password: "pw", channels: [{ name: "public", level: "public" }, { name: "$group1", level: "groups" }] };

function shim() {
  const state = djangoState({ users: { alice } });
  const instant = useInstant({ fetch: fakeFetch(state) });
  return { state, instant };
}

test("useInstant() has 0.5's members", () => {
  const { instant } = shim();
  for (const name of ["init", "login", "connect", "subscribe", "onMessage", "getClient"]) {
    assert.equal(typeof instant[name], "function", name);
  }
  assert.ok(instant.onReady instanceof Promise);
  assert.ok(instant.channels instanceof Set);
});

test("fix: init() before login no longer hangs onReady; login() then gives the channels", async () => {
  const { instant } = shim();
  await instant.init("http://site.test", "ws://127.0.0.1:1");
  await instant.onReady; // 0.5: pending for ever (init threw on the 403)
  assert.equal(instant.channels.size, 0);
  await instant.login("alice", "pw"); // 0.5 ignored the response
  assert.deepEqual(
    [...instant.channels].map((c) => [c.name, c.level, typeof c.token]),
    [["public", "public", "string"], ["$group1", "groups", "string"]],
  );
});

test("init() with a logged-in session fills channels like 0.5", async () => {
  const { state, instant } = shim();
  state.session = "alice";
  await instant.init("http://site.test", "ws://127.0.0.1:1", false);
  assert.deepEqual([...instant.channels].map((c) => c.name), ["public", "$group1"]);
});

test("init() against an unreachable backend rejects, and onReady still resolves", async () => {
  const { state, instant } = shim();
  state.down = true;
  await assert.rejects(instant.init("http://site.test", "ws://127.0.0.1:1"), (e) => e.code === "backend_unreachable");
  await instant.onReady;
});

test("onMessage sets the one handler (a second call replaces it); it gets 0.5's Message fields", async () => {
  const { instant } = shim();
  await instant.init("http://site.test", "ws://127.0.0.1:1");
  const first = [];
  const second = [];
  instant.onMessage((m) => first.push(m));
  instant.onMessage((m) => second.push(m));
  instant.instant.deliver({ channel: "public", data: JSON.stringify({ channel: "public", site: "s", message: "hi", event_class: "e" }) });
  assert.equal(first.length, 0);
  assert.equal(second.length, 1);
  const m = second[0];
  assert.ok(m instanceof Message);
  assert.equal(m.channelName, "public");
  assert.equal(m.msg, "hi");
  assert.equal(m.eventClass, "e");
  assert.deepEqual(m.data, {});
  assert.equal(m.bucket, "");
  assert.ok(m.date instanceof Date);
});

test("getClient() is the centrifuge client", async () => {
  const { instant } = shim();
  await instant.init("http://site.test", "ws://127.0.0.1:1");
  const client = instant.getClient();
  assert.ok(client instanceof Centrifuge);
  assert.equal(instant.getClient(), client);
  assert.equal(client.state, "disconnected");
});

test("connect() when nobody logged in rejects with what to do (0.5 hung)", async () => {
  const { instant } = shim();
  await instant.init("http://site.test", "ws://127.0.0.1:1");
  await assert.rejects(instant.connect(), (e) => e.code === "not_logged_in" && /login/.test(e.message));
});

test("calls before init() say so", async () => {
  const { instant } = shim();
  await assert.rejects(instant.login("a", "b"), (e) => e.code === "usage" && /init/.test(e.message));
  assert.throws(() => instant.getClient(), (e) => e.code === "usage");
});
