// Client protocol v2 framing on raw ws: batched commands, ordering of replies, bad requests,
// unknown fields, keepalive pings/pongs, frame size limit.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cleanup,
  command,
  connToken,
  connected,
  httpRequest,
  isPing,
  ms,
  newClient,
  newSub,
  openWs,
  publish,
  apiLegacy,
  rawConnect,
  sleep,
  startServer,
  waitUntil,
} from './harness.mjs';

afterEach(cleanup);

const PUBLIC = { allow_subscribe_for_client: true };

describe('framing', () => {
  test('connect and several subscribes in ONE frame: every reply, in command order', async () => {
    const server = await startServer(PUBLIC);
    const conn = await openWs(server);
    conn.send([
      { id: 1, connect: { token: connToken('alice'), name: 'js' } },
      { id: 2, subscribe: { channel: 'a' } },
      { id: 3, subscribe: { channel: 'b' } },
      { id: 4, subscribe: { channel: '$denied' } },
      { id: 5, subscribe: { channel: 'c' } },
    ]);
    await conn.reply(5);
    const replies = conn.messages.filter((m) => m.id !== undefined);
    assert.deepEqual(
      replies.map((m) => m.id),
      [1, 2, 3, 4, 5],
    );
    assert.ok(replies[0].connect?.client, 'connect reply first');
    assert.deepEqual(replies[1], { id: 2, subscribe: {} });
    assert.deepEqual(replies[2], { id: 3, subscribe: {} });
    assert.equal(replies[3].error?.code, 103);
    assert.deepEqual(replies[4], { id: 5, subscribe: {} });
    await publish(server, 'c', { ok: true });
    await conn.waitMessage((m) => m.push?.channel === 'c');
  });

  test('empty lines, a trailing newline and CRLF are tolerated', async () => {
    const server = await startServer(PUBLIC);
    const conn = await openWs(server);
    conn.send(`\n${JSON.stringify({ id: 1, connect: { token: connToken('alice') } })}\r\n\n${JSON.stringify({ id: 2, subscribe: { channel: 'a' } })}\n`);
    assert.ok((await conn.reply(1)).connect);
    assert.deepEqual(await conn.reply(2), { id: 2, subscribe: {} });
  });

  test('commands split over several frames keep their order', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawConnect(server, { token: connToken('alice') });
    for (let id = 2; id < 52; id++) conn.send({ id, subscribe: { channel: `ch${id}` } });
    await conn.reply(51);
    assert.deepEqual(
      conn.messages.filter((m) => m.id > 1).map((m) => m.id),
      Array.from({ length: 50 }, (_, i) => i + 2),
    );
  });

  test('unknown fields are ignored everywhere', async () => {
    const server = await startServer(PUBLIC);
    const conn = await openWs(server);
    conn.send([
      {
        id: 1,
        connect: { token: connToken('alice'), name: 'js', version: '9.9', headers: { 'x-a': 'b' }, flag: 3, dict: { x: [1] }, future: { deep: [1, { z: null }] } },
        extra_top_level: 'ignored',
      },
      { id: 2, subscribe: { channel: 'a', tf: 1, flag: 2, cursor: 'x', whatever: { nested: true } } },
    ]);
    assert.ok((await conn.reply(1)).connect?.client);
    assert.deepEqual(await conn.reply(2), { id: 2, subscribe: {} });
  });

  test('a command before connect: close 3501', async () => {
    const server = await startServer(PUBLIC);
    const conn = await openWs(server);
    conn.send({ id: 1, subscribe: { channel: 'a' } });
    const c = await conn.waitClose();
    assert.equal(c.code, 3501);
    assert.equal(conn.messages.filter((m) => m.subscribe).length, 0);
  });

  test('a second connect: close 3501', async () => {
    const server = await startServer();
    const conn = await rawConnect(server, { token: connToken('alice') });
    conn.send({ id: 2, connect: { token: connToken('alice') } });
    assert.equal((await conn.waitClose()).code, 3501);
  });

  test('malformed JSON: close 3501', async () => {
    const server = await startServer();
    const conn = await rawConnect(server, { token: connToken('alice') });
    conn.send('{"id":2,"subscribe":');
    assert.equal((await conn.waitClose()).code, 3501);
  });

  test('a publication never reaches a subscriber before its subscribe reply', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawConnect(server, { token: connToken('alice') });
    // publish continuously while subscribing
    let stop = false;
    const publisher = (async () => {
      for (let i = 0; !stop && i < 500; i++) await publish(server, 'race', { i });
    })();
    await sleep(ms(20));
    const r = await command(conn, 'subscribe', { channel: 'race' });
    assert.deepEqual(r.subscribe, {});
    await conn.waitMessage((m) => m.push?.channel === 'race');
    stop = true;
    await publisher;
    const replyIndex = conn.messages.findIndex((m) => m.id === r.id);
    const firstPub = conn.messages.findIndex((m) => m.push?.channel === 'race');
    assert.ok(replyIndex < firstPub, 'subscribe reply precedes the first publication');
  });
});

