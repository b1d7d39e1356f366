// The server API through npm cent.js 6.x (CentClient: POST {url}/{method} with X-API-Key), every
// method it offers, each checked for its effect on real npm centrifuge 5.x clients or on the
// server's state (spec §7.2, §7.3): publish, broadcast, subscribe, unsubscribe, disconnect,
// refresh, getPresence, getPresenceStats, getHistory, removeHistory, getChannels, getInfo,
// pipeline; plus publish `tags` (spec §2.2) and `idempotency_key` (spec §7.3; Centrifugo keeps the
// result of an idempotent publish for 5 minutes per channel and key, and answers a repeat within
// that window with the first result without publishing again).
//
// cent.js sends its params object as given (JSON.stringify), so fields its TypeScript types do
// not list (disconnect.{code,reason}, refresh.expired/expire_at, idempotency_key) reach the server
// unchanged. It throws CentException on an {"error":..} reply; the exception does not keep the
// code, so error codes are checked with the same request through the harness's apiCall.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CentClient, CentException } from 'cent.js';
import { apiCall, cleanup, connToken, connected, ms, newClient, newSub, now, startServer, subscribed, waitUntil } from './harness.mjs';

afterEach(cleanup);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// Channels of the default namespace keep history; `plain:` channels do not.
const HISTORY = {
  allow_subscribe_for_client: true,
  history_size: 10,
  history_ttl: '300s',
  namespaces: [{ name: 'plain', allow_subscribe_for_client: true }],
};

function centOf(server) {
  return new CentClient({ url: `${server.httpUrl}/api`, apiKey: server.apiKey });
}

// A connected centrifuge 5.x client of `user`; its connection id is `client.id`.
async function userClient(server, user, claims = {}) {
  const client = newClient(server, { token: connToken(user, claims) });
  const ctx = await connected(client);
  client.id = ctx.client;
  return client;
}

// A subscribed client-side Subscription of `client` on `channel`.
async function subscribedTo(client, channel) {
  const sub = newSub(client, channel);
  await subscribed(sub);
  return sub;
}

// The {"error":{...}} of the same call made through the harness (cent.js drops the code).
async function apiError(server, method, params) {
  const res = await apiCall(server, method, params);
  assert.equal(res.status, 200, res.text);
  assert.ok(res.json?.error, `expected an error reply to ${method} ${JSON.stringify(params)}, got ${res.text}`);
  return res.json.error;
}

function datas(log, name = 'publication', pred = () => true) {
  return log.all(name).filter(pred).map((p) => p.data);
}

// =============================================================================================

