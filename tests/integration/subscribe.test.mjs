// Subscribing: public and private ($) channels with the official client (tokens from getToken),
// permissions, anonymous users, and the subscribe error codes 103/105/106/107/3500 on raw frames.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cleanup,
  command,
  connToken,
  connected,
  ms,
  newClient,
  newSub,
  now,
  publish,
  rawConnect,
  sleep,
  startServer,
  subToken,
  subscribed,
} from './harness.mjs';

afterEach(cleanup);

const PUBLIC = { allow_subscribe_for_client: true };

describe('subscribe with the official client', () => {
  test('public channel: subscribed, then receives a publication from the API', async () => {
    const server = await startServer(PUBLIC);
    const client = newClient(server, { token: connToken('alice') });
    const sub = newSub(client, 'news');
    sub.subscribe(); // before connect: goes out in the same frame as connect
    await connected(client);
    await sub.log.wait('subscribed');
    await publish(server, 'news', { title: 'hello' });
    const p = await sub.log.wait('publication');
    assert.deepEqual(p.data, { title: 'hello' });
    assert.equal(p.channel, 'news');
  });

  test('$ channel: getToken is called with the channel and the subscription succeeds', async () => {
    const server = await startServer(); // no allow_subscribe_for_client: only the token grants access
    const client = newClient(server, { token: connToken('alice') });
    await connected(client);
    const asked = [];
    const sub = newSub(client, '$inbox-alice', {
      getToken: async (ctx) => {
        asked.push(ctx.channel);
        return subToken('alice', ctx.channel);
      },
    });
    await subscribed(sub);
    assert.deepEqual(asked, ['$inbox-alice']);
    await publish(server, '$inbox-alice', { secret: 1 });
    const p = await sub.log.wait('publication');
    assert.deepEqual(p.data, { secret: 1 });
  });

  test('$ channel without a token: unsubscribed with code 103 (permission denied)', async () => {
    const server = await startServer(PUBLIC); // allow_subscribe_for_client does not open $ channels
    const client = newClient(server, { token: connToken('alice') });
    await connected(client);
    const sub = newSub(client, '$secret');
    sub.subscribe();
    const u = await sub.log.wait('unsubscribed');
    assert.equal(u.code, 103);
    assert.equal(sub.state, 'unsubscribed');
    assert.equal(client.state, 'connected', 'a subscribe error does not close the connection');
  });

  test('subscription token for another user: the connection is closed with 3500', async () => {
    const server = await startServer();
    const client = newClient(server, { token: connToken('alice') });
    await connected(client);
    const sub = newSub(client, '$room', { getToken: async () => subToken('mallory', '$room') });
    sub.subscribe();
    const d = await client.log.wait('disconnected');
    assert.equal(d.code, 3500);
    assert.equal(sub.log.count('subscribed'), 0);
  });

  test('expired subscription token: 109, the subscription asks getToken again and subscribes', async () => {
    const server = await startServer();
    const client = newClient(server, { token: connToken('alice') });
    await connected(client);
    let calls = 0;
    const sub = newSub(client, '$exp', {
      getToken: async () => {
        calls++;
        return subToken('alice', '$exp', { exp: calls === 1 ? now() - 60 : now() + 3600 });
      },
    });
    await subscribed(sub);
    assert.equal(calls, 2);
    assert.ok(sub.log.all('error').some((e) => e.error?.code === 109), `events: ${sub.log.describe()}`);
  });

  test('non-private channel without permission: 103', async () => {
    const server = await startServer();
    const client = newClient(server, { token: connToken('alice') });
    await connected(client);
    const sub = newSub(client, 'closed');
    sub.subscribe();
    const u = await sub.log.wait('unsubscribed');
    assert.equal(u.code, 103);
  });

  test('unknown namespace: 102', async () => {
    const server = await startServer(PUBLIC);
    const client = newClient(server, { token: connToken('alice') });
    await connected(client);
    const sub = newSub(client, 'nosuchns:room');
    sub.subscribe();
    const u = await sub.log.wait('unsubscribed');
    assert.equal(u.code, 102);
  });

  test('namespace options apply to ns: channels', async () => {
    const server = await startServer({ namespaces: [{ name: 'chat', allow_subscribe_for_client: true }] });
    const client = newClient(server, { token: connToken('alice') });
    await connected(client);
    const ok = newSub(client, 'chat:1');
    await subscribed(ok);
    const denied = newSub(client, 'top');
    denied.subscribe();
    assert.equal((await denied.log.wait('unsubscribed')).code, 103);
  });

  test('anonymous user: subscribe allowed only with allow_subscribe_for_anonymous', async () => {
    const server = await startServer({
      allow_anonymous_connect_without_token: true,
      allow_subscribe_for_client: true,
      namespaces: [{ name: 'open', allow_subscribe_for_client: true, allow_subscribe_for_anonymous: true }],
    });
    const client = newClient(server);
    await connected(client);
    const open = newSub(client, 'open:lobby');
    await subscribed(open);
    await publish(server, 'open:lobby', { n: 1 });
    assert.deepEqual((await open.log.wait('publication')).data, { n: 1 });

    const members = newSub(client, 'members');
    members.subscribe();
    assert.equal((await members.log.wait('unsubscribed')).code, 103);
  });

  test('client_insecure: everything is allowed without tokens', async () => {
    const server = await startServer({ client_insecure: true });
    const client = newClient(server);
    await connected(client);
    const sub = newSub(client, 'anything');
    await subscribed(sub);
  });
});