describe('frame size limit', () => {
  test('a frame over websocket_message_size_limit: close 1009; a smaller one is fine', async () => {
    const server = await startServer({ ...PUBLIC, websocket_message_size_limit: 4096 });
    const conn = await rawConnect(server, { token: connToken('alice') });
    const ok = await command(conn, 'subscribe', { channel: 'a'.repeat(200), data: { pad: 'x'.repeat(1500) } });
    assert.deepEqual(ok.subscribe, {});
    conn.send({ id: 99, subscribe: { channel: 'b', data: { pad: 'x'.repeat(10000) } } });
    const c = await conn.waitClose();
    assert.equal(c.code, 1009);
  });

  test('official client sending an oversized frame: disconnected with code 3 (message size limit), no reconnect', async () => {
    const server = await startServer({ allow_publish_for_client: true, websocket_message_size_limit: 1024 });
    const client = newClient(server, { token: connToken('alice') });
    await connected(client);
    client.publish('big', { pad: 'x'.repeat(5000) }).catch(() => {});
    const d = await client.log.wait('disconnected');
    assert.equal(d.code, 3);
    await sleep(ms(300));
    assert.equal(client.state, 'disconnected');
  });
});

describe('keepalive', () => {
  const fast = { ping_interval: '2s', pong_timeout: '1s' };

  test('server pings are {}; without pongs the connection is closed with 3012', async () => {
    const server = await startServer(fast);
    const conn = await rawConnect(server, { token: connToken('alice') });
    assert.equal(conn.connectReply.ping, 2);
    assert.equal(conn.connectReply.pong, true);
    const t0 = Date.now();
    await conn.waitMessage(isPing, { timeout: ms(4000), what: 'a {} ping' });
    const pingFrame = conn.frames.find((f) => f.text.split('\n').some((l) => l.trim() === '{}'));
    assert.ok(pingFrame, 'the ping is the literal {}');
    const c = await conn.waitClose(ms(6000));
    assert.equal(c.code, 3012);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < ms(6000), `closed after ${elapsed} ms`);
  });

  test('answering pongs keeps the connection; the official client stays connected too', async () => {
    const server = await startServer({ ...fast, allow_subscribe_for_client: true });
    const conn = await rawConnect(server, { token: connToken('alice') });
    conn.autoPong = true;
    const client = newClient(server, { token: connToken('bob') });
    await connected(client);
    const sub = newSub(client, 'keep');
    sub.subscribe();
    await sub.log.wait('subscribed');
    await sleep(ms(5500));
    assert.ok(conn.isOpen, `raw connection closed: ${JSON.stringify(conn.closeInfo)}`);
    assert.ok(conn.messages.filter(isPing).length >= 2, `pings seen: ${conn.messages.filter(isPing).length}`);
    assert.equal(client.state, 'connected');
    assert.equal(client.log.count('disconnected'), 0);
    assert.equal(client.log.count('connecting'), 1, `events: ${client.log.describe()}`);
    // still delivering
    await publish(server, 'keep', { alive: true });
    assert.deepEqual((await sub.log.wait('publication')).data, { alive: true });
  });

  test('a pong without an outstanding ping does not close the connection', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawConnect(server, { token: connToken('alice') });
    conn.send('{}');
    const r = await command(conn, 'subscribe', { channel: 'a' });
    assert.deepEqual(r.subscribe, {});
  });
});

