// client_commands_per_second / client_commands_burst (docs/configuration.md, docs/security.md):
// a per-connection token bucket of burst + client_channel_limit commands. A command over it gets
// error 111 "too many requests" (temporary) without running; a client that goes on for another
// whole bucket is closed with 3013. Real clients, a 500-channel reconnect included, never notice.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cleanup,
  command,
  connToken,
  connected,
  httpRequest,
  ms,
  newClient,
  newSub,
  rawConnect,
  sleep,
  startRelay,
  startServer,
  waitUntil,
} from './harness.mjs';

afterEach(cleanup);

const PUBLIC = { allow_subscribe_for_client: true, allow_publish_for_client: true };

// { 'name{labels}': value } of every sample of /metrics.
async function metrics(server) {
  const res = await httpRequest(`${server.httpUrl}/metrics`);
  assert.equal(res.status, 200, res.text);
  const samples = {};
  for (const line of res.text.split('\n')) {
    const m = line.match(/^([a-z_]+(?:\{[^}]*\})?) (-?[0-9.e+]+)$/);
    if (m) samples[m[1]] = Number(m[2]);
  }
  return samples;
}

const rateLogLines = (server) => server.output.split('\n').filter((l) => l.includes('exceeds client_commands_per_second'));

// `count` ping commands with ids from `first`, in frames of `per` commands (each frame stays far
// under the 64 KiB message limit).
function sendPings(conn, first, count, per = 500) {
  for (let i = 0; i < count; i += per) {
    const lines = [];
    for (let id = first + i; id < first + Math.min(count, i + per); id++) lines.push(`{"id":${id},"ping":{}}`);
    conn.send(lines.join('\n'));
  }
}