describe('cent.js publishing', () => {
  test('publish: the subscriber receives it; the returned offset/epoch are those of the publication and of the history', async () => {
    const server = await startServer(HISTORY);
    const cent = centOf(server);
    const reader = await userClient(server, 'reader');
    const news = await subscribedTo(reader, 'news');
    const plain = await subscribedTo(reader, 'plain:x');

    const r1 = await cent.publish({ channel: 'news', data: { n: 1 } });
    const r2 = await cent.publish({ channel: 'news', data: { n: 2 } });
    assert.deepEqual(Object.keys(r1).sort(), ['epoch', 'offset']);
    assert.equal(r1.offset, 1);
    assert.equal(r2.offset, 2);
    assert.ok(typeof r1.epoch === 'string' && r1.epoch.length > 0, JSON.stringify(r1));
    assert.equal(r2.epoch, r1.epoch);

    const p1 = await news.log.wait('publication');
    const p2 = await news.log.wait('publication', { nth: 2 });
    assert.deepEqual(p1, { channel: 'news', data: { n: 1 }, offset: 1 });
    assert.deepEqual(p2, { channel: 'news', data: { n: 2 }, offset: 2 });

    const h = await cent.getHistory({ channel: 'news', limit: -1 });
    assert.deepEqual(h, {
      publications: [
        { data: { n: 1 }, offset: 1 },
        { data: { n: 2 }, offset: 2 },
      ],
      offset: 2,
      epoch: r1.epoch,
    });

    // Without history: result {} and a publication without offset.
    assert.deepEqual(await cent.publish({ channel: 'plain:x', data: 'no history' }), {});
    assert.deepEqual(await plain.log.wait('publication'), { channel: 'plain:x', data: 'no history' });
    assert.deepEqual(datas(news.log), [{ n: 1 }, { n: 2 }]);
  });

  test('broadcast: one response per channel in order (offset/epoch, {}, per-channel error); each subscriber gets it once', async () => {
    const server = await startServer(HISTORY);
    const cent = centOf(server);
    const reader = await userClient(server, 'reader');
    const news = await subscribedTo(reader, 'news');
    const plain = await subscribedTo(reader, 'plain:x');

    const res = await cent.broadcast({ channels: ['news', 'plain:x', 'nons:y'], data: { b: 1 } });
    const epoch = (await cent.getHistory({ channel: 'news' })).epoch;
    assert.deepEqual(res, {
      responses: [{ result: { offset: 1, epoch } }, { result: {} }, { error: { code: 102, message: 'unknown channel' } }],
    });
    // A second, plain publish to each channel marks the end: the broadcast came exactly once.
    await cent.publish({ channel: 'news', data: 'end' });
    await cent.publish({ channel: 'plain:x', data: 'end' });
    await news.log.wait('publication', { pred: (p) => p.data === 'end' });
    await plain.log.wait('publication', { pred: (p) => p.data === 'end' });
    assert.deepEqual(news.log.all('publication'), [
      { channel: 'news', data: { b: 1 }, offset: 1 },
      { channel: 'news', data: 'end', offset: 2 },
    ]);
    assert.deepEqual(datas(plain.log), [{ b: 1 }, 'end']);

    await assert.rejects(cent.broadcast({ channels: [], data: {} }), CentException);
    assert.equal((await apiError(server, 'broadcast', { channels: [], data: {} })).code, 107);
  });

  test('pipeline: mixed methods in one legacy /api request, one result per command in order', async () => {
    const server = await startServer({ ...HISTORY, presence: true });
    const cent = centOf(server);
    const reader = await userClient(server, 'reader');
    const news = await subscribedTo(reader, 'news');
    const replies = await cent.pipeline([
      { method: 'publish', params: { channel: 'news', data: { p: 1 } } },
      { method: 'publish', params: { channel: 'news', data: { p: 2 } } },
      { method: 'history', params: { channel: 'news', limit: 10 } },
      { method: 'presence_stats', params: { channel: 'news' } },
    ]);
    const epoch = replies[0].epoch;
    assert.deepEqual(replies, [
      { offset: 1, epoch },
      { offset: 2, epoch },
      {
        publications: [
          { data: { p: 1 }, offset: 1 },
          { data: { p: 2 }, offset: 2 },
        ],
        offset: 2,
        epoch,
      },
      { num_clients: 1, num_users: 1 },
    ]);
    await news.log.wait('publication', { nth: 2 });
    assert.deepEqual(datas(news.log), [{ p: 1 }, { p: 2 }]);
  });
});

// =============================================================================================

