import assert from "node:assert/strict";
import { test } from "node:test";

import { Message, decodePayload } from "../../dist/index.js";

const payload = { channel: "$users", site: "demo", message: "hello", data: { n: 1 }, event_class: "important", bucket: "b" };

test("a JSON-string payload (INSTANT_PAYLOAD_FORMAT string, django-instant >= 2.4) is decoded", () => {
  const m = Message.fromPublication({ channel: "$users", data: JSON.stringify(payload), offset: 7 });
  assert.equal(m.channel, "$users");
  assert.equal(m.message, "hello");
  assert.deepEqual(m.data, { n: 1 });
  assert.equal(m.eventClass, "important");
  assert.equal(m.site, "demo");
  assert.equal(m.bucket, "b");
  assert.equal(m.offset, 7);
  assert.ok(m.date instanceof Date);
  assert.ok(Math.abs(m.date.getTime() - Date.now()) < 5000);
});

test("an object payload (INSTANT_PAYLOAD_FORMAT object, django-instant 2.2) gives the same message", () => {
  const a = Message.fromPublication({ channel: "$users", data: payload });
  const b = Message.fromPublication({ channel: "$users", data: JSON.stringify(payload) });
  for (const key of ["channel", "message", "eventClass", "site", "bucket"]) assert.equal(a[key], b[key]);
  assert.deepEqual(a.data, b.data);
});

test("missing fields get 0.5's defaults: message '', data {}, eventClass '', bucket ''", () => {
  const m = Message.fromPublication({ channel: "public", data: JSON.stringify({ channel: "public", site: "s", message: "x" }) });
  assert.equal(m.message, "x");
  assert.deepEqual(m.data, {});
  assert.equal(m.eventClass, "");
  assert.equal(m.bucket, "");
  assert.equal(m.offset, undefined);
  const d = Message.fromPublication({ channel: "public", data: { data: { id: 3 } } });
  assert.equal(d.message, "");
  assert.deepEqual(d.data, { id: 3 });
});

test("payloads not made by the Django app are wrapped, not lost", () => {
  assert.deepEqual(decodePayload("plain text, not JSON"), { message: "plain text, not JSON" });
  assert.deepEqual(decodePayload(JSON.stringify("a JSON string")), { message: "a JSON string" });
  assert.deepEqual(decodePayload({ text: "hi" }), { data: { text: "hi" } });
  assert.deepEqual(decodePayload([1, 2]), { data: [1, 2] });
  assert.deepEqual(decodePayload(42), { data: 42 });
  assert.deepEqual(decodePayload("[1,2]"), { data: [1, 2] });
  assert.deepEqual(decodePayload(undefined), {});
  const m = Message.fromPublication({ channel: "feed", data: { text: "hi" } });
  assert.deepEqual(m.data, { text: "hi" });
  assert.equal(m.message, "");
});

test("the subscription's channel wins over the payload's; the payload's is used when there is none", () => {
  assert.equal(Message.fromPublication({ channel: "real", data: { channel: "claimed", message: "m" } }).channel, "real");
  assert.equal(new Message("", { channel: "claimed", message: "m" }).channel, "claimed");
});

test("a non-string message is kept as JSON text; a payload date is used when valid", () => {
  const m = new Message("c", { message: { a: 1 }, date: "2024-01-02T03:04:05Z" });
  assert.equal(m.message, '{"a":1}');
  assert.equal(m.date.toISOString(), "2024-01-02T03:04:05.000Z");
  assert.ok(Math.abs(new Message("c", { message: "m", date: "not a date" }).date.getTime() - Date.now()) < 5000);
});

test("django-instant 0.5 field names still work: channelName, msg", () => {
  const m = Message.fromPublication({ channel: "$users", data: payload });
  assert.equal(m.channelName, "$users");
  assert.equal(m.msg, "hello");
});

test("tags and the raw payload are kept", () => {
  const m = Message.fromPublication({ channel: "c", data: { message: "m", extra: 1 }, tags: { k: "v" } });
  assert.deepEqual(m.tags, { k: "v" });
  assert.equal(m.payload.extra, 1);
});