describe('subscribe errors on raw frames', () => {
  test('subscribe reply is {} and the publication push has the documented shape', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawConnect(server, { token: connToken('alice') });
    const r = await command(conn, 'subscribe', { channel: 'news' });
    assert.deepEqual(r, { id: 2, subscribe: {} });
    await publish(server, 'news', { a: 1 });
    const push = await conn.waitMessage((m) => m.push);
    assert.deepEqual(push, { push: { channel: 'news', pub: { data: { a: 1 } } } });
  });

  test('$ channel without token: error 103', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawConnect(server, { token: connToken('alice') });
    const r = await command(conn, 'subscribe', { channel: '$x' });
    assert.deepEqual(r.error, { code: 103, message: 'permission denied' });
    assert.ok(conn.isOpen);
  });

  test('$ channel with a valid sub token: subscribed', async () => {
    const server = await startServer();
    const conn = await rawConnect(server, { token: connToken('alice') });
    const r = await command(conn, 'subscribe', { channel: '$x', token: subToken('alice', '$x') });
    assert.deepEqual(r.subscribe, {});
  });

  test('sub token for another user: close 3500', async () => {
    const server = await startServer();
    const conn = await rawConnect(server, { token: connToken('alice') });
    conn.send({ id: 2, subscribe: { channel: '$x', token: subToken('bob', '$x') } });
    const c = await conn.waitClose();
    assert.equal(c.code, 3500);
  });

  test('sub token for another channel: close 3500', async () => {
    const server = await startServer();
    const conn = await rawConnect(server, { token: connToken('alice') });
    conn.send({ id: 2, subscribe: { channel: '$x', token: subToken('alice', '$y') } });
    const c = await conn.waitClose();
    assert.equal(c.code, 3500);
  });

  test('sub token with a bad signature: close 3500', async () => {
    const server = await startServer();
    const conn = await rawConnect(server, { token: connToken('alice') });
    conn.send({ id: 2, subscribe: { channel: '$x', token: subToken('alice', '$x', {}, { key: 'wrong' }) } });
    const c = await conn.waitClose();
    assert.equal(c.code, 3500);
  });

  test('same channel twice: 105 already subscribed (also when sent in one frame)', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawConnect(server, { token: connToken('alice') });
    assert.deepEqual((await command(conn, 'subscribe', { channel: 'a' })).subscribe, {});
    const again = await command(conn, 'subscribe', { channel: 'a' });
    assert.deepEqual(again.error, { code: 105, message: 'already subscribed' });

    conn.send([
      { id: 10, subscribe: { channel: 'b' } },
      { id: 11, subscribe: { channel: 'b' } },
    ]);
    assert.deepEqual((await conn.reply(10)).subscribe, {});
    assert.equal((await conn.reply(11)).error?.code, 105);
    assert.ok(conn.isOpen);
  });

  test('after unsubscribe the channel can be subscribed again', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawConnect(server, { token: connToken('alice') });
    await command(conn, 'subscribe', { channel: 'a' });
    assert.deepEqual(await command(conn, 'unsubscribe', { channel: 'a' }), { id: 3, unsubscribe: {} });
    assert.deepEqual((await command(conn, 'subscribe', { channel: 'a' })).subscribe, {});
    // unsubscribing from a channel that is not subscribed is not an error
    assert.deepEqual(await command(conn, 'unsubscribe', { channel: 'never' }), { id: 5, unsubscribe: {} });
  });

  test('client_channel_limit: the subscription over the limit gets 106', async () => {
    const server = await startServer({ ...PUBLIC, client_channel_limit: 2 });
    const conn = await rawConnect(server, { token: connToken('alice') });
    assert.deepEqual((await command(conn, 'subscribe', { channel: 'c1' })).subscribe, {});
    assert.deepEqual((await command(conn, 'subscribe', { channel: 'c2' })).subscribe, {});
    const third = await command(conn, 'subscribe', { channel: 'c3' });
    assert.deepEqual(third.error, { code: 106, message: 'limit exceeded' });
    await command(conn, 'unsubscribe', { channel: 'c1' });
    assert.deepEqual((await command(conn, 'subscribe', { channel: 'c3' })).subscribe, {}, 'unsubscribe frees a slot');
  });

  test('channel name longer than 255 bytes: 107; exactly 255 is fine', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawConnect(server, { token: connToken('alice') });
    const r = await command(conn, 'subscribe', { channel: 'x'.repeat(256) });
    assert.deepEqual(r.error, { code: 107, message: 'bad request' });
    assert.deepEqual((await command(conn, 'subscribe', { channel: 'y'.repeat(255) })).subscribe, {});
  });

  // Bug fix (found writing docs/channels.md): an unlisted user fell through to
  // allow_subscribe_for_client, which configs converted from Centrifugo v3 always turn on.
  test('user-limited channels: only the listed users, even when the namespace is open', async () => {
    const server = await startServer({
      namespaces: [{ name: 'dialogs', allow_user_limited_channels: true, allow_subscribe_for_client: true }],
    });
    const alice = await rawConnect(server, { token: connToken('42') });
    assert.deepEqual((await command(alice, 'subscribe', { channel: 'dialogs:#42,56' })).subscribe, {});
    const other = await rawConnect(server, { token: connToken('99') });
    const r = await command(other, 'subscribe', { channel: 'dialogs:#42,56' });
    assert.deepEqual(r.error, { code: 103, message: 'permission denied' });
    // a subscription token still opens any channel
    const t = await command(other, 'subscribe', { channel: 'dialogs:#42,56', token: subToken('99', 'dialogs:#42,56') });
    assert.deepEqual(t.subscribe, {});
    // the open namespace still lets anyone into channels that name no users
    assert.deepEqual((await command(other, 'subscribe', { channel: 'dialogs:lobby' })).subscribe, {});
  });

  // Bug fix: channel_regex was only checked to compile.
  test('channel_regex: the part after the namespace must match, else 107', async () => {
    const server = await startServer({
      namespaces: [{ name: 'rx', channel_regex: '^[a-z]+$', allow_subscribe_for_client: true }],
    });
    const conn = await rawConnect(server, { token: connToken('alice') });
    assert.deepEqual((await command(conn, 'subscribe', { channel: 'rx:room' })).subscribe, {});
    const r = await command(conn, 'subscribe', { channel: 'rx:ROOM1' });
    assert.deepEqual(r.error, { code: 107, message: 'bad request' });
    assert.ok(conn.isOpen);
  });

  test('empty channel: close 3501', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawConnect(server, { token: connToken('alice') });
    conn.send({ id: 2, subscribe: { channel: '' } });
    assert.equal((await conn.waitClose()).code, 3501);
  });

  test('after unsubscribe no more publications arrive', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawConnect(server, { token: connToken('alice') });
    await command(conn, 'subscribe', { channel: 'a' });
    await command(conn, 'subscribe', { channel: 'b' });
    await command(conn, 'unsubscribe', { channel: 'a' });
    await publish(server, 'a', { n: 1 });
    await publish(server, 'b', { n: 2 });
    await conn.waitMessage((m) => m.push?.channel === 'b');
    await sleep(ms(100));
    assert.equal(conn.messages.filter((m) => m.push?.channel === 'a').length, 0);
  });
});

