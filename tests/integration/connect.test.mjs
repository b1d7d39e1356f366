// Connecting: tokens (HS256, RS256, expired, invalid), anonymous access, allowed origins — seen by
// the official client (npm centrifuge 5.x) and, where exact frames or close codes matter, by raw ws.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cleanup,
  connToken,
  connected,
  jwt,
  ms,
  newClient,
  now,
  openWs,
  rawConnect,
  recordingWebSocket,
  rsaKeyPair,
  sleep,
  startServer,
} from './harness.mjs';

afterEach(cleanup);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

describe('connect with the official client', () => {
  test('HS256 token: connected, client id is a UUID, transport websocket', async () => {
    const server = await startServer();
    const client = newClient(server, { token: connToken('alice') });
    const ctx = await connected(client);
    assert.match(ctx.client, UUID);
    assert.equal(ctx.transport, 'websocket');
    assert.equal(client.state, 'connected');
  });

  test('RS256 token signed with the configured public key connects; another key is refused with 3500', async () => {
    const good = rsaKeyPair();
    const other = rsaKeyPair();
    const server = await startServer({ token_hmac_secret_key: '', token_rsa_public_key: good.publicPem });
    const client = newClient(server, { token: connToken('alice', {}, { alg: 'RS256', key: good.privateKey }) });
    await connected(client);

    const bad = newClient(server, { token: connToken('alice', {}, { alg: 'RS256', key: other.privateKey }) });
    bad.connect();
    const d = await bad.log.wait('disconnected');
    assert.equal(d.code, 3500);
    assert.equal(bad.log.count('connected'), 0);
  });

  test('HS256 token when only an RSA key is configured is refused with 3500', async () => {
    const { publicPem } = rsaKeyPair();
    const server = await startServer({ token_hmac_secret_key: '', token_rsa_public_key: publicPem });
    const client = newClient(server, { token: connToken('alice') });
    client.connect();
    const d = await client.log.wait('disconnected');
    assert.equal(d.code, 3500);
  });

  test('token signed with a wrong secret: terminal disconnect 3500 "invalid token", no reconnect', async () => {
    const server = await startServer();
    const client = newClient(server, { token: connToken('alice', {}, { key: 'not-the-secret' }) });
    client.connect();
    const d = await client.log.wait('disconnected');
    assert.equal(d.code, 3500);
    assert.equal(d.reason, 'invalid token');
    await sleep(ms(500));
    assert.equal(client.state, 'disconnected');
    assert.equal(client.log.count('connected'), 0);
    assert.equal(client.log.count('disconnected'), 1, 'the client must not retry after a terminal code');
  });

  test('garbage token: terminal disconnect 3500', async () => {
    const server = await startServer();
    const client = newClient(server, { token: 'not.a.jwt' });
    client.connect();
    const d = await client.log.wait('disconnected');
    assert.equal(d.code, 3500);
  });

  test('expired token: error 109, the client calls getToken and connects with the new token', async () => {
    const server = await startServer();
    let calls = 0;
    const client = newClient(server, {
      token: connToken('alice', { exp: now() - 60 }),
      getToken: async () => {
        calls++;
        return connToken('alice', { exp: now() + 3600 });
      },
    });
    const ctx = await connected(client);
    assert.match(ctx.client, UUID);
    assert.ok(calls >= 1, 'getToken must be called after 109');
    const errors = client.log.all('error').filter((e) => e.type === 'connect');
    assert.ok(
      errors.some((e) => e.error.code === 109),
      `expected a connect error 109 before connecting; events: ${client.log.describe()}`,
    );
  });

  test('no token at all and getToken: the client fetches a token and connects', async () => {
    const server = await startServer();
    let calls = 0;
    const client = newClient(server, {
      getToken: async () => {
        calls++;
        return connToken('bob');
      },
    });
    await connected(client);
    assert.equal(calls, 1);
  });

  test('a token with exp is refreshed through getToken before it expires; the connection stays up', async () => {
    // Without a working refresh the server closes the connection 2 s after exp, well inside the
    // 5.5 s this test watches; with it, the client refreshes at ttl (~2 s) and again at ~4 s.
    const server = await startServer({ client_expired_close_delay: '2s' });
    let calls = 0;
    const client = newClient(server, {
      token: connToken('alice', { exp: now() + 2 }),
      getToken: async () => {
        calls++;
        return connToken('alice', { exp: now() + 2 });
      },
    });
    await connected(client);
    await sleep(ms(5500));
    assert.ok(calls >= 2, `getToken calls: ${calls}`);
    assert.equal(client.state, 'connected');
    assert.equal(client.log.count('disconnected'), 0, client.log.describe());
    assert.equal(client.log.count('connected'), 1, `no reconnect: ${client.log.describe()}`);
  });

  test('anonymous connect without token when allowed', async () => {
    const server = await startServer({ allow_anonymous_connect_without_token: true });
    const client = newClient(server);
    const ctx = await connected(client);
    assert.match(ctx.client, UUID);
  });

  test('anonymous connect without token when not allowed: terminal disconnect 3501', async () => {
    const server = await startServer();
    const client = newClient(server);
    client.connect();
    const d = await client.log.wait('disconnected');
    assert.equal(d.code, 3501);
    await sleep(ms(300));
    assert.equal(client.state, 'disconnected');
    assert.equal(client.log.count('connected'), 0);
  });

  test('token with an empty sub connects as the anonymous user', async () => {
    const server = await startServer();
    const client = newClient(server, { token: connToken('') });
    await connected(client);
  });
});

