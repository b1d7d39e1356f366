// History, positioning and recovery (spec §2.8, §6): the memory engine's streams seen through the
// server API, raw client frames, and the official client recovering across a cut connection.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  apiCall,
  cleanup,
  command,
  connected,
  ms,
  newClient,
  newSub,
  publish,
  rawConnect,
  startRelay,
  startServer,
  waitUntil,
} from './harness.mjs';

afterEach(cleanup);

const HISTORY = {
  allow_subscribe_for_client: true,
  allow_subscribe_for_anonymous: true,
  allow_anonymous_connect_without_token: true,
  allow_history_for_subscriber: true,
  allow_history_for_anonymous: true,
  history_size: 5,
  history_ttl: '300s',
  force_recovery: true,
  namespaces: [{ name: 'plain', allow_subscribe_for_client: true, allow_subscribe_for_anonymous: true }],
};

async function history(server, params) {
  const res = await apiCall(server, 'history', params);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

describe('history through the server API', () => {
  test('publish returns offset and epoch; history honours limit, reverse, since and size', async () => {
    const server = await startServer(HISTORY);
    const results = [];
    for (let i = 1; i <= 7; i++) results.push(await publish(server, 'news', { n: i }));
    assert.deepEqual(results.map((r) => r.offset), [1, 2, 3, 4, 5, 6, 7]);
    const epoch = results[0].epoch;
    assert.ok(typeof epoch === 'string' && epoch.length > 0);
    assert.ok(results.every((r) => r.epoch === epoch));

    const all = (await history(server, { channel: 'news', limit: -1 })).result;
    assert.deepEqual(all.publications.map((p) => p.data.n), [3, 4, 5, 6, 7]); // history_size 5
    assert.equal(all.offset, 7);
    assert.equal(all.epoch, epoch);

    const none = (await history(server, { channel: 'news' })).result; // limit 0: position only
    assert.deepEqual(none.publications, []);
    assert.equal(none.offset, 7);

    const rev = (await history(server, { channel: 'news', limit: 2, reverse: true })).result;
    assert.deepEqual(rev.publications.map((p) => p.offset), [7, 6]);

    const since = (await history(server, { channel: 'news', limit: 10, since: { offset: 5, epoch } })).result;
    assert.deepEqual(since.publications.map((p) => p.offset), [6, 7]);

    const wrong = await history(server, { channel: 'news', limit: 10, since: { offset: 5, epoch: 'other' } });
    assert.equal(wrong.error.code, 112);
  });

  test('skip_history, history_remove and channels without history', async () => {
    const server = await startServer(HISTORY);
    await publish(server, 'news', 1);
    const skipped = await apiCall(server, 'publish', { channel: 'news', data: 2, skip_history: true });
    assert.deepEqual(skipped.json, { result: {} });
    const removed = await apiCall(server, 'history_remove', { channel: 'news' });
    assert.deepEqual(removed.json, { result: {} });
    const after = (await history(server, { channel: 'news', limit: -1 })).result;
    assert.deepEqual(after.publications, []);
    assert.equal(after.offset, 1); // the stream position survives history_remove
    const plain = await history(server, { channel: 'plain:x', limit: 1 });
    assert.equal(plain.error.code, 108);
    assert.deepEqual(await publish(server, 'plain:x', 1), {}); // no offset without history
  });
});

describe('positioning and recovery on raw frames', () => {
  test('subscribe with recover returns exactly the missed publications, then live ones continue', async () => {
    const server = await startServer(HISTORY);
    const first = await publish(server, 'news', { n: 1 });
    await publish(server, 'news', { n: 2 });
    await publish(server, 'news', { n: 3 });
    const conn = await rawConnect(server);
    const r = await command(conn, 'subscribe', { channel: 'news', recover: true, offset: 1, epoch: first.epoch });
    const s = r.subscribe;
    assert.equal(s.recovered, true);
    assert.equal(s.was_recovering, true);
    assert.equal(s.recoverable, true);
    assert.equal(s.positioned, true);
    assert.equal(s.epoch, first.epoch);
    assert.deepEqual(s.publications.map((p) => [p.offset, p.data.n]), [[2, 2], [3, 3]]);
    await publish(server, 'news', { n: 4 });
    const live = await conn.waitMessage((m) => m.push?.pub);
    assert.equal(live.push.pub.offset, 4);
    assert.deepEqual(live.push.pub.data, { n: 4 });
  });

  test('a wrong epoch or a position older than the stream is not recovered', async () => {
    const server = await startServer(HISTORY);
    for (let i = 1; i <= 8; i++) await publish(server, 'news', i); // keeps offsets 4..8
    const conn = await rawConnect(server);
    const bad = await command(conn, 'subscribe', { channel: 'news', recover: true, offset: 8, epoch: 'gone' });
    assert.equal(bad.subscribe.recovered ?? false, false);
    assert.equal(bad.subscribe.offset, 8);
    assert.equal(bad.subscribe.publications, undefined);
    const conn2 = await rawConnect(server);
    const old = await command(conn2, 'subscribe', { channel: 'news', recover: true, offset: 1, epoch: bad.subscribe.epoch });
    assert.equal(old.subscribe.recovered ?? false, false); // offsets 2 and 3 are gone: a gap
    assert.equal(old.subscribe.offset, 8);
  });

  test('client history command: permission, limits and 112', async () => {
    const server = await startServer(HISTORY);
    const p = await publish(server, 'news', 'a');
    await publish(server, 'news', 'b');
    const conn = await rawConnect(server);
    const denied = await command(conn, 'history', { channel: 'news', limit: 10 });
    assert.equal(denied.error.code, 103); // allow_history_for_subscriber: subscribe first
    await command(conn, 'subscribe', { channel: 'news' });
    const h = await command(conn, 'history', { channel: 'news', limit: 10 });
    assert.deepEqual(h.history.publications.map((x) => x.data), ['a', 'b']);
    assert.equal(h.history.offset, 2);
    const e = await command(conn, 'history', { channel: 'news', limit: 1, since: { offset: 1, epoch: 'x' } });
    assert.equal(e.error.code, 112);
    assert.equal(e.error.message, 'unrecoverable position');
    await command(conn, 'subscribe', { channel: 'plain:x' });
    const na = await command(conn, 'history', { channel: 'plain:x', limit: 1 });
    assert.equal(na.error.code, 108);
    assert.ok(p.offset === 1);
  });

  // Bug fix: 0 is documented as "no limit" and used to mean "no publications".
  test('max publication limits of 0 mean no limit (history and recovery)', async () => {
    const server = await startServer({
      ...HISTORY,
      history_size: 500,
      client_history_max_publication_limit: 0,
      client_recovery_max_publication_limit: 0,
    });
    const first = await publish(server, 'news', 0);
    for (let i = 1; i < 400; i++) await publish(server, 'news', i);
    const conn = await rawConnect(server);
    const sub = await command(conn, 'subscribe', { channel: 'news', recover: true, offset: 0, epoch: first.epoch });
    assert.equal(sub.subscribe.recovered, true);
    assert.equal(sub.subscribe.publications.length, 400); // over the default 300
    const h = await command(conn, 'history', { channel: 'news', limit: -1 });
    assert.equal(h.history.publications.length, 400);
  });
});

describe('the official client recovers after its connection is cut', () => {
  test('publications sent while disconnected arrive after the reconnect, in order, none twice', async (t) => {
    const server = await startServer(HISTORY);
    const r = await startRelay(server.port);
    const client = newClient(server, { url: `ws://127.0.0.1:${r.port}/connection/websocket`, minReconnectDelay: 50, maxReconnectDelay: 200 });
    const sub = newSub(client, 'news');
    const seen = [];
    sub.on('publication', (ctx) => seen.push(ctx.data.n));
    sub.subscribe();
    client.connect();
    await connected(client);
    await sub.log.wait('subscribed');
    await publish(server, 'news', { n: 1 });
    await waitUntil(() => seen.length === 1, { what: 'first publication' });
    const subscribedBefore = sub.log.events.filter((e) => e.name === 'subscribed').length;
    r.cut();
    await publish(server, 'news', { n: 2 });
    await publish(server, 'news', { n: 3 });
    await waitUntil(() => sub.log.events.filter((e) => e.name === 'subscribed').length > subscribedBefore, {
      timeout: ms(10000),
      what: 'resubscription after the cut',
    });
    const again = sub.log.events.filter((e) => e.name === 'subscribed').at(-1).ctx;
    assert.equal(again.wasRecovering, true);
    assert.equal(again.recovered, true);
    await publish(server, 'news', { n: 4 });
    await waitUntil(() => seen.length === 4, { what: 'all four publications' });
    assert.deepEqual(seen, [1, 2, 3, 4]);
  });
});
