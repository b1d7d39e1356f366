// Channel features through the real JS 2.x client (npm centrifuge 2.8.5, client protocol v1; spec
// §3) that protocol_v1.test.mjs does not cover: presence and presence_stats (methods 4, 5),
// history (method 6) with limit/reverse/since, join/leave pushes (types 1, 2), and recovery of
// the publications missed while the server had dropped the connection (spec §6.3), on public and
// on `$` channels (token from the subscribeEndpoint the test serves).
//
// JS 2.x cannot ask for join/leave in its subscribe (v1 has no `join_leave` request field), so
// the join/leave channel uses the v4 spelling of Centrifugo v3's `join_leave`: `join_leave` plus
// `force_push_join_leave` (spec §5.2, v3 → v4 mapping). Likewise v3's `recover` is
// `force_recovery`.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WebSocket,
  apiCall,
  cleanup,
  connToken,
  connected,
  connectedV1,
  newClient,
  newClientV1,
  newSub,
  publish,
  startAppServer,
  startServer,
  subToken,
  subscribeV1,
  subscribed,
  subscribedV1,
  waitUntil,
} from './harness.mjs';

afterEach(cleanup);

// A JS 2.x client of `user` (token claims `claims`), connected; its connection id is `client.id`.
async function v1User(server, user, { claims = {}, ...opts } = {}) {
  const client = newClientV1(server, { token: connToken(user, claims), ...opts });
  const ctx = await connectedV1(client);
  client.id = ctx.client;
  return client;
}

// subscribeV1 + wait for its first 'subscribe' event; resolves the subscription.
async function v1Sub(client, channel) {
  const sub = subscribeV1(client, channel);
  await subscribedV1(client, sub);
  return sub;
}