describe('connect with raw frames', () => {
  test('connect reply: client UUID, version, ping and pong advertised', async () => {
    const server = await startServer();
    const conn = await rawConnect(server, { token: connToken('alice') });
    const r = conn.connectReply;
    assert.match(r.client, UUID);
    assert.equal(typeof r.version, 'string');
    assert.equal(r.ping, 25, 'default ping_interval is 25s');
    assert.equal(r.pong, true);
    assert.equal(r.expires, undefined, 'a token without exp does not expire');
    assert.equal(conn.frames[0].isBinary, false, 'JSON frames are text frames');
  });

  test('token with exp: connect reply has expires and ttl', async () => {
    const server = await startServer();
    const conn = await rawConnect(server, { token: connToken('alice', { exp: now() + 600 }) });
    assert.equal(conn.connectReply.expires, true);
    assert.ok(conn.connectReply.ttl > 590 && conn.connectReply.ttl <= 600, `ttl ${conn.connectReply.ttl}`);
  });

  test('expired token: error reply 109 "token expired" (not a close)', async () => {
    const server = await startServer();
    const conn = await openWs(server);
    conn.send({ id: 1, connect: { token: connToken('alice', { exp: now() - 10 }) } });
    const reply = await conn.reply(1);
    assert.deepEqual(reply.error, { code: 109, message: 'token expired' });
    assert.equal(reply.connect, undefined);
  });

  test('expired token with subscribes batched in the same frame (what JS 5.x sends): the 109 reply arrives, the rest of the frame is dropped', async () => {
    // Regression: the batched subscribes used to be answered with close 3501, which hid the 109
    // and left the SDK disconnected for good instead of fetching a new token.
    const server = await startServer({ allow_subscribe_for_client: true });
    const conn = await openWs(server);
    conn.send([
      { id: 1, connect: { token: connToken('alice', { exp: now() - 10 }), name: 'js' } },
      { id: 2, subscribe: { channel: 'news' } },
    ]);
    const reply = await conn.reply(1);
    assert.deepEqual(reply.error, { code: 109, message: 'token expired' });
    // A ping round trip on a fresh connection proves the server is alive; this one must have
    // produced nothing for id 2 and must not have been closed by it.
    const other = await openWs(server);
    other.send({ id: 1, connect: { token: connToken('bob') } });
    await other.reply(1);
    assert.equal(conn.messages.filter((m) => m.id === 2).length, 0);
    assert.equal(conn.closeInfo, null);
  });

  test('token not valid yet (nbf in the future): error 109', async () => {
    const server = await startServer();
    const conn = await openWs(server);
    conn.send({ id: 1, connect: { token: connToken('alice', { nbf: now() + 600 }) } });
    const reply = await conn.reply(1);
    assert.equal(reply.error?.code, 109);
  });

  test('invalid token: close 3500 "invalid token"', async () => {
    const server = await startServer();
    const conn = await openWs(server);
    conn.send({ id: 1, connect: { token: connToken('alice', {}, { key: 'wrong' }) } });
    const c = await conn.waitClose();
    assert.equal(c.code, 3500);
    assert.equal(c.reason, 'invalid token');
  });

  test('a subscription token (has a channel claim) cannot be used to connect: 3500', async () => {
    const server = await startServer();
    const conn = await openWs(server);
    conn.send({ id: 1, connect: { token: jwt({ sub: 'alice', channel: '$x' }) } });
    const c = await conn.waitClose();
    assert.equal(c.code, 3500);
  });

  test('a token with an empty sub is the anonymous user, refused with 3507 under disallow_anonymous_connection_tokens', async () => {
    const open = await startServer();
    const anonymous = await rawConnect(open, { token: connToken('') });
    assert.equal(anonymous.connectReply.client.length > 0, true, 'accepted by default');
    const strict = await startServer({ disallow_anonymous_connection_tokens: true });
    const conn = await openWs(strict);
    conn.send({ id: 1, connect: { token: connToken('') } });
    const c = await conn.waitClose();
    assert.equal(c.code, 3507); // was: accepted (the key was loaded and never read)
    assert.equal(c.reason, 'permission denied');
    await rawConnect(strict, { token: connToken('alice') }); // a user's token still connects
  });

  test('no token and anonymous not allowed: close 3501', async () => {
    const server = await startServer();
    const conn = await openWs(server);
    conn.send({ id: 1, connect: {} });
    const c = await conn.waitClose();
    assert.equal(c.code, 3501);
  });
});