// Bug fix: user_subscribe_to_personal was accepted and did nothing.
describe('personal channel', () => {
  test('user_subscribe_to_personal: each connection of a user is in <ns>:#<user>', async () => {
    const server = await startServer({
      user_subscribe_to_personal: true,
      user_personal_channel_namespace: 'personal',
      namespaces: [{ name: 'personal' }],
    });
    const conn = await rawConnect(server, { token: connToken('42') });
    assert.deepEqual(conn.connectReply.subs, { 'personal:#42': {} });
    await publish(server, 'personal:#42', { hi: 1 });
    const push = await conn.waitMessage((m) => m.push);
    assert.deepEqual(push.push, { channel: 'personal:#42', pub: { data: { hi: 1 } } });
    // anonymous connections have no personal channel
    const anon = await startServer({ user_subscribe_to_personal: true, allow_anonymous_connect_without_token: true });
    const a = await rawConnect(anon, {});
    assert.equal(a.connectReply.subs, undefined);
  });

  test('user_personal_single_connection: a new connection of the user closes the older one with 3504', async () => {
    const server = await startServer({ user_subscribe_to_personal: true, user_personal_single_connection: true });
    const first = await rawConnect(server, { token: connToken('42') });
    const other = await rawConnect(server, { token: connToken('7') });
    const second = await rawConnect(server, { token: connToken('42') });
    const c = await first.waitClose();
    assert.equal(c.code, 3504);
    assert.ok(second.isOpen);
    assert.ok(other.isOpen);
  });
});