describe('command rate limit', () => {
  test('a flood of 10,000 commands: the bucket is answered, then 111 (temporary, not executed), then close 3013; counted and logged once', async () => {
    // Defaults: 100/s, burst 200, client_channel_limit 128: a bucket of 328 commands (connect included).
    const server = await startServer({ ...PUBLIC, prometheus: true });
    const conn = await rawConnect(server, { token: connToken('flooder') });
    sendPings(conn, 2, 10000);
    const close = await conn.waitClose(ms(10000));
    assert.equal(close.code, 3013, 'too many requests');
    const replies = conn.messages.filter((m) => typeof m.id === 'number' && m.id >= 2);
    const ok = replies.filter((m) => m.error === undefined);
    const limited = replies.filter((m) => m.error?.code === 111);
    assert.equal(ok.length + limited.length, replies.length, `only pings and 111s: ${JSON.stringify(replies.find((m) => m.error && m.error.code !== 111))}`);
    // The bucket (327 after connect) plus what refills while the frames arrive (100/s).
    assert.ok(ok.length >= 327 && ok.length < 327 + 150, `answered: ${ok.length}`);
    assert.ok(replies.slice(0, ok.length).every((m) => m.error === undefined), 'the answered commands come first');
    // Then about another bucket of 111s, and the close: never the whole flood.
    assert.ok(limited.length >= 300 && limited.length < 328 + 150, `111s: ${limited.length}`);
    assert.deepEqual(limited[0].error, { code: 111, message: 'too many requests', temporary: true });
    assert.ok(replies.length < 10000 / 2, 'the connection is closed long before the flood ends');
    assert.deepEqual(
      replies.map((m) => m.id),
      Array.from({ length: replies.length }, (_, i) => i + 2),
      'one reply per command, in order',
    );

    const samples = await metrics(server);
    assert.equal(samples['centrifugo_client_num_reply_errors{code="111"}'], limited.length);
    assert.equal(samples['centrifugo_client_num_server_disconnects{code="3013"}'], 1);
    assert.equal(rateLogLines(server).length, 1, 'one log line for the connection');

    // Everyone else is served.
    const other = await rawConnect(server, { token: connToken('bob') });
    assert.deepEqual((await command(other, 'subscribe', { channel: 'news' })).subscribe, {});
  });

  test('refused commands are not executed; a client that slows down is served again and stays connected', async () => {
    // A bucket of 10 + 1 = 11 commands refilled at 20/s.
    const server = await startServer({ ...PUBLIC, client_commands_per_second: 20, client_commands_burst: 10, client_channel_limit: 1 });
    const sub = await rawConnect(server, { token: connToken('reader') });
    assert.deepEqual((await command(sub, 'subscribe', { channel: 'room' })).subscribe, {});
    const pub = await rawConnect(server, { token: connToken('writer') }); // connect took 1 of 11
    const lines = [];
    for (let i = 0; i < 15; i++) lines.push(JSON.stringify({ id: 2 + i, publish: { channel: 'room', data: { i } } }));
    pub.send(lines.join('\n'));
    await pub.reply(16);
    const replies = pub.messages.filter((m) => m.id >= 2);
    const ok = replies.filter((m) => m.publish !== undefined);
    const limited = replies.filter((m) => m.error?.code === 111);
    assert.ok(ok.length >= 10 && ok.length <= 11, `published: ${ok.length}`);
    assert.equal(ok.length + limited.length, 15);
    // Exactly the answered publications were delivered: a refused publish did not run.
    await waitUntil(() => sub.messages.filter((m) => m.push?.pub).length >= ok.length, { what: 'the publications' });
    await sleep(100);
    const delivered = sub.messages.filter((m) => m.push?.pub).map((m) => m.push.pub.data.i);
    assert.deepEqual(delivered, ok.map((m) => m.id - 2));

    // Debt of up to 5 commands at 20/s: a quarter of a second and the bucket serves again.
    await sleep(ms(400));
    assert.deepEqual((await command(pub, 'publish', { channel: 'room', data: { i: 'later' } })).publish, {});
    assert.ok(pub.isOpen, 'still connected');
  });

  test('a client that keeps sending above the rate is disconnected with 3013', async () => {
    // 50/s with a bucket of 20 + 1; the client sends 5 commands every 20 ms (250/s).
    const server = await startServer({ ...PUBLIC, client_commands_per_second: 50, client_commands_burst: 20, client_channel_limit: 1 });
    const conn = await rawConnect(server, { token: connToken('steady') });
    let id = 2;
    const started = Date.now();
    while (!conn.closeInfo && Date.now() - started < ms(5000)) {
      sendPings(conn, id, 5);
      id += 5;
      await sleep(20);
    }
    assert.equal((await conn.waitClose()).code, 3013);
    assert.ok(conn.messages.some((m) => m.error?.code === 111), 'refused before being disconnected');
  });

  test('client_commands_per_second: 0 turns the limit off', async () => {
    const server = await startServer({ ...PUBLIC, client_commands_per_second: 0, client_channel_limit: 1 });
    const conn = await rawConnect(server, { token: connToken('free') });
    sendPings(conn, 2, 3000);
    await conn.reply(3001, { timeout: ms(10000) });
    assert.equal(conn.messages.filter((m) => m.id >= 2 && m.error === undefined).length, 3000);
    assert.equal(rateLogLines(server).length, 0);
  });

  test('the official client reconnecting with 500 subscriptions is never limited (the bucket holds client_channel_limit on top of the burst)', async () => {
    // Default rate and burst; a page with 500 subscriptions needs client_channel_limit 500. After a
    // cut the SDK sends connect and 500 subscribes at once.
    const server = await startServer({ ...PUBLIC, client_channel_limit: 500, prometheus: true });
    const relay = await startRelay(server.port);
    const client = newClient(server, { url: relay.url, token: connToken('reader') });
    const subs = [];
    for (let i = 0; i < 500; i++) {
      const sub = newSub(client, `page-${i}`);
      sub.subscribe();
      subs.push(sub);
    }
    // Generous waits: with INSTANT_TEST_DEFER_ENGINE=1 under ASan each subscribe costs a loop turn.
    await connected(client, ms(20000));
    const allSubscribed = (n) => subs.every((s) => s.log.count('subscribed') >= n);
    await waitUntil(() => allSubscribed(1), { timeout: ms(20000), what: '500 subscriptions' });

    relay.cut();
    await waitUntil(() => client.log.count('connected') >= 2 && allSubscribed(2), {
      timeout: ms(20000),
      what: '500 resubscriptions after the reconnect',
    });
    const refused = subs.flatMap((s) => s.log.all('subscribing').filter((c) => c.code === 111));
    assert.deepEqual(refused, [], 'no subscription was refused with 111');
    const samples = await metrics(server);
    assert.equal(samples['centrifugo_client_num_reply_errors{code="111"}'] ?? 0, 0);
    assert.equal(samples['centrifugo_client_num_server_disconnects{code="3013"}'] ?? 0, 0);
    assert.equal(rateLogLines(server).length, 0);
  });
});
