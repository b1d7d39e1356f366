// Server API methods that act on connected clients and report node state (spec §7.3): subscribe,
// unsubscribe, disconnect, refresh, channels, info.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiCall, cleanup, command, connToken, publish, rawConnect, startServer, waitUntil } from './harness.mjs';

afterEach(cleanup);

const OPEN = { allow_subscribe_for_client: true };

async function ok(server, method, params) {
  const res = await apiCall(server, method, params);
  assert.equal(res.status, 200, res.text);
  assert.ok('result' in res.json, res.text);
  return res.json.result;
}

describe('per-user methods', () => {
  test('subscribe: the user gets a subscribe push, then the channel publications', async () => {
    const server = await startServer(OPEN);
    const alice = await rawConnect(server, { token: connToken('alice') });
    const bob = await rawConnect(server, { token: connToken('bob') });
    assert.deepEqual(await ok(server, 'subscribe', { user: 'alice', channel: 'news' }), {});
    const push = await alice.waitMessage((m) => m.push?.subscribe);
    assert.equal(push.push.channel, 'news');
    await publish(server, 'news', { n: 1 });
    const pub = await alice.waitMessage((m) => m.push?.pub);
    assert.deepEqual(pub.push, { channel: 'news', pub: { data: { n: 1 } } });
    await command(bob, 'ping', {}); // a round trip: anything for bob would have arrived before its reply
    assert.equal(bob.messages.filter((m) => m.push).length, 0);
  });

  test('unsubscribe: an unsubscribe push with code 2000 and no more publications', async () => {
    const server = await startServer(OPEN);
    const alice = await rawConnect(server, { token: connToken('alice') });
    await command(alice, 'subscribe', { channel: 'news' });
    await ok(server, 'unsubscribe', { user: 'alice', channel: 'news' });
    const u = await alice.waitMessage((m) => m.push?.unsubscribe);
    assert.deepEqual(u.push, { channel: 'news', unsubscribe: { code: 2000, reason: 'server unsubscribe' } });
    await publish(server, 'news', 'late');
    await publish(server, 'other', 'marker');
    const r = await command(alice, 'subscribe', { channel: 'other' });
    assert.ok(r.subscribe);
    assert.equal(alice.messages.filter((m) => m.push?.pub).length, 0);
  });

  test('disconnect: default 3503, custom code and reason, whitelist and client filter', async () => {
    const server = await startServer(OPEN);
    const a1 = await rawConnect(server, { token: connToken('alice') });
    const a2 = await rawConnect(server, { token: connToken('alice') });
    const a3 = await rawConnect(server, { token: connToken('alice') });
    const b = await rawConnect(server, { token: connToken('bob') });
    await ok(server, 'disconnect', { user: 'alice', whitelist: [a2.connectReply.client], client: '' });
    await waitUntil(() => a1.closeInfo && a3.closeInfo, { what: 'alice connections closed' });
    assert.equal(a1.closeInfo.code, 3503);
    assert.equal(a1.closeInfo.reason, 'force disconnect');
    assert.equal(a2.closeInfo, null);
    assert.equal(b.closeInfo, null);
    await ok(server, 'disconnect', { user: 'alice', client: a2.connectReply.client, disconnect: { code: 4001, reason: 'go away' } });
    await waitUntil(() => a2.closeInfo, { what: 'a2 closed' });
    assert.deepEqual([a2.closeInfo.code, a2.closeInfo.reason], [4001, 'go away']);
    const bad = await apiCall(server, 'disconnect', { user: 'bob', disconnect: { code: 1000 } });
    assert.equal(bad.json.error.code, 107);
    assert.equal((await apiCall(server, 'disconnect', {})).json.error.code, 107);
  });

  test('refresh with expired: the connection closes with 3005', async () => {
    const server = await startServer(OPEN);
    const a = await rawConnect(server, { token: connToken('alice') });
    await ok(server, 'refresh', { user: 'alice', expired: true });
    await waitUntil(() => a.closeInfo, { what: 'close' });
    assert.equal(a.closeInfo.code, 3005);
  });
});

describe('node state', () => {
  test('channels (with pattern) and info count subscribers node-wide', async () => {
    const server = await startServer({ ...OPEN, allow_anonymous_connect_without_token: true });
    const conns = [];
    for (const user of ['u1', 'u2', 'u2']) {
      const c = await rawConnect(server, { token: connToken(user) });
      await command(c, 'subscribe', { channel: 'chat-1' });
      conns.push(c);
    }
    await command(conns[0], 'subscribe', { channel: 'news' });
    const all = await ok(server, 'channels', {});
    assert.deepEqual(all.channels, { 'chat-1': { num_clients: 3 }, news: { num_clients: 1 } });
    const some = await ok(server, 'channels', { pattern: 'chat-*' });
    assert.deepEqual(Object.keys(some.channels), ['chat-1']);
    const info = await ok(server, 'info', {});
    assert.equal(info.nodes.length, 1);
    const n = info.nodes[0];
    assert.equal(n.num_clients, 3);
    assert.equal(n.num_users, 2);
    assert.equal(n.num_channels, 2);
    assert.equal(n.num_subs, 4);
    assert.ok(typeof n.uid === 'string' && n.uid.length === 36);
    assert.ok(typeof n.name === 'string' && n.name.length > 0);
    assert.ok(n.version.length > 0);
  });
});