describe('cent.js per-user methods on connected centrifuge 5.x clients', () => {
  test('subscribe: every connection of the user gets a server-side subscription and its publications; `client` narrows it to one', async () => {
    const server = await startServer(HISTORY);
    const cent = centOf(server);
    const alice1 = await userClient(server, 'alice');
    const alice2 = await userClient(server, 'alice');
    const bob = await userClient(server, 'bob');
    const bobMarker = await subscribedTo(bob, 'plain:marker');

    assert.deepEqual(await cent.subscribe({ user: 'alice', channel: 'plain:srv' }), {});
    for (const c of [alice1, alice2]) {
      const s = await c.log.wait('subscribed', { pred: (x) => x.channel === 'plain:srv' });
      assert.equal(s.channel, 'plain:srv');
    }
    await cent.publish({ channel: 'plain:srv', data: { to: 'alice' } });
    for (const c of [alice1, alice2]) {
      const p = await c.log.wait('publication', { pred: (x) => x.channel === 'plain:srv' });
      assert.deepEqual(p, { channel: 'plain:srv', data: { to: 'alice' } });
    }
    // bob got neither the subscription nor the publication (anything for him would come before
    // this later publication on his own subscription).
    await cent.publish({ channel: 'plain:marker', data: 'm' });
    await bobMarker.log.wait('publication');
    assert.equal(bob.log.count('subscribed'), 0, bob.log.describe());
    assert.equal(bob.log.count('publication'), 0, bob.log.describe());

    // `client`: only that connection of the user.
    assert.deepEqual(await cent.subscribe({ user: 'alice', channel: 'news', client: alice2.id }), {});
    const s2 = await alice2.log.wait('subscribed', { pred: (x) => x.channel === 'news' });
    assert.equal(s2.channel, 'news');
    const pub = await cent.publish({ channel: 'news', data: { only: 2 } });
    const p2 = await alice2.log.wait('publication', { pred: (x) => x.channel === 'news' });
    assert.deepEqual(p2, { channel: 'news', data: { only: 2 }, offset: pub.offset });
    await cent.publish({ channel: 'plain:srv', data: 'marker' }); // alice1's own subscription as a barrier
    await alice1.log.wait('publication', { pred: (x) => x.data === 'marker' });
    assert.equal(alice1.log.all('subscribed').filter((x) => x.channel === 'news').length, 0);
    assert.equal(alice1.log.all('publication').filter((x) => x.channel === 'news').length, 0);
  });

  test('unsubscribe: a client-side subscription ends with code 2000 "server unsubscribe"; a server-side one with a client unsubscribed event', async () => {
    const server = await startServer(HISTORY);
    const cent = centOf(server);
    const alice = await userClient(server, 'alice');
    const bob = await userClient(server, 'bob');
    const aNews = await subscribedTo(alice, 'plain:news');
    const aMarker = await subscribedTo(alice, 'plain:marker');
    const bNews = await subscribedTo(bob, 'plain:news');

    assert.deepEqual(await cent.unsubscribe({ user: 'alice', channel: 'plain:news' }), {});
    const u = await aNews.log.wait('unsubscribed');
    assert.deepEqual(u, { channel: 'plain:news', code: 2000, reason: 'server unsubscribe' });
    assert.equal(aNews.state, 'unsubscribed');
    await cent.publish({ channel: 'plain:news', data: 'after' });
    assert.deepEqual((await bNews.log.wait('publication')).data, 'after');
    await cent.publish({ channel: 'plain:marker', data: 'marker' });
    await aMarker.log.wait('publication');
    assert.equal(aNews.log.count('publication'), 0, aNews.log.describe());
    assert.equal(bNews.state, 'subscribed');

    // A server-side subscription made through cent.js, removed through cent.js.
    await cent.subscribe({ user: 'alice', channel: 'plain:srv' });
    await alice.log.wait('subscribed', { pred: (x) => x.channel === 'plain:srv' });
    await cent.unsubscribe({ user: 'alice', channel: 'plain:srv' });
    const su = await alice.log.wait('unsubscribed', { pred: (x) => x.channel === 'plain:srv' });
    assert.deepEqual(su, { channel: 'plain:srv' });
    await cent.publish({ channel: 'plain:srv', data: 'late' });
    await cent.publish({ channel: 'plain:marker', data: 'marker2' });
    await aMarker.log.wait('publication', { nth: 2 });
    assert.equal(alice.log.all('publication').filter((x) => x.channel === 'plain:srv').length, 0);
  });

  test('disconnect: default 3503 "force disconnect" is terminal for the user only; a custom code and reason reach one client', async () => {
    const server = await startServer(HISTORY);
    const cent = centOf(server);
    const alice = await userClient(server, 'alice');
    const bob = await userClient(server, 'bob');
    const bobSub = await subscribedTo(bob, 'news');

    assert.deepEqual(await cent.disconnect({ user: 'alice' }), {});
    const d = await alice.log.wait('disconnected');
    assert.deepEqual(d, { code: 3503, reason: 'force disconnect' });
    assert.equal(alice.state, 'disconnected');
    assert.equal(alice.log.count('connecting'), 1, 'only the initial connect: 3503 is terminal');
    await cent.publish({ channel: 'news', data: 'bob still here' });
    assert.equal((await bobSub.log.wait('publication')).data, 'bob still here');
    assert.equal(bob.state, 'connected');
    assert.equal(bob.log.count('disconnected') + bob.log.count('connecting'), 1, bob.log.describe()); // the initial 'connecting'

    // Custom terminal code to one connection of carol; her other connection stays.
    const carol1 = await userClient(server, 'carol');
    const carol2 = await userClient(server, 'carol');
    assert.deepEqual(await cent.disconnect({ user: 'carol', client: carol2.id, disconnect: { code: 4501, reason: 'banned' } }), {});
    assert.deepEqual(await carol2.log.wait('disconnected'), { code: 4501, reason: 'banned' });
    assert.equal(carol2.state, 'disconnected');
    // A reconnect code: the client reconnects with a new connection.
    await cent.disconnect({ user: 'carol', client: carol1.id, disconnect: { code: 4001, reason: 'come back' } });
    assert.deepEqual(await carol1.log.wait('connecting', { nth: 2 }), { code: 4001, reason: 'come back' });
    const again = await carol1.log.wait('connected', { nth: 2 });
    assert.match(again.client, UUID);
    assert.notEqual(again.client, carol1.id);
    assert.equal(carol1.log.count('disconnected'), 0);
  });

  test('refresh: expired closes the user\'s connections with 3005 (the client reconnects); expire_at ends a connection at that time', async () => {
    const server = await startServer({ ...HISTORY, client_expired_close_delay: '0s' });
    const cent = centOf(server);
    const alice = await userClient(server, 'alice');
    const bob = await userClient(server, 'bob');
    const bobSub = await subscribedTo(bob, 'news');

    assert.deepEqual(await cent.refresh({ user: 'alice', expired: true }), {});
    assert.deepEqual(await alice.log.wait('connecting', { nth: 2 }), { code: 3005, reason: 'connection expired' });
    const again = await alice.log.wait('connected', { nth: 2 });
    assert.notEqual(again.client, alice.id);
    await cent.publish({ channel: 'news', data: 'check' });
    await bobSub.log.wait('publication');
    assert.equal(bob.log.count('connecting'), 1, bob.log.describe());
    assert.equal(bob.state, 'connected');

    // bob's connection has no expiry; the API sets one a second from now.
    const at = now() + 1;
    assert.deepEqual(await cent.refresh({ user: 'bob', expire_at: at }), {});
    const c = await bob.log.wait('connecting', { nth: 2, timeout: ms(5000) });
    assert.deepEqual(c, { code: 3005, reason: 'connection expired' });
    assert.ok(Date.now() >= at * 1000 - 50, `closed ${at * 1000 - Date.now()} ms before expire_at`);
    await bob.log.wait('connected', { nth: 2 });
  });
});

