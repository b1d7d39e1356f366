// Presence and join/leave (spec §2.7, §2.11): entries appear on subscribe and disappear on
// unsubscribe and disconnect; join/leave pushes reach the subscribers that asked for them.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiCall, cleanup, command, connToken, rawConnect, startServer, waitUntil } from './harness.mjs';

afterEach(cleanup);

const PRESENCE = {
  allow_subscribe_for_client: true,
  presence: true,
  join_leave: true,
  allow_presence_for_subscriber: true,
  namespaces: [{ name: 'quiet', allow_subscribe_for_client: true }],
};

async function apiResult(server, method, params) {
  const res = await apiCall(server, method, params);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

describe('presence', () => {
  test('entries follow subscribe, unsubscribe and disconnect; stats count clients and users', async () => {
    const server = await startServer(PRESENCE);
    const a = await rawConnect(server, { token: connToken('alice', { info: { name: 'Alice' } }) });
    const b = await rawConnect(server, { token: connToken('bob') });
    const b2 = await rawConnect(server, { token: connToken('bob') });
    for (const c of [a, b, b2]) assert.deepEqual((await command(c, 'subscribe', { channel: 'room' })).subscribe, {});

    const p = await command(a, 'presence', { channel: 'room' });
    const entries = p.presence.presence;
    assert.equal(Object.keys(entries).length, 3);
    const alice = entries[a.connectReply.client];
    assert.deepEqual(alice, { user: 'alice', client: a.connectReply.client, conn_info: { name: 'Alice' } });
    const stats = await command(a, 'presence_stats', { channel: 'room' });
    assert.deepEqual(stats.presence_stats, { num_clients: 3, num_users: 2 });
    assert.deepEqual((await apiResult(server, 'presence_stats', { channel: 'room' })).result, { num_clients: 3, num_users: 2 });

    await command(b2, 'unsubscribe', { channel: 'room' });
    b.close();
    await waitUntil(async () => (await apiResult(server, 'presence_stats', { channel: 'room' })).result.num_clients === 1, {
      what: 'presence to drop the unsubscribed and the closed client',
    });
    const api = (await apiResult(server, 'presence', { channel: 'room' })).result.presence;
    assert.deepEqual(Object.keys(api), [a.connectReply.client]);
  });

  test('not enabled: 108; not subscribed: 103', async () => {
    const server = await startServer(PRESENCE);
    const a = await rawConnect(server, { token: connToken('alice') });
    assert.equal((await command(a, 'presence', { channel: 'room' })).error.code, 103);
    await command(a, 'subscribe', { channel: 'quiet:x' });
    assert.equal((await command(a, 'presence', { channel: 'quiet:x' })).error.code, 108);
    assert.equal((await apiResult(server, 'presence', { channel: 'quiet:x' })).error.code, 108);
  });
});

describe('join and leave', () => {
  test('a subscriber that asked join_leave sees others join and leave; one that did not, sees nothing', async () => {
    const server = await startServer(PRESENCE);
    const watcher = await rawConnect(server, { token: connToken('watcher') });
    await command(watcher, 'subscribe', { channel: 'room', join_leave: true });
    const silent = await rawConnect(server, { token: connToken('silent') });
    await command(silent, 'subscribe', { channel: 'room' });
    const joiner = await rawConnect(server, { token: connToken('joiner', { info: { n: 1 } }) });
    await command(joiner, 'subscribe', { channel: 'room' });
    const join = await watcher.waitMessage((m) => m.push?.join?.info?.user === 'joiner');
    assert.deepEqual(join.push, {
      channel: 'room',
      join: { info: { user: 'joiner', client: joiner.connectReply.client, conn_info: { n: 1 } } },
    });
    joiner.close();
    const leave = await watcher.waitMessage((m) => m.push?.leave?.info?.user === 'joiner');
    assert.equal(leave.push.leave.info.client, joiner.connectReply.client);
    // The subscriber that did not ask got neither (it did get nothing at all on this channel).
    await command(silent, 'presence', { channel: 'room' });
    assert.equal(silent.messages.filter((m) => m.push?.join || m.push?.leave).length, 0);
  });

  test('force_push_join_leave pushes to every subscriber', async () => {
    const server = await startServer({ ...PRESENCE, force_push_join_leave: true });
    const watcher = await rawConnect(server, { token: connToken('watcher') });
    await command(watcher, 'subscribe', { channel: 'room' });
    const joiner = await rawConnect(server, { token: connToken('joiner') });
    await command(joiner, 'subscribe', { channel: 'room' });
    await watcher.waitMessage((m) => m.push?.join?.info?.user === 'joiner');
  });
});
