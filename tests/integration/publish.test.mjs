// Publications end to end: sent through the legacy /api, /api/publish, /api/broadcast and npm cent.js,
// received by the official client and by raw ws; payload bytes, newlines, ordering, and client-side
// publish permissions.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { CentClient, CentException } from 'cent.js';
import {
  apiCall,
  apiLegacy,
  cleanup,
  command,
  connToken,
  connected,
  ms,
  newClient,
  newSub,
  publish,
  rawConnect,
  startServer,
  subscribed,
} from './harness.mjs';

afterEach(cleanup);

const PUBLIC = { allow_subscribe_for_client: true };

async function subscriber(server, channel) {
  const client = newClient(server, { token: connToken('reader') });
  const sub = newSub(client, channel);
  sub.subscribe();
  await connected(client);
  await sub.log.wait('subscribed');
  return sub;
}

async function rawSubscriber(server, ...channels) {
  const conn = await rawConnect(server, { token: connToken('reader') });
  for (const channel of channels) {
    const r = await command(conn, 'subscribe', { channel });
    assert.deepEqual(r.subscribe, {}, `subscribe ${channel}: ${JSON.stringify(r)}`);
  }
  return conn;
}

// The text of the `data` value inside the first pub push for `channel` in a raw frame.
function rawPubData(conn, channel) {
  for (const f of conn.frames) {
    for (const line of f.text.split('\n')) {
      const prefix = `{"push":{"channel":${JSON.stringify(channel)},"pub":{"data":`;
      if (line.startsWith(prefix)) return line.slice(prefix.length, line.length - 3);
    }
  }
  return undefined;
}