describe('timers and limits', () => {
  test('no connect command within client_stale_close_delay: close 3502', async () => {
    const server = await startServer({ client_stale_close_delay: '1s' });
    const conn = await openWs(server);
    const t0 = Date.now();
    const c = await conn.waitClose(ms(5000));
    assert.equal(c.code, 3502);
    assert.ok(Date.now() - t0 >= 900, 'not before the delay');
  });

  test('a connection whose token expired and was not refreshed is closed with 3005', async () => {
    const server = await startServer({ client_expired_close_delay: '1s' });
    const conn = await rawConnect(server, { token: connToken('alice', { exp: Math.floor(Date.now() / 1000) + 2 }) });
    assert.equal(conn.connectReply.expires, true);
    const c = await conn.waitClose(ms(8000));
    assert.equal(c.code, 3005);
  });

  test('a subscriber that stops reading is closed with 3008 (client_queue_max_size); the others get everything', async () => {
    // websocket_write_timeout: the grace the slow client has to take its close frame
    const server = await startServer({ ...PUBLIC, prometheus: true, client_queue_max_size: 1048576, websocket_write_timeout: '4s' });
    const slow = await rawConnect(server, { token: connToken('slow') });
    assert.deepEqual((await command(slow, 'subscribe', { channel: 'flood' })).subscribe, {});
    const fast = await rawConnect(server, { token: connToken('fast') });
    assert.deepEqual((await command(fast, 'subscribe', { channel: 'flood' })).subscribe, {});
    slow.ws._socket.pause(); // stop reading: the kernel buffers fill, then the server's queue
    const big = 'x'.repeat(16 * 1024);
    // 12.5 MiB: more than twice what the paused socket's kernel buffers (~4 MiB send, ~128 KiB
    // receive here) and the 1 MiB queue can hold
    const total = 800;
    // the slow client reads again as soon as the server reports its disconnect, while the
    // publications go on (slow_client.test.mjs has the details of the close)
    const resumed = waitUntil(async () => /centrifugo_client_num_server_disconnects\{code="3008"\} 1/.test((await httpRequest(`${server.httpUrl}/metrics`)).text), {
      timeout: ms(20000),
      interval: 50,
      what: 'the slow client disconnected',
    }).then(() => slow.ws._socket.resume());
    resumed.catch(() => {}); // awaited below; no unhandled rejection if the publications fail first
    // batches of 10 (160 KiB): a burst stays under the queue limit of a client that reads
    for (let i = 0; i < total; i += 10) {
      const batch = [];
      for (let j = i; j < i + 10; j++) batch.push({ method: 'publish', params: { channel: 'flood', data: { j, big } } });
      const res = await apiLegacy(server, batch);
      assert.equal(res.status, 200);
    }
    const pubs = await fast.waitMessages((m) => m.push?.channel === 'flood', total, { timeout: ms(20000) });
    assert.equal(pubs[total - 1].push.pub.data.j, total - 1);
    await resumed;
    const c = await slow.waitClose(ms(10000));
    assert.deepEqual(c, { code: 3008, reason: 'slow' });
    const got = slow.messages.filter((m) => m.push?.channel === 'flood').length;
    assert.ok(got < total, `the slow client must not get everything (got ${got})`);
  });

  test('a subscriber whose socket takes nothing for websocket_write_timeout is closed with 3009, under client_queue_max_size', async () => {
    const server = await startServer({ ...PUBLIC, prometheus: true, client_queue_max_size: 64 * 1024 * 1024, websocket_write_timeout: '2s' });
    const slow = await rawConnect(server, { token: connToken('slow') });
    assert.deepEqual((await command(slow, 'subscribe', { channel: 'flood' })).subscribe, {});
    slow.ws._socket.pause();
    const big = 'x'.repeat(16 * 1024);
    // ~8 MiB: fills the paused socket's kernel buffers, far under the 64 MiB queue
    for (let i = 0; i < 500; i += 10) {
      const batch = [];
      for (let j = i; j < i + 10; j++) batch.push({ method: 'publish', params: { channel: 'flood', data: { j, big } } });
      assert.equal((await apiLegacy(server, batch)).status, 200);
    }
    const t0 = Date.now();
    // the server closes the stalled socket within write_timeout plus one tick; the client then
    // has write_timeout to take the close frame
    await waitUntil(async () => {
      const m = await httpRequest(`${server.httpUrl}/metrics`);
      return m.status === 200 && /instant_client_slow_disconnects_count 1/.test(m.text);
    }, { timeout: ms(8000), what: 'the stalled client dropped' });
    assert.ok(Date.now() - t0 < ms(8000));
    slow.ws._socket.resume();
    const c = await slow.waitClose(ms(10000));
    assert.deepEqual(c, { code: 3009, reason: 'write error' });
  });
});