// =============================================================================================

describe('cent.js state queries', () => {
  test('getPresence lists both clients with their info; getPresenceStats counts them; both follow an unsubscribe', async () => {
    const server = await startServer({
      allow_subscribe_for_client: true,
      presence: true,
      allow_presence_for_subscriber: true,
      namespaces: [{ name: 'nopres', allow_subscribe_for_client: true }],
    });
    const cent = centOf(server);
    const alice = await userClient(server, 'alice', { info: { name: 'Alice' } });
    const bob = await userClient(server, 'bob');
    await subscribedTo(alice, 'room');
    const bobRoom = await subscribedTo(bob, 'room');

    assert.deepEqual(await cent.getPresence({ channel: 'room' }), {
      presence: {
        [alice.id]: { user: 'alice', client: alice.id, conn_info: { name: 'Alice' } },
        [bob.id]: { user: 'bob', client: bob.id },
      },
    });
    assert.deepEqual(await cent.getPresenceStats({ channel: 'room' }), { num_clients: 2, num_users: 2 });

    bobRoom.unsubscribe();
    await waitUntil(async () => (await cent.getPresenceStats({ channel: 'room' })).num_clients === 1, { what: 'presence_stats to drop bob' });
    assert.deepEqual(await cent.getPresenceStats({ channel: 'room' }), { num_clients: 1, num_users: 1 });
    assert.deepEqual(await cent.getPresence({ channel: 'room' }), {
      presence: { [alice.id]: { user: 'alice', client: alice.id, conn_info: { name: 'Alice' } } },
    });

    assert.deepEqual(await cent.getPresence({ channel: 'empty' }), { presence: {} });
    assert.deepEqual(await cent.getPresenceStats({ channel: 'empty' }), { num_clients: 0, num_users: 0 });
    await assert.rejects(cent.getPresence({ channel: 'nopres:x' }), CentException);
    assert.equal((await apiError(server, 'presence', { channel: 'nopres:x' })).code, 108);
    assert.equal((await apiError(server, 'presence_stats', { channel: 'nopres:x' })).code, 108);
  });

  test('getHistory: limit, reverse, since (forward and reverse), position only without limit, 112 on a wrong epoch', async () => {
    const server = await startServer(HISTORY);
    const cent = centOf(server);
    let epoch;
    for (let i = 1; i <= 5; i++) epoch = (await cent.publish({ channel: 'news', data: { n: i } })).epoch;
    const pub = (n) => ({ data: { n }, offset: n });
    const offsets = (h) => h.publications.map((p) => p.offset);

    assert.deepEqual(await cent.getHistory({ channel: 'news', limit: -1 }), { publications: [1, 2, 3, 4, 5].map(pub), offset: 5, epoch });
    assert.deepEqual(await cent.getHistory({ channel: 'news', limit: 2 }), { publications: [pub(1), pub(2)], offset: 5, epoch });
    assert.deepEqual(await cent.getHistory({ channel: 'news', limit: 2, reverse: true }), { publications: [pub(5), pub(4)], offset: 5, epoch });
    assert.deepEqual(offsets(await cent.getHistory({ channel: 'news', limit: 10, since: { offset: 2, epoch } })), [3, 4, 5]);
    assert.deepEqual(offsets(await cent.getHistory({ channel: 'news', limit: 1, since: { offset: 2, epoch } })), [3]);
    assert.deepEqual(offsets(await cent.getHistory({ channel: 'news', limit: 10, since: { offset: 4, epoch }, reverse: true })), [3, 2, 1]);
    assert.deepEqual(offsets(await cent.getHistory({ channel: 'news', limit: 10, since: { offset: 5, epoch } })), []);

    const top = await cent.getHistory({ channel: 'news' }); // limit 0: the stream position only
    assert.deepEqual(top.publications ?? [], []);
    assert.deepEqual([top.offset, top.epoch], [5, epoch]);

    await assert.rejects(cent.getHistory({ channel: 'news', limit: 10, since: { offset: 2, epoch: `${epoch}x` } }), CentException);
    assert.equal((await apiError(server, 'history', { channel: 'news', limit: 10, since: { offset: 2, epoch: `${epoch}x` } })).code, 112);
    assert.equal((await apiError(server, 'history', { channel: 'plain:x', limit: 10 })).code, 108);
  });

  test('removeHistory: history empty afterwards, the stream position stays and the next publication continues it', async () => {
    const server = await startServer(HISTORY);
    const cent = centOf(server);
    const reader = await userClient(server, 'reader');
    const news = await subscribedTo(reader, 'news');
    let epoch;
    for (let i = 1; i <= 3; i++) epoch = (await cent.publish({ channel: 'news', data: i })).epoch;
    assert.equal((await cent.getHistory({ channel: 'news', limit: -1 })).publications.length, 3);

    assert.deepEqual(await cent.removeHistory({ channel: 'news' }), {});
    const after = await cent.getHistory({ channel: 'news', limit: -1 });
    assert.deepEqual(after.publications ?? [], []);
    assert.deepEqual([after.offset, after.epoch], [3, epoch]);

    assert.deepEqual(await cent.publish({ channel: 'news', data: 4 }), { offset: 4, epoch });
    assert.deepEqual(await cent.getHistory({ channel: 'news', limit: -1 }), { publications: [{ data: 4, offset: 4 }], offset: 4, epoch });
    await news.log.wait('publication', { nth: 4 });
    assert.deepEqual(
      news.log.all('publication').map((p) => [p.data, p.offset]),
      [
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 4],
      ],
    );
    await assert.rejects(cent.removeHistory({ channel: 'nons:x' }), CentException);
    assert.equal((await apiError(server, 'history_remove', { channel: 'nons:x' })).code, 102);
  });

  test('getChannels: every active channel with its client count, or those matching a pattern', async () => {
    const server = await startServer({ allow_subscribe_for_client: true });
    const cent = centOf(server);
    const alice = await userClient(server, 'alice');
    const bob = await userClient(server, 'bob');
    await subscribedTo(alice, 'chat-1');
    const aChat2 = await subscribedTo(alice, 'chat-2');
    await subscribedTo(alice, 'news');
    await subscribedTo(bob, 'chat-1');

    assert.deepEqual(await cent.getChannels(), {
      channels: { 'chat-1': { num_clients: 2 }, 'chat-2': { num_clients: 1 }, news: { num_clients: 1 } },
    });
    assert.deepEqual(await cent.getChannels({ pattern: 'chat-*' }), { channels: { 'chat-1': { num_clients: 2 }, 'chat-2': { num_clients: 1 } } });
    assert.deepEqual(await cent.getChannels({ pattern: 'news' }), { channels: { news: { num_clients: 1 } } });
    assert.deepEqual(await cent.getChannels({ pattern: 'nothing-*' }), { channels: {} });

    aChat2.unsubscribe();
    bob.disconnect();
    await waitUntil(async () => Object.keys((await cent.getChannels({ pattern: 'chat-*' })).channels).length === 1, { what: 'chat-2 to go away' });
    await waitUntil(async () => (await cent.getChannels({ pattern: 'chat-*' })).channels['chat-1']?.num_clients === 1, { what: 'chat-1 to lose bob' });
    assert.deepEqual(await cent.getChannels(), { channels: { 'chat-1': { num_clients: 1 }, news: { num_clients: 1 } } });
  });

  test('getInfo: one node with uid, name, version, uptime and exact client, user, channel and subscription counts', async () => {
    const server = await startServer({ allow_subscribe_for_client: true });
    const cent = centOf(server);
    const alice1 = await userClient(server, 'alice');
    const alice2 = await userClient(server, 'alice');
    const bob = await userClient(server, 'bob');
    await subscribedTo(alice1, 'news');
    await subscribedTo(alice2, 'news');
    await subscribedTo(alice2, 'chat');
    await subscribedTo(bob, 'chat');

    const info = await cent.getInfo();
    assert.equal(info.nodes.length, 1, JSON.stringify(info));
    const n = info.nodes[0];
    assert.match(n.uid, UUID);
    assert.ok(typeof n.name === 'string' && n.name.length > 0, JSON.stringify(n));
    assert.ok(typeof n.version === 'string' && n.version.length > 0, JSON.stringify(n));
    assert.ok(Number.isInteger(n.uptime) && n.uptime >= 0, JSON.stringify(n));
    assert.deepEqual([n.num_clients, n.num_users, n.num_channels, n.num_subs], [3, 2, 2, 4]);

    bob.disconnect();
    let m;
    const counts = (x) => [x.num_clients, x.num_users, x.num_channels, x.num_subs];
    await waitUntil(
      async () => {
        m = (await cent.getInfo()).nodes[0];
        return JSON.stringify(counts(m)) === JSON.stringify([2, 1, 2, 3]);
      },
      { what: 'counts [clients, users, channels, subs] = [2, 1, 2, 3] after bob left' },
    ).catch((e) => assert.fail(`${e.message}\nlast info: ${JSON.stringify(m)}`));
    assert.equal(m.uid, n.uid);
  });
});