// The error a JS 2.x method call rejected with ({code, message}).
async function rejection(promise) {
  try {
    const r = await promise;
    assert.fail(`expected an error, got ${JSON.stringify(r)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    return e;
  }
}

// The app's subscribeEndpoint for `$` channels: answers {"channels":[{channel, token}]} with a
// subscription token of `user` bound to the requesting client id.
function subscribeEndpoint(user) {
  return startAppServer(({ json }) => ({
    body: { channels: (json?.channels ?? []).map((channel) => ({ channel, token: subToken(user, channel, { client: json.client }) })) },
  }));
}

// A WebSocket class for JS 2.x that records every socket and every frame it sent, and that, while
// `gate.open` is false, connects to a URL the server refuses (HTTP 400 for an unknown
// cf_protocol_version), so the client stays away and keeps retrying until the gate opens.
function gatedWebSocket() {
  const g = { open: true, sockets: [], refused: 0, sent: [] };
  g.sentCommands = () => g.sent.flatMap((f) => f.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l)));
  g.WebSocket = class GatedWebSocket extends WebSocket {
    constructor(url, protocols) {
      const open = g.open;
      super(open ? url : `${url}?cf_protocol_version=gate-closed`, protocols);
      g.sockets.push(this);
      if (!open) this.on('error', () => g.refused++);
    }
    send(data, ...rest) {
      g.sent.push(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
      return super.send(data, ...rest);
    }
  };
  return g;
}

const offsetsAndData = (log) => log.all('publish').map((p) => [p.offset, p.data]);

// =============================================================================================

describe('presence (JS 2.x)', () => {
  const PRESENCE = {
    allow_subscribe_for_client: true,
    presence: true,
    allow_presence_for_subscriber: true,
    namespaces: [{ name: 'nopres', allow_subscribe_for_client: true }],
  };

  test('sub.presence() lists every client with its info; sub.presenceStats() counts clients and users; both follow a disconnect', async () => {
    const server = await startServer(PRESENCE);
    const alice = await v1User(server, 'alice', { claims: { info: { name: 'Alice' } } });
    const bob = await v1User(server, 'bob');
    const bob2 = await v1User(server, 'bob');
    const aRoom = await v1Sub(alice, 'room');
    const bRoom = await v1Sub(bob, 'room');
    await v1Sub(bob2, 'room');

    const expected = {
      [alice.id]: { user: 'alice', client: alice.id, conn_info: { name: 'Alice' } },
      [bob.id]: { user: 'bob', client: bob.id },
      [bob2.id]: { user: 'bob', client: bob2.id },
    };
    assert.deepEqual(await aRoom.presence(), { presence: expected });
    assert.deepEqual(await bRoom.presence(), { presence: expected });
    assert.deepEqual(await aRoom.presenceStats(), { num_users: 2, num_clients: 3 });

    bob2.disconnect();
    await waitUntil(async () => (await aRoom.presenceStats()).num_clients === 2, { what: 'presence_stats to drop the disconnected client' });
    assert.deepEqual(await aRoom.presenceStats(), { num_users: 2, num_clients: 2 });
    bRoom.unsubscribe();
    await waitUntil(async () => (await aRoom.presenceStats()).num_clients === 1, { what: 'presence_stats to drop the unsubscribed client' });
    assert.deepEqual(await aRoom.presence(), { presence: { [alice.id]: expected[alice.id] } });
    assert.deepEqual(await aRoom.presenceStats(), { num_users: 1, num_clients: 1 });
  });

  test('errors are v1 error replies: 103 when not subscribed, 108 when the channel has no presence; the connection stays', async () => {
    const server = await startServer(PRESENCE);
    const alice = await v1User(server, 'alice');
    assert.deepEqual(await rejection(alice.presence('room')), { code: 103, message: 'permission denied' });
    assert.deepEqual(await rejection(alice.presenceStats('room')), { code: 103, message: 'permission denied' });
    const quiet = await v1Sub(alice, 'nopres:x');
    assert.deepEqual(await rejection(quiet.presence()), { code: 108, message: 'not available' });
    assert.deepEqual(await rejection(quiet.presenceStats()), { code: 108, message: 'not available' });
    assert.ok(alice.isConnected());
    assert.equal(alice.log.count('disconnect'), 0);
    const room = await v1Sub(alice, 'room');
    assert.deepEqual(await room.presenceStats(), { num_users: 1, num_clients: 1 });
  });
});

// =============================================================================================

describe('history (JS 2.x)', () => {
  const HISTORY = {
    allow_subscribe_for_client: true,
    allow_publish_for_client: true,
    history_size: 10,
    history_ttl: '300s',
    allow_history_for_subscriber: true,
    namespaces: [{ name: 'plain', allow_subscribe_for_client: true }],
  };

  test('sub.history(): publications with offsets and data after API publishes; limit, reverse, since; position only without limit', async () => {
    const server = await startServer(HISTORY);
    const results = [];
    for (let n = 1; n <= 4; n++) results.push(await publish(server, 'news', { n }));
    assert.deepEqual(results.map((r) => r.offset), [1, 2, 3, 4]);
    const epoch = results[0].epoch;
    const alice = await v1User(server, 'alice');
    const news = await v1Sub(alice, 'news');
    const pub = (n) => ({ data: { n }, offset: n });

    assert.deepEqual(await news.history({ limit: -1 }), { publications: [1, 2, 3, 4].map(pub), epoch, offset: 4 });
    assert.deepEqual(await news.history({ limit: 2 }), { publications: [pub(1), pub(2)], epoch, offset: 4 });
    assert.deepEqual(await news.history({ limit: 2, reverse: true }), { publications: [pub(4), pub(3)], epoch, offset: 4 });
    assert.deepEqual(await news.history({ limit: 10, since: { offset: 2, epoch } }), { publications: [pub(3), pub(4)], epoch, offset: 4 });
    assert.deepEqual((await news.history({ limit: 10, since: { offset: 3, epoch }, reverse: true })).publications, [pub(2), pub(1)]);
    const top = await news.history();
    assert.deepEqual(top.publications ?? [], []);
    assert.deepEqual([top.epoch, top.offset], [epoch, 4]);

    // A client publication is kept with its publisher's info.
    await news.publish({ n: 5 });
    const h = await news.history({ limit: 1, reverse: true });
    assert.deepEqual(h, { publications: [{ data: { n: 5 }, info: { user: 'alice', client: alice.id }, offset: 5 }], epoch, offset: 5 });
  });

  test('history errors: 103 when not subscribed, 108 without history, 112 for another epoch', async () => {
    const server = await startServer(HISTORY);
    const { epoch } = await publish(server, 'news', 'x');
    const alice = await v1User(server, 'alice');
    assert.deepEqual(await rejection(alice.history('news', { limit: 10 })), { code: 103, message: 'permission denied' });
    const news = await v1Sub(alice, 'news');
    assert.deepEqual(await rejection(news.history({ limit: 10, since: { offset: 1, epoch: `${epoch}x` } })), { code: 112, message: 'unrecoverable position' });
    const plain = await v1Sub(alice, 'plain:x');
    assert.deepEqual(await rejection(plain.history({ limit: 10 })), { code: 108, message: 'not available' });
    assert.ok(alice.isConnected());
    assert.deepEqual((await news.history({ limit: 10 })).publications, [{ data: 'x', offset: 1 }]);
  });
});

// =============================================================================================

describe('join and leave (JS 2.x)', () => {
  const JOIN_LEAVE = { allow_subscribe_for_client: true, presence: true, join_leave: true, force_push_join_leave: true };

  test('a JS 2.x subscriber sees another client join and leave (unsubscribe, disconnect) with its info; JS 5.x clients too', async () => {
    const server = await startServer(JOIN_LEAVE);
    const watcher = await v1User(server, 'watcher');
    const room = await v1Sub(watcher, 'room');
    const joiner = await v1User(server, 'joiner', { claims: { info: { n: 1 } } });
    const info = { user: 'joiner', client: joiner.id, conn_info: { n: 1 } };
    const isJoiner = (ctx) => ctx.info?.client === joiner.id;

    const jRoom = await v1Sub(joiner, 'room');
    assert.deepEqual(await room.log.wait('join', { pred: isJoiner }), { info });
    jRoom.unsubscribe();
    assert.deepEqual(await room.log.wait('leave', { pred: isJoiner }), { info });
    jRoom.subscribe();
    assert.deepEqual(await room.log.wait('join', { pred: isJoiner, nth: 2 }), { info });
    joiner.disconnect();
    assert.deepEqual(await room.log.wait('leave', { pred: isJoiner, nth: 2 }), { info });
    assert.deepEqual(
      room.log.events.filter((e) => (e.name === 'join' || e.name === 'leave') && isJoiner(e.ctx)).map((e) => e.name),
      ['join', 'leave', 'join', 'leave'],
    );

    // A protocol v2 client (JS 5.x) joining and leaving the same channel.
    const modern = newClient(server, { token: connToken('modern', { info: { v: 5 } }) });
    const modernCtx = await connected(modern);
    const mRoom = newSub(modern, 'room');
    await subscribed(mRoom);
    const modernInfo = { user: 'modern', client: modernCtx.client, conn_info: { v: 5 } };
    assert.deepEqual(await room.log.wait('join', { pred: (c) => c.info?.client === modernCtx.client }), { info: modernInfo });
    // ...and the v2 client sees a v1 client join with its info.
    const late = await v1User(server, 'late', { claims: { info: { v: 1 } } });
    await v1Sub(late, 'room');
    const seen = await mRoom.log.wait('join', { pred: (c) => c.info?.client === late.id });
    assert.deepEqual(seen.info, { user: 'late', client: late.id, connInfo: { v: 1 } });
    mRoom.unsubscribe();
    assert.deepEqual(await room.log.wait('leave', { pred: (c) => c.info?.client === modernCtx.client }), { info: modernInfo });
    assert.equal(watcher.log.count('disconnect'), 0);
  });
});

// =============================================================================================

describe('recovery after the server drops the connection (JS 2.x)', () => {
  const RECOVERY = {
    allow_subscribe_for_client: true,
    history_size: 10,
    history_ttl: '300s',
    force_recovery: true,
  };

  // Subscribes `channel` through a gated socket, receives one publication, gets dropped by the
  // server (API disconnect with a reconnect code) and stays away while `whileAway()` runs, then
  // comes back; resolves what the test checks.
  async function dropAndReturn(server, channel, whileAway, clientOpts = {}) {
    const g = gatedWebSocket();
    const client = newClientV1(server, { token: connToken('alice'), websocket: g.WebSocket, ...clientOpts });
    const sub = subscribeV1(client, channel);
    const first = subscribedV1(client, sub);
    const ctx = await connectedV1(client);
    const firstCtx = await first;
    const p1 = await publish(server, channel, { n: 1 });
    await sub.log.wait('publish');

    g.open = false;
    const res = await apiCall(server, 'disconnect', { user: 'alice', disconnect: { code: 4000, reason: 'come back later' } });
    assert.deepEqual(res.json, { result: {} }, res.text);
    const d = await client.log.wait('disconnect');
    assert.deepEqual(d, { reason: 'come back later', reconnect: true });
    await whileAway();
    await waitUntil(() => g.refused >= 1, { what: 'a refused reconnect attempt while the gate is closed' });
    const sentBefore = g.sent.length;
    g.open = true;
    const reconnected = await client.log.wait('connect', { nth: 2 });
    const again = await subscribedV1(client, sub, { nth: 2 });
    const resubscribe = g.sent
      .slice(sentBefore)
      .flatMap((f) => f.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l)))
      .find((c) => c.method === 1);
    return { sub, ctx, reconnected, firstCtx, epoch: p1.epoch, again, resubscribe };
  }

  test('public channel: publications sent while away arrive once, in order; the resubscribe is recovered', async () => {
    const server = await startServer(RECOVERY);
    const { sub, ctx, reconnected, firstCtx, epoch, again, resubscribe } = await dropAndReturn(server, 'news', async () => {
      assert.equal((await publish(server, 'news', { n: 2 })).offset, 2);
      assert.equal((await publish(server, 'news', { n: 3 })).offset, 3);
    });
    assert.deepEqual(firstCtx, { channel: 'news', isResubscribe: false, recovered: false, streamPosition: { offset: 0, epoch } });
    // JS 2.x asked to recover from the last offset it saw.
    assert.deepEqual(resubscribe.params, { channel: 'news', recover: true, offset: 1, epoch });
    assert.equal(again.isResubscribe, true);
    assert.equal(again.recovered, true, JSON.stringify(again));
    assert.equal(again.streamPosition?.epoch, epoch, JSON.stringify(again));
    assert.notEqual(reconnected.client, ctx.client);

    await sub.log.wait('publish', { nth: 3 });
    await publish(server, 'news', { n: 4 });
    await sub.log.wait('publish', { nth: 4 });
    assert.deepEqual(offsetsAndData(sub.log), [
      [1, { n: 1 }],
      [2, { n: 2 }],
      [3, { n: 3 }],
      [4, { n: 4 }],
    ]);
  });

  test('$ channel: the token for the new connection comes from subscribeEndpoint again, and the missed publications are recovered', async () => {
    const server = await startServer({ ...RECOVERY, allow_subscribe_for_client: false });
    const app = await subscribeEndpoint('alice');
    const { sub, ctx, reconnected, epoch, again, resubscribe } = await dropAndReturn(
      server,
      '$inbox',
      async () => {
        await publish(server, '$inbox', { n: 2 });
        await publish(server, '$inbox', { n: 3 });
      },
      { subscribeEndpoint: `${app.url}/centrifuge/subscribe` },
    );
    const newId = reconnected.client;
    assert.notEqual(newId, ctx.client);
    assert.deepEqual(
      app.requests.map((r) => r.json),
      [
        { client: ctx.client, channels: ['$inbox'] },
        { client: newId, channels: ['$inbox'] },
      ],
    );
    assert.deepEqual(resubscribe.params, { channel: '$inbox', token: subToken('alice', '$inbox', { client: newId }), recover: true, offset: 1, epoch });
    assert.equal(again.recovered, true, JSON.stringify(again));
    await sub.log.wait('publish', { nth: 3 });
    await publish(server, '$inbox', { n: 4 });
    await sub.log.wait('publish', { nth: 4 });
    assert.deepEqual(
      offsetsAndData(sub.log).map(([o, d]) => [o, d.n]),
      [
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 4],
      ],
    );
  });

  test('more missed than history keeps: not recovered, none of the missed are replayed, live publications continue', async () => {
    const server = await startServer({ ...RECOVERY, history_size: 2 });
    const { sub, epoch, again, resubscribe } = await dropAndReturn(server, 'news', async () => {
      for (let n = 2; n <= 5; n++) await publish(server, 'news', { n }); // history keeps 4 and 5 only
    });
    assert.deepEqual(resubscribe.params, { channel: 'news', recover: true, offset: 1, epoch });
    assert.equal(again.isResubscribe, true);
    assert.equal(again.recovered, false, JSON.stringify(again));
    assert.deepEqual(again.streamPosition, { offset: 5, epoch });
    await publish(server, 'news', { n: 6 });
    await sub.log.wait('publish', { nth: 2 });
    assert.deepEqual(offsetsAndData(sub.log), [
      [1, { n: 1 }],
      [6, { n: 6 }],
    ]);
  });
});