describe('delivery to the official client', () => {
  test('through the legacy /api (Authorization: apikey)', async () => {
    const server = await startServer(PUBLIC);
    const sub = await subscriber(server, 'news');
    const res = await apiLegacy(server, [{ method: 'publish', params: { channel: 'news', data: { via: 'legacy' } } }]);
    assert.equal(res.status, 200);
    assert.deepEqual(res.lines, [{ result: {} }]);
    assert.deepEqual((await sub.log.wait('publication')).data, { via: 'legacy' });
  });

  test('through /api/publish (X-API-Key)', async () => {
    const server = await startServer(PUBLIC);
    const sub = await subscriber(server, 'news');
    const res = await apiCall(server, 'publish', { channel: 'news', data: { via: 'v5' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { result: {} });
    assert.deepEqual((await sub.log.wait('publication')).data, { via: 'v5' });
  });

  test('through cent.js publish, broadcast and pipeline', async () => {
    const server = await startServer(PUBLIC);
    const a = await subscriber(server, 'a');
    const b = await subscriber(server, 'b');
    const cent = new CentClient({ url: `${server.httpUrl}/api`, apiKey: server.apiKey });

    assert.deepEqual(await cent.publish({ channel: 'a', data: { n: 1 } }), {});
    assert.deepEqual((await a.log.wait('publication')).data, { n: 1 });

    const br = await cent.broadcast({ channels: ['a', 'b'], data: { n: 2 } });
    assert.equal(br.responses.length, 2);
    assert.deepEqual((await a.log.wait('publication', { nth: 2 })).data, { n: 2 });
    assert.deepEqual((await b.log.wait('publication')).data, { n: 2 });

    // pipeline() posts newline-delimited commands to /api with X-API-Key
    const replies = await cent.pipeline([
      { method: 'publish', params: { channel: 'a', data: { n: 3 } } },
      { method: 'publish', params: { channel: 'b', data: { n: 4 } } },
    ]);
    assert.deepEqual(replies, [{}, {}]);
    assert.deepEqual((await a.log.wait('publication', { nth: 3 })).data, { n: 3 });
    assert.deepEqual((await b.log.wait('publication', { nth: 2 })).data, { n: 4 });
  });

  test('cent.js surfaces API errors as exceptions (unknown namespace 102)', async () => {
    const server = await startServer(PUBLIC);
    const cent = new CentClient({ url: `${server.httpUrl}/api`, apiKey: server.apiKey });
    // cent.js wraps the {"error":{...}} object in a CentException (its message is not useful)
    await assert.rejects(cent.publish({ channel: 'nons:x', data: {} }), CentException);
    const res = await apiCall(server, 'publish', { channel: 'nons:x', data: {} });
    assert.equal(res.json?.error?.code, 102, res.text);
  });

  test('cent.js with a wrong API key fails', async () => {
    const server = await startServer(PUBLIC);
    const cent = new CentClient({ url: `${server.httpUrl}/api`, apiKey: 'wrong' });
    await assert.rejects(cent.publish({ channel: 'a', data: {} }));
  });

  test('object, string, number, array and JSON-string data arrive equal', async () => {
    const server = await startServer(PUBLIC);
    const sub = await subscriber(server, 'types');
    const payloads = [
      { nested: { list: [1, 2.5, -3e-7, null, true], s: 'quote " backslash \\ tab \t unicode ü ☃ 😀 \u2028' } },
      'a plain string',
      '{"this":"is a JSON document inside a string"}',
      42,
      [1, 'two', { three: 3 }],
      null,
      true,
      {},
    ];
    for (const data of payloads) await publish(server, 'types', data);
    for (let i = 0; i < payloads.length; i++) {
      const p = await sub.log.wait('publication', { nth: i + 1 });
      assert.deepEqual(p.data, payloads[i], `payload #${i}`);
    }
  });
});

describe('payload bytes on the wire', () => {
  test('data is embedded byte for byte: key order, escapes and number spellings kept', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawSubscriber(server, 'exact', 'exact2');
    const dataText = '{"z":1,"a":[1.0,1e3,-0.5E-2],"u":"\\u00fc\\n\\"","s":"ü☃","e":{}}';
    const res = await apiLegacy(server, `{"method":"publish","params":{"channel":"exact","data":${dataText}}}`);
    assert.deepEqual(res.lines, [{ result: {} }]);
    await conn.waitMessage((m) => m.push?.channel === 'exact');
    assert.equal(rawPubData(conn, 'exact'), dataText);

    const strText = '"{\\"json\\":\\"in a string\\"}"';
    const res2 = await apiCall(server, 'publish', `{"channel":"exact2","data":${strText}}`);
    assert.equal(res2.status, 200, res2.text);
    await conn.waitMessage((m) => m.push?.channel === 'exact2');
    assert.equal(rawPubData(conn, 'exact2'), strText);
  });

  test('JSON that Go and JS accept but strict parsers refuse is delivered too (huge integers, 1e400, lone surrogates)', async () => {
    // A string cut in the middle of an emoji is serialized by JSON.stringify as a lone "\ud83d";
    // Centrifugo (syntax-only check) forwards all of these, so we must too.
    const server = await startServer(PUBLIC);
    const conn = await rawSubscriber(server, 'odd');
    const dataText = '{"big":123456789012345678901234567890,"huge":1e400,"cut":"\\ud83d"}';
    const res = await apiCall(server, 'publish', `{"channel":"odd","data":${dataText}}`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(JSON.parse(res.text), { result: {} });
    await conn.waitMessage((m) => m.push?.channel === 'odd');
    assert.equal(rawPubData(conn, 'odd'), dataText);
  });

  test('pretty-printed data with raw newlines arrives on one line, parseable and equal', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawSubscriber(server, 'nl');
    const sub = await subscriber(server, 'nl');
    const data = { title: 'multi\nline', list: [1, 2, { deep: ['x', 'y'] }], empty: {}, s: 'a\r\nb' };
    const pretty = JSON.stringify(data, null, 2);
    assert.ok(pretty.includes('\n'));
    // The legacy API is newline-delimited, so a pretty-printed command cannot go there in one
    // piece; the per-method endpoint takes the whole body as one JSON document.
    const res = await apiCall(server, 'publish', `{\n  "channel": "nl",\n  "data": ${pretty}\n}\n`);
    assert.equal(res.status, 200, res.text);
    await conn.waitMessage((m) => m.push?.channel === 'nl');
    assert.deepEqual(conn.badLines, [], 'every line of every frame must be JSON');
    const push = conn.messages.find((m) => m.push?.channel === 'nl');
    assert.deepEqual(push.push.pub.data, data);
    assert.deepEqual((await sub.log.wait('publication')).data, data);
  });
});

describe('ordering', () => {
  test('1000 publications sent back to back arrive in order (per-method API on one keep-alive connection, and one legacy batch)', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawSubscriber(server, 'seq');
    const sub = await subscriber(server, 'seq');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 1000; i++) {
        const res = await apiCall(server, 'publish', { channel: 'seq', data: { i } }, { agent });
        if (res.status !== 200) assert.fail(`publish #${i}: HTTP ${res.status} ${res.text}`);
      }
    } finally {
      agent.destroy();
    }
    const batch = [];
    for (let i = 1000; i < 2000; i++) batch.push({ method: 'publish', params: { channel: 'seq', data: { i } } });
    const res = await apiLegacy(server, batch);
    assert.equal(res.lines.length, 1000);
    assert.ok(res.lines.every((l) => l.result), 'every command of the batch succeeds');

    const pubs = await conn.waitMessages((m) => m.push?.channel === 'seq', 2000, { timeout: ms(10000) });
    assert.deepEqual(
      pubs.map((m) => m.push.pub.data.i),
      Array.from({ length: 2000 }, (_, i) => i),
    );
    await sub.log.wait('publication', { nth: 2000, timeout: ms(10000) });
    assert.deepEqual(
      sub.log.all('publication').map((p) => p.data.i),
      Array.from({ length: 2000 }, (_, i) => i),
    );
  });
});