// =============================================================================================

describe('cent.js publish options', () => {
  test('tags: the subscriber\'s publication context carries them, and history returns them (publish and broadcast)', async () => {
    const server = await startServer(HISTORY);
    const cent = centOf(server);
    const reader = await userClient(server, 'reader');
    const news = await subscribedTo(reader, 'news');
    const plain = await subscribedTo(reader, 'plain:x');
    const tags = { kind: 'alert', 'trace-id': '42' };

    const r = await cent.publish({ channel: 'news', data: { t: 1 }, tags });
    assert.deepEqual(await news.log.wait('publication'), { channel: 'news', data: { t: 1 }, offset: r.offset, tags });
    const h = await cent.getHistory({ channel: 'news', limit: -1 });
    assert.deepEqual(h.publications, [{ data: { t: 1 }, offset: 1, tags }]);

    await cent.broadcast({ channels: ['news', 'plain:x'], data: { t: 2 }, tags: { kind: 'b' } });
    assert.deepEqual(await news.log.wait('publication', { nth: 2 }), { channel: 'news', data: { t: 2 }, offset: 2, tags: { kind: 'b' } });
    assert.deepEqual(await plain.log.wait('publication'), { channel: 'plain:x', data: { t: 2 }, tags: { kind: 'b' } });

    // No tags, no `tags` key.
    await cent.publish({ channel: 'news', data: { t: 3 } });
    assert.deepEqual(await news.log.wait('publication', { nth: 3 }), { channel: 'news', data: { t: 3 }, offset: 3 });
  });

  test('idempotency_key: a repeat within the window returns the first result and is not published again; keys are per channel', async () => {
    const server = await startServer(HISTORY);
    const cent = centOf(server);
    const reader = await userClient(server, 'reader');
    const news = await subscribedTo(reader, 'news');
    const other = await subscribedTo(reader, 'other');
    const plain = await subscribedTo(reader, 'plain:x');

    const first = await cent.publish({ channel: 'news', data: { n: 1 }, idempotency_key: 'order-17' });
    assert.equal(first.offset, 1);
    const repeat = await cent.publish({ channel: 'news', data: { n: 1 }, idempotency_key: 'order-17' });
    assert.deepEqual(repeat, first);
    // Same key, other data: still the cached result (the key decides, not the payload).
    assert.deepEqual(await cent.publish({ channel: 'news', data: { n: 99 }, idempotency_key: 'order-17' }), first);
    assert.deepEqual(await cent.publish({ channel: 'news', data: { n: 2 }, idempotency_key: 'order-18' }), { offset: 2, epoch: first.epoch });
    assert.deepEqual(await cent.publish({ channel: 'news', data: 'end' }), { offset: 3, epoch: first.epoch });
    await news.log.wait('publication', { pred: (p) => p.data === 'end' });
    assert.deepEqual(
      news.log.all('publication').map((p) => [p.offset, p.data]),
      [
        [1, { n: 1 }],
        [2, { n: 2 }],
        [3, 'end'],
      ],
    );
    assert.deepEqual((await cent.getHistory({ channel: 'news', limit: -1 })).publications.map((p) => p.offset), [1, 2, 3]);

    // The same key on another channel is another publication.
    const o = await cent.publish({ channel: 'other', data: 'o', idempotency_key: 'order-17' });
    assert.equal(o.offset, 1);
    assert.deepEqual(await other.log.wait('publication'), { channel: 'other', data: 'o', offset: 1 });

    // A channel without history: {} both times, delivered once.
    assert.deepEqual(await cent.publish({ channel: 'plain:x', data: 'once', idempotency_key: 'k' }), {});
    assert.deepEqual(await cent.publish({ channel: 'plain:x', data: 'once', idempotency_key: 'k' }), {});
    await cent.publish({ channel: 'plain:x', data: 'end' });
    await plain.log.wait('publication', { pred: (p) => p.data === 'end' });
    assert.deepEqual(datas(plain.log), ['once', 'end']);
  });
});