describe('allowed_origins', () => {
  const config = { allowed_origins: ['http://good.example', 'https://*.wild.example'] };

  test('a listed Origin is accepted, an unlisted one gets HTTP 403, a wildcard pattern matches', async () => {
    const server = await startServer(config);
    const ok = await openWs(server, { origin: 'http://good.example' });
    assert.ok(ok.isOpen);
    const wild = await openWs(server, { origin: 'https://a.wild.example' });
    assert.ok(wild.isOpen);
    await assert.rejects(openWs(server, { origin: 'http://evil.example' }), /403/);
    await assert.rejects(openWs(server, { origin: 'http://wild.example' }), /403/, 'scheme must match the pattern');
    await assert.rejects(openWs(server, { origin: 'http://good.example.evil.example' }), /403/);
  });

  test('empty allowed_origins refuses any request that carries an Origin', async () => {
    const server = await startServer({ allowed_origins: [] });
    await assert.rejects(openWs(server, { origin: 'http://localhost' }), /403/);
    const noOrigin = await openWs(server);
    assert.ok(noOrigin.isOpen);
  });

  test('["*"] accepts any Origin', async () => {
    const server = await startServer({ allowed_origins: ['*'] });
    const conn = await openWs(server, { origin: 'http://anything.example:1234' });
    assert.ok(conn.isOpen);
  });

  test('official client from a bad origin never connects: transport errors, keeps reconnecting', async () => {
    const server = await startServer(config);
    const client = newClient(server, { token: connToken('alice'), websocket: recordingWebSocket({ origin: 'http://evil.example' }) });
    client.connect();
    const err = await client.log.wait('error', { pred: (e) => e.type === 'transport' });
    assert.equal(err.error.code, 2, 'errorCodes.transportClosed');
    await client.log.wait('error', { pred: (e) => e.type === 'transport', nth: 2 }); // it retried
    await sleep(ms(300));
    assert.equal(client.log.count('connected'), 0);
    assert.equal(client.state, 'connecting');
  });

  test('official client from an allowed origin connects', async () => {
    const server = await startServer(config);
    const client = newClient(server, { token: connToken('alice'), websocket: recordingWebSocket({ origin: 'http://good.example' }) });
    await connected(client);
  });
});