describe('fan-out', () => {
  test('every subscriber (connections spread over the worker loops) gets every publication, in order', async () => {
    const server = await startServer({ ...PUBLIC, workers: 3 });
    const conns = [];
    for (let i = 0; i < 8; i++) conns.push(await rawSubscriber(server, 'fan'));
    for (let i = 0; i < 100; i++) await publish(server, 'fan', { i });
    for (const conn of conns) {
      const pubs = await conn.waitMessages((m) => m.push?.channel === 'fan', 100);
      assert.deepEqual(
        pubs.map((m) => m.push.pub.data.i),
        Array.from({ length: 100 }, (_, i) => i),
      );
    }
  });
});

describe('publish from the client', () => {
  const config = {
    allow_subscribe_for_client: true,
    namespaces: [
      { name: 'chat', allow_subscribe_for_client: true, allow_publish_for_client: true },
      { name: 'members', allow_subscribe_for_client: true, allow_publish_for_subscriber: true },
    ],
  };

  test('allowed: subscribers get the publication with the publisher info', async () => {
    const server = await startServer(config);
    const reader = await subscriber(server, 'chat:room');
    const writer = newClient(server, { token: connToken('writer') });
    const writerCtx = await connected(writer);
    await writer.publish('chat:room', { text: 'hi' });
    const p = await reader.log.wait('publication');
    assert.deepEqual(p.data, { text: 'hi' });
    assert.equal(p.info?.user, 'writer');
    assert.equal(p.info?.client, writerCtx.client);
  });

  test('denied without allow_publish_*: error 103', async () => {
    const server = await startServer(config);
    const writer = newClient(server, { token: connToken('writer') });
    await connected(writer);
    await assert.rejects(writer.publish('news', { text: 'hi' }), (e) => {
      assert.equal(e.code, 103, JSON.stringify(e));
      return true;
    });
    assert.equal(writer.state, 'connected');
  });

  test('allow_publish_for_subscriber: 103 before subscribing, allowed after', async () => {
    const server = await startServer(config);
    const writer = newClient(server, { token: connToken('writer') });
    await connected(writer);
    await assert.rejects(writer.publish('members:1', { n: 1 }), (e) => e.code === 103);
    const sub = newSub(writer, 'members:1');
    await subscribed(sub);
    await sub.publish({ n: 2 });
    const p = await sub.log.wait('publication');
    assert.deepEqual(p.data, { n: 2 });
    assert.equal(p.info?.user, 'writer');
  });

  test('raw publish reply is {} and the push carries info', async () => {
    const server = await startServer(config);
    const conn = await rawConnect(server, { token: connToken('writer') });
    await command(conn, 'subscribe', { channel: 'chat:x' });
    const r = await command(conn, 'publish', { channel: 'chat:x', data: { t: 1 } });
    assert.deepEqual(r, { id: 3, publish: {} });
    const push = await conn.waitMessage((m) => m.push);
    assert.equal(push.push.channel, 'chat:x');
    assert.deepEqual(push.push.pub.data, { t: 1 });
    assert.equal(push.push.pub.info.user, 'writer');
    assert.equal(push.push.pub.info.client, conn.connectReply.client);
  });
});
