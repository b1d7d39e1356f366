// Client protocol v1 (spec §1.5-§1.7, §3, §4): the real JS 2.x client (npm centrifuge 2.8.5,
// installed as the alias `centrifuge2`) and raw v1 frames against the real binary. The server picks
// the protocol per connection: `?cf_protocol_version=v1|v2` in the upgrade URL, otherwise sniffed
// from the first message (a v2 connect has a `connect` key; a v1 connect is `{"id":1,"params":..}`).
//
// What v1 looks like on the wire (spec §3.1):
//   C: {"id":1,"params":{"token":"..","name":"js"}}          connect (method 0, omitted)
//   S: {"id":1,"result":{"client":"..","version":".."}}
//   C: {"id":2,"method":1,"params":{"channel":"news"}}      subscribe
//   S: {"id":2,"result":{}}
//   S: {"result":{"channel":"news","data":{"data":{..}}}}   publication push (type 0 omitted)
//   C: {"id":3,"method":7}                                  ping
//   S: {"id":3}
// Disconnects close the WebSocket with a JSON reason {"reason":"..","reconnect":bool} (JS 2.x reads
// only that JSON); keepalive is WebSocket PING frames from the server plus method-7 pings from the
// client (no `{}` application pings, which would crash JS 2.x's push dispatcher).
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WebSocket,
  apiCall,
  cleanup,
  command,
  commandV1,
  connToken,
  connected,
  connectedV1,
  isPing,
  jwt,
  ms,
  newClient,
  newClientV1,
  newSub,
  now,
  openWs,
  publish,
  rawConnect,
  rawConnectV1,
  RawConn,
  sleep,
  startAppServer,
  startServer,
  subToken,
  subscribeV1,
  subscribed,
  waitUntil,
} from './harness.mjs';

afterEach(cleanup);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PUBLIC = { allow_subscribe_for_client: true };

// A WebSocket class for JS 2.x that records what goes over it: every socket it opened, every text
// frame in both directions, and the WebSocket-level PING frames the server sent (npm ws answers
// them with PONG, as a browser does).
function trackedWebSocket() {
  const t = { sockets: [], sent: [], received: [], pings: 0 };
  t.sentCommands = () => t.sent.flatMap((f) => f.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l)));
  t.receivedLines = () => t.received.flatMap((f) => f.split('\n').filter((l) => l.trim() !== ''));
  t.receivedMessages = () => t.receivedLines().map((l) => JSON.parse(l));
  class TrackedWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      t.sockets.push(this);
      this.on('message', (d) => t.received.push(d.toString('utf8')));
      this.on('ping', () => t.pings++);
    }
    send(data, ...rest) {
      t.sent.push(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
      return super.send(data, ...rest);
    }
  }
  t.WebSocket = TrackedWebSocket;
  return t;
}

// Waits until a JS 2.x subscription (made with subscribeV1) has had `nth` 'subscribe' events;
// fails at once, with what happened, when the subscription reported an error or the client was
// disconnected first.
function subscribeEvent(client, sub, { nth = 1, timeout = ms(5000) } = {}) {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = () => {
      if (done) return;
      const subs = sub.log.all('subscribe');
      if (subs.length >= nth) return finish(null, subs[nth - 1]);
      const err = sub.log.all('error')[0];
      if (err) return finish(new Error(`subscription ${sub.channel}: error instead of 'subscribe': ${JSON.stringify(err)}`));
      const d = client.log.all('disconnect')[0];
      if (d) return finish(new Error(`client disconnected instead of 'subscribe' on ${sub.channel}: ${JSON.stringify(d)}`));
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeout} ms waiting for 'subscribe' #${nth} on ${sub.channel}; sub events: ${sub.log.describe()}; client events: ${client.log.describe()}`)), timeout);
    function finish(err, value) {
      done = true;
      clearTimeout(timer);
      sub.off('subscribe', check);
      sub.off('error', check);
      client.off('disconnect', check);
      if (err) reject(err);
      else resolve(value);
    }
    // Registered after the EventLogs' listeners, so the logs already hold the event.
    sub.on('subscribe', check);
    sub.on('error', check);
    client.on('disconnect', check);
    check();
  });
}

// The app's subscribeEndpoint for JS 2.x private channels: answers {"channels":[{channel, token}]}
// with a token minted by mint(channel, client) for every requested channel.
function subscribeEndpoint(mint) {
  return startAppServer(({ json }) => ({
    body: { channels: (json?.channels ?? []).map((channel) => ({ channel, token: mint(channel, json.client) })) },
  }));
}

function parseReason(closeInfo) {
  try {
    return JSON.parse(closeInfo.reason);
  } catch {
    assert.fail(`the close reason is not JSON: ${JSON.stringify(closeInfo)}`);
  }
}

// Wall-clock wait until a Unix time (seconds) has passed; used only to get past a token expiry.
async function untilUnix(t) {
  const wait = t * 1000 - Date.now();
  if (wait > 0) await sleep(wait);
}

// =============================================================================================

describe('JS 2.x client (npm centrifuge 2.8.5, protocol v1)', () => {
  test('connects with an HS256 token: v1 connect frame out, v1 result back, connect event', async () => {
    const server = await startServer();
    const t = trackedWebSocket();
    const token = connToken('alice');
    const client = newClientV1(server, { token, websocket: t.WebSocket });
    const ctx = await connectedV1(client);
    assert.match(ctx.client, UUID);
    assert.equal(ctx.transport, 'websocket');
    assert.ok(client.isConnected());
    // What JS 2.x sent: a v1 connect (no method, no `connect` key).
    const first = JSON.parse(t.sent[0]);
    assert.deepEqual(first, { params: { token, name: 'js' }, id: 1 });
    // What it got back: a v1 reply, without the v2-only connect fields.
    const reply = JSON.parse(t.receivedLines()[0]);
    assert.deepEqual(Object.keys(reply).sort(), ['id', 'result']);
    assert.equal(reply.id, 1);
    assert.equal(reply.result.client, ctx.client);
    assert.equal(typeof reply.result.version, 'string');
    for (const k of ['ping', 'pong', 'session', 'node']) assert.ok(!(k in reply.result), `v1 connect result has "${k}": ${t.received[0]}`);
  });

  test('anonymous: connects without a token when allow_anonymous_connect_without_token is set', async () => {
    const server = await startServer({ allow_anonymous_connect_without_token: true });
    const t = trackedWebSocket();
    const client = newClientV1(server, { websocket: t.WebSocket });
    const ctx = await connectedV1(client);
    assert.match(ctx.client, UUID);
    assert.deepEqual(JSON.parse(t.sent[0]), { params: { name: 'js' }, id: 1 });
  });

  test('anonymous when not allowed: disconnect {reason: "bad request", reconnect: false}, no retry', async () => {
    const server = await startServer();
    const t = trackedWebSocket();
    const client = newClientV1(server, { websocket: t.WebSocket });
    client.connect();
    const d = await client.log.wait('disconnect');
    assert.deepEqual(d, { reason: 'bad request', reconnect: false });
    await sleep(ms(600)); // several times JS 2.x's first retry delay (minRetry 50 -> <= 100 ms)
    assert.equal(t.sockets.length, 1, 'JS 2.x must not reconnect after reconnect:false');
    assert.equal(client.log.count('connect'), 0);
  });

  test('invalid token: disconnect {reason: "invalid token", reconnect: false} from the JSON close reason, no retry', async () => {
    const server = await startServer();
    const t = trackedWebSocket();
    const client = newClientV1(server, { token: connToken('alice', {}, { key: 'not-the-secret' }), websocket: t.WebSocket });
    client.connect();
    const d = await client.log.wait('disconnect');
    assert.deepEqual(d, { reason: 'invalid token', reconnect: false });
    await sleep(ms(600));
    assert.equal(t.sockets.length, 1, 'JS 2.x must not reconnect after reconnect:false');
    assert.equal(client.log.count('connect'), 0);
    assert.ok(!client.isConnected());
  });

  test('public channels: subscribes batched after connect; API publications arrive with data byte-exact (object and JSON string)', async () => {
    const server = await startServer(PUBLIC);
    const t = trackedWebSocket();
    const client = newClientV1(server, { token: connToken('alice'), websocket: t.WebSocket });
    const news = subscribeV1(client, 'news'); // before connect: sent right after the connect reply
    const other = subscribeV1(client, 'other');
    const subscribedNews = subscribeEvent(client, news);
    const subscribedOther = subscribeEvent(client, other);
    await connectedV1(client);
    await subscribedNews;
    await subscribedOther;
    // JS 2.x sends both subscribes in one frame (method 1).
    const subFrame = t.sent.find((f) => f.includes('"method":1'));
    assert.deepEqual(
      subFrame.split('\n').map((l) => JSON.parse(l)).map((c) => [c.method, c.params.channel]),
      [
        [1, 'news'],
        [1, 'other'],
      ],
    );

    // Raw bytes chosen to expose any re-encoding: spaces, 2.50, an escaped and a raw non-ASCII
    // character, an escaped quote, null.
    const objRaw = '{"b": 1, "a": [1, 2.50, {"x": "\\u00e9é"}], "n": null, "s": "q\\"uote"}';
    const strRaw = '"just a \\"string\\" \\u2603 ☃"';
    for (const raw of [objRaw, strRaw]) {
      const res = await apiCall(server, 'publish', `{"channel":"news","data":${raw}}`);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.json && 'result' in res.json, res.text);
    }
    const p1 = await news.log.wait('publish');
    const p2 = await news.log.wait('publish', { nth: 2 });
    assert.deepEqual(p1.data, JSON.parse(objRaw));
    assert.equal(p2.data, 'just a "string" \u2603 ☃');
    assert.equal(p1.info, undefined, 'an API publication carries no client info');
    assert.equal(other.log.count('publish'), 0);

    // On the wire: v1 pushes (no id, `result` with channel and a Publication whose data are the
    // published bytes, verbatim).
    const lines = t.receivedLines().filter((l) => l.includes('"news"') && !l.startsWith('{"id"'));
    assert.equal(lines.length, 2, `pushes: ${JSON.stringify(lines)}`);
    for (const [line, raw] of [
      [lines[0], objRaw],
      [lines[1], strRaw],
    ]) {
      assert.ok(line.includes(`"data":{"data":${raw}`), `data not byte-exact in ${line}`);
      const m = JSON.parse(line);
      assert.deepEqual(Object.keys(m), ['result']);
      assert.equal(m.result.channel, 'news');
      assert.ok(m.result.type === undefined || m.result.type === 0, `publication push type: ${line}`);
      assert.deepEqual(m.result.data.data, JSON.parse(raw));
    }
  });

  test('$ channel: token from subscribeEndpoint (POST {client, channels}), subscribed, publications arrive', async () => {
    const server = await startServer(); // no allow_subscribe_for_client: only the token grants access
    const minted = [];
    const app = await subscribeEndpoint((channel, clientId) => {
      const token = subToken('alice', channel, { client: clientId });
      minted.push(token);
      return token;
    });
    const t = trackedWebSocket();
    const client = newClientV1(server, {
      token: connToken('alice'),
      websocket: t.WebSocket,
      subscribeEndpoint: `${app.url}/centrifuge/subscribe`,
    });
    const sub = subscribeV1(client, '$inbox-alice');
    const ok = subscribeEvent(client, sub);
    const ctx = await connectedV1(client);
    await ok;
    // The app endpoint got what JS 2.x sends.
    assert.equal(app.requests.length, 1);
    const req = app.requests[0];
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/centrifuge/subscribe');
    assert.match(req.headers['content-type'], /application\/json/);
    assert.deepEqual(req.json, { client: ctx.client, channels: ['$inbox-alice'] });
    // ...and the subscribe command carried the minted token.
    const cmd = t.sentCommands().find((c) => c.method === 1);
    assert.deepEqual(cmd.params, { channel: '$inbox-alice', token: minted[0] });

    await publish(server, '$inbox-alice', { secret: 1 });
    const p = await sub.log.wait('publish');
    assert.deepEqual(p.data, { secret: 1 });
  });

  test('$ channel: a v3-style subscription token ({client, channel}, no sub) is accepted', async () => {
    // Centrifugo v3 (the server JS 2.x + protocol v1 was made for) documents subscription tokens as
    // {client, channel[, info, exp]} and never looks at `sub`; backends written for it mint exactly
    // that. The token is bound to this connection by `client`, so accepting it is safe.
    const server = await startServer();
    const app = await subscribeEndpoint((channel, clientId) => jwt({ client: clientId, channel }));
    const client = newClientV1(server, { token: connToken('alice'), subscribeEndpoint: `${app.url}/centrifuge/subscribe` });
    const sub = subscribeV1(client, '$v3-room');
    const ok = subscribeEvent(client, sub);
    await connectedV1(client);
    await ok;
    await publish(server, '$v3-room', { v3: true });
    assert.deepEqual((await sub.log.wait('publish')).data, { v3: true });
  });

  test('$ channel: a token bound to another client id is refused with 103, the connection stays (Centrifugo v3)', async () => {
    // Centrifugo v3 answered this subscribe with error 103 and kept the connection; v1 clients talk
    // to v3-era backends, so instant does the same on v1 connections (v2 connections get 3500).
    const server = await startServer({ allow_subscribe_for_client: true });
    const app = await subscribeEndpoint((channel) => subToken('alice', channel, { client: '00000000-0000-4000-8000-000000000000' }));
    const client = newClientV1(server, { token: connToken('alice'), subscribeEndpoint: `${app.url}/centrifuge/subscribe` });
    const sub = subscribeV1(client, '$elsewhere');
    await connectedV1(client);
    const e = await sub.log.wait('error');
    assert.equal(e.error?.code ?? e.code, 103, JSON.stringify(e));
    assert.equal(sub.log.count('subscribe'), 0);
    assert.equal(client.log.count('disconnect'), 0);
  });

  test('publish from the client when allowed: resolves, and every subscriber gets it with client info', async () => {
    const server = await startServer({ allow_subscribe_for_client: true, allow_publish_for_client: true });
    const alice = newClientV1(server, { token: connToken('alice') });
    const bob = newClientV1(server, { token: connToken('bob') });
    const aliceCtx = await connectedV1(alice);
    await connectedV1(bob);
    const aSub = subscribeV1(alice, 'chat');
    const bSub = subscribeV1(bob, 'chat');
    await subscribeEvent(alice, aSub);
    await subscribeEvent(bob, bSub);
    const res = await aSub.publish({ text: 'hi from v1' });
    assert.deepEqual(res, {});
    for (const sub of [aSub, bSub]) {
      const p = await sub.log.wait('publish');
      assert.deepEqual(p.data, { text: 'hi from v1' });
      assert.equal(p.info?.user, 'alice');
      assert.equal(p.info?.client, aliceCtx.client);
    }
  });

  test('permission errors reach the client: subscribe error 103 (and 102), publish rejected with 103; the connection stays', async () => {
    const server = await startServer(); // nothing allowed for clients
    const client = newClientV1(server, { token: connToken('alice') });
    await connectedV1(client);
    const closed = subscribeV1(client, 'closed');
    const e = await closed.log.wait('error');
    assert.equal(e.code, 103);
    assert.equal(e.message, 'permission denied');
    assert.equal(e.channel, 'closed');
    assert.equal(closed.log.count('subscribe'), 0);

    const unknown = subscribeV1(client, 'nosuchns:room');
    const e2 = await unknown.log.wait('error');
    assert.equal(e2.code, 102);

    await assert.rejects(client.publish('closed', { x: 1 }), (err) => {
      assert.equal(err.code, 103, JSON.stringify(err));
      assert.equal(err.message, 'permission denied');
      return true;
    });
    assert.ok(client.isConnected());
    assert.equal(client.log.count('disconnect'), 0);
  });

  test('keepalive: method-7 pings answered with {"id":N}, server WebSocket PINGs arrive, no {} lines, stays connected', async () => {
    const server = await startServer({ ...PUBLIC, ping_interval: '1s', pong_timeout: '500ms' });
    const t = trackedWebSocket();
    const client = newClientV1(server, { token: connToken('alice'), websocket: t.WebSocket, pingInterval: 300, pongWaitTimeout: ms(2000) });
    await connectedV1(client);
    const sub = subscribeV1(client, 'keep');
    await subscribeEvent(client, sub);
    const pingIds = () => t.sentCommands().filter((c) => c.method === 7).map((c) => c.id);
    // Two server PING frames (>= 1.5 s, well past pong_timeout) and two answered client pings.
    await waitUntil(() => t.pings >= 2 && pingIds().length >= 2 && pingIds().slice(0, 2).every((id) => t.receivedLines().includes(`{"id":${id}}`)), {
      timeout: ms(6000),
      what: '2 WebSocket PING frames and 2 method-7 pings answered with {"id":N}',
    }).catch((e) => {
      throw new Error(`${e.message}\nPING frames: ${t.pings}; sent: ${JSON.stringify(t.sent)}; received: ${JSON.stringify(t.received)}`);
    });
    const ping = t.sentCommands().find((c) => c.method === 7);
    assert.deepEqual(Object.keys(ping).sort(), ['id', 'method'], 'JS 2.x ping has no params');
    assert.ok(!t.receivedLines().some((l) => l.trim() === '{}'), `a {} line reached a v1 client: ${JSON.stringify(t.received)}`);
    assert.ok(client.isConnected());
    assert.equal(client.log.count('disconnect'), 0, client.log.describe());
    assert.equal(t.sockets.length, 1);
    await publish(server, 'keep', { alive: true });
    assert.deepEqual((await sub.log.wait('publish')).data, { alive: true });
  });

  test('server restart: close reason {"reason":"shutdown","reconnect":true}; JS 2.x reconnects and resubscribes', async () => {
    const server = await startServer(PUBLIC);
    const reasons = [];
    const client = newClientV1(server, { token: connToken('alice'), onTransportClose: (ctx) => reasons.push({ code: ctx.event?.code, reason: ctx.event?.reason }) });
    const sub = subscribeV1(client, 'news');
    await connectedV1(client);
    await sub.log.wait('subscribe');
    await server.restart();
    await client.log.wait('connect', { nth: 2, timeout: ms(8000) });
    const resub = await sub.log.wait('subscribe', { nth: 2, timeout: ms(5000) });
    assert.equal(resub.isResubscribe, true);
    assert.equal(reasons.length >= 1, true);
    assert.equal(reasons[0].code, 3001);
    assert.deepEqual(JSON.parse(reasons[0].reason), { reason: 'shutdown', reconnect: true });
    await publish(server, 'news', { after: 'restart' });
    assert.deepEqual((await sub.log.wait('publish')).data, { after: 'restart' });
  });

  test('expired token at connect: error 109, JS 2.x asks refreshEndpoint and connects with the new token', async () => {
    const server = await startServer();
    const fresh = connToken('alice', { exp: now() + 3600 });
    const app = await startAppServer(() => ({ body: { token: fresh } }));
    const t = trackedWebSocket();
    const client = newClientV1(server, {
      token: connToken('alice', { exp: now() - 60 }),
      websocket: t.WebSocket,
      refreshEndpoint: `${app.url}/centrifuge/refresh`,
    });
    client.connect();
    const ctx = await client.log.wait('connect', { timeout: ms(8000) });
    assert.match(ctx.client, UUID);
    assert.ok(t.receivedMessages().some((m) => m.id === 1 && m.error?.code === 109), `no 109 reply: ${JSON.stringify(t.received)}`);
    assert.equal(app.requests.length, 1);
    assert.equal(app.requests[0].url, '/centrifuge/refresh');
    const connects = t.sentCommands().filter((c) => c.method === undefined && c.params);
    assert.equal(connects.at(-1).params.token, fresh);
  });

  test('connection token refresh through refreshEndpoint (method 10) keeps the connection past the old expiry', async () => {
    const server = await startServer({ ...PUBLIC, client_expired_close_delay: '3s' });
    const exp = now() + 2;
    const fresh = connToken('alice', { exp: now() + 3600 });
    const app = await startAppServer(() => ({ body: { token: fresh } }));
    const t = trackedWebSocket();
    const client = newClientV1(server, { token: connToken('alice', { exp }), websocket: t.WebSocket, refreshEndpoint: `${app.url}/centrifuge/refresh` });
    await connectedV1(client);
    const connectReply = t.receivedMessages().find((m) => m.id === 1);
    assert.equal(connectReply.result.expires, true);
    assert.ok(connectReply.result.ttl >= 1 && connectReply.result.ttl <= 2, JSON.stringify(connectReply));
    const sub = subscribeV1(client, 'news');
    await subscribeEvent(client, sub);
    // JS 2.x refreshes after ttl seconds: POST to refreshEndpoint, then method 10 with the token.
    const refresh = await waitUntil(() => t.sentCommands().find((c) => c.method === 10), { timeout: ms(6000), what: 'a refresh command (method 10)' });
    assert.deepEqual(refresh.params, { token: fresh });
    const reply = await waitUntil(() => t.receivedMessages().find((m) => m.id === refresh.id), { what: 'the refresh reply' });
    assert.equal(reply.error, undefined, JSON.stringify(reply));
    assert.equal(reply.result.expires, true);
    assert.ok(reply.result.ttl > 3000, JSON.stringify(reply));
    // Past the old expiry plus client_expired_close_delay the connection is still the same one.
    await untilUnix(exp + 3 + 0.5);
    await publish(server, 'news', { still: 'here' });
    assert.deepEqual((await sub.log.wait('publish')).data, { still: 'here' });
    assert.equal(client.log.count('disconnect'), 0, client.log.describe());
    assert.equal(t.sockets.length, 1);
  });

  test('$ subscription token refresh through subscribeEndpoint (method 11) keeps the subscription past the old expiry', async () => {
    const server = await startServer({ client_expired_sub_close_delay: '3s' });
    const exp = now() + 2;
    const app = await subscribeEndpoint((channel, clientId) =>
      subToken('alice', channel, { client: clientId, exp: app.requests.length <= 1 ? exp : now() + 3600 }),
    );
    const t = trackedWebSocket();
    const client = newClientV1(server, { token: connToken('alice'), websocket: t.WebSocket, subscribeEndpoint: `${app.url}/centrifuge/subscribe` });
    const sub = subscribeV1(client, '$room');
    const ok = subscribeEvent(client, sub);
    const ctx = await connectedV1(client);
    await ok;
    const subCmd = t.sentCommands().find((c) => c.method === 1);
    const subReply = t.receivedMessages().find((m) => m.id === subCmd.id);
    assert.equal(subReply.result.expires, true, JSON.stringify(subReply));
    const refresh = await waitUntil(() => t.sentCommands().find((c) => c.method === 11), { timeout: ms(6000), what: 'a sub_refresh command (method 11)' });
    assert.equal(app.requests.length, 2);
    assert.deepEqual(app.requests[1].json, { client: ctx.client, channels: ['$room'] });
    assert.equal(refresh.params.channel, '$room');
    const reply = await waitUntil(() => t.receivedMessages().find((m) => m.id === refresh.id), { what: 'the sub_refresh reply' });
    assert.equal(reply.error, undefined, JSON.stringify(reply));
    assert.equal(reply.result.expires, true);
    assert.ok(reply.result.ttl > 3000, JSON.stringify(reply));
    await untilUnix(exp + 3 + 0.5);
    await publish(server, '$room', { refreshed: true });
    assert.deepEqual((await sub.log.wait('publish')).data, { refreshed: true });
    assert.ok(!t.receivedMessages().some((m) => m.result?.type === 3), `unsubscribe push received: ${JSON.stringify(t.received)}`);
  });
});

// =============================================================================================

describe('raw v1 frames', () => {
  test('connect without method: {"id":1,"result":{client,version}} and nothing v2 in it', async () => {
    const server = await startServer();
    const conn = await openWs(server);
    conn.send(`{"id":1,"params":{"token":"${connToken('alice')}","name":"raw"}}`);
    const r = await conn.reply(1);
    assert.deepEqual(Object.keys(r).sort(), ['id', 'result']);
    assert.match(r.result.client, UUID);
    assert.equal(typeof r.result.version, 'string');
    for (const k of ['ping', 'pong', 'session', 'node', 'expires', 'ttl']) assert.ok(!(k in r.result), `unexpected "${k}" in ${conn.frames[0].text}`);
    assert.equal(conn.frames.length, 1);
    // An explicit method 0 is the same connect.
    const explicit = await openWs(server);
    explicit.send(`{"id":1,"method":0,"params":{"token":"${connToken('alice')}"}}`);
    const r0 = await explicit.reply(1);
    assert.match(r0.result?.client, UUID, JSON.stringify(r0));
  });

  test('connect with an exp token: expires and ttl in the result; expired token: error 109 reply', async () => {
    const server = await startServer();
    const conn = await rawConnectV1(server, { token: connToken('alice', { exp: now() + 600 }) });
    assert.equal(conn.connectReply.expires, true);
    assert.ok(conn.connectReply.ttl > 590 && conn.connectReply.ttl <= 600, JSON.stringify(conn.connectReply));
    const old = await openWs(server);
    old.send({ id: 1, params: { token: connToken('alice', { exp: now() - 60 }) } });
    const r = await old.reply(1);
    assert.deepEqual(r, { id: 1, error: { code: 109, message: 'token expired' } });
  });

  test('{"id":1} alone is a v1 anonymous connect when anonymous connections are allowed', async () => {
    const server = await startServer({ allow_anonymous_connect_without_token: true });
    const conn = await openWs(server);
    conn.send('{"id":1}');
    const r = await conn.reply(1);
    assert.match(r.result?.client, UUID, JSON.stringify(r));
    assert.equal(r.connect, undefined);
  });

  test('subscribe (method 1) -> {"id":N,"result":{}}; publication push is {"result":{"channel":..,"data":{"data":<bytes>}}}', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawConnectV1(server, { token: connToken('alice') });
    conn.send('{"id":2,"method":1,"params":{"channel":"news"}}');
    await conn.reply(2);
    assert.equal(conn.frames.at(-1).text, '{"id":2,"result":{}}');
    const raw = '{"title": "x",  "n":[1,2.0]}';
    const res = await apiCall(server, 'publish', `{"channel":"news","data":${raw}}`);
    assert.equal(res.status, 200, res.text);
    const push = await conn.waitMessage((m) => m.id === undefined && m.result?.channel === 'news', { what: 'the v1 publication push' });
    assert.deepEqual(push, { result: { channel: 'news', data: { data: JSON.parse(raw) } } });
    assert.equal(conn.frames.at(-1).text, `{"result":{"channel":"news","data":{"data":${raw}}}}`);
  });

  test('ping (method 7) -> exactly {"id":N}; params may be present or absent', async () => {
    const server = await startServer();
    const conn = await rawConnectV1(server, { token: connToken('alice') });
    conn.send('{"id":2,"method":7}');
    await conn.reply(2);
    assert.equal(conn.frames.at(-1).text, '{"id":2}');
    conn.send('{"id":3,"method":7,"params":{}}');
    await conn.reply(3);
    assert.equal(conn.frames.at(-1).text, '{"id":3}');
    assert.ok(conn.isOpen);
  });

  test('connect + subscribe + subscribe + ping in ONE frame: every reply, in command order, then publications', async () => {
    const server = await startServer(PUBLIC);
    const conn = await openWs(server);
    conn.send([
      { id: 1, params: { token: connToken('alice'), name: 'batch' } },
      { id: 2, method: 1, params: { channel: 'a' } },
      { id: 3, method: 1, params: { channel: 'b' } },
      { id: 4, method: 7 },
    ]);
    const replies = await conn.waitMessages((m) => m.id !== undefined, 4, { what: '4 replies' });
    assert.deepEqual(
      replies.map((m) => m.id),
      [1, 2, 3, 4],
    );
    assert.match(replies[0].result.client, UUID);
    assert.deepEqual(replies[1], { id: 2, result: {} });
    assert.deepEqual(replies[2], { id: 3, result: {} });
    assert.deepEqual(replies[3], { id: 4 });
    await publish(server, 'b', { to: 'b' });
    const push = await conn.waitMessage((m) => m.result?.channel === 'b' && m.id === undefined);
    assert.deepEqual(push.result.data.data, { to: 'b' });
  });

  test('subscribe errors are v1 error replies {"id":N,"error":{code,message}}: 103, 102, 105, 107', async () => {
    const server = await startServer({ namespaces: [{ name: 'chat', allow_subscribe_for_client: true }] });
    const conn = await rawConnectV1(server, { token: connToken('alice') });
    assert.deepEqual(await commandV1(conn, 1, { channel: 'closed' }), { id: 2, error: { code: 103, message: 'permission denied' } });
    assert.deepEqual(await commandV1(conn, 1, { channel: 'nosuch:room' }), { id: 3, error: { code: 102, message: 'unknown channel' } });
    assert.deepEqual(await commandV1(conn, 1, { channel: 'chat:room' }), { id: 4, result: {} });
    assert.deepEqual(await commandV1(conn, 1, { channel: 'chat:room' }), { id: 5, error: { code: 105, message: 'already subscribed' } });
    const long = await commandV1(conn, 1, { channel: `chat:${'x'.repeat(300)}` });
    assert.equal(long.error?.code, 107, JSON.stringify(long));
    assert.ok(conn.isOpen);
  });

  test('client publish (method 3): {"id":N,"result":{}} and a push with client info', async () => {
    const server = await startServer({ allow_subscribe_for_client: true, allow_publish_for_client: true });
    const conn = await rawConnectV1(server, { token: connToken('alice', { info: { name: 'Alice' } }) });
    assert.deepEqual(await commandV1(conn, 1, { channel: 'room' }), { id: 2, result: {} });
    assert.deepEqual(await commandV1(conn, 3, { channel: 'room', data: { m: 1 } }), { id: 3, result: {} });
    const push = await conn.waitMessage((m) => m.id === undefined && m.result?.channel === 'room');
    assert.deepEqual(push.result.data.data, { m: 1 });
    assert.deepEqual(push.result.data.info, { user: 'alice', client: conn.connectReply.client, conn_info: { name: 'Alice' } });
  });

  test('a command before connect: close 3501 with reason {"reason":"bad request","reconnect":false}', async () => {
    const server = await startServer(PUBLIC);
    const conn = await openWs(server);
    conn.send('{"id":1,"method":1,"params":{"channel":"news"}}');
    const c = await conn.waitClose();
    assert.equal(c.code, 3501);
    assert.deepEqual(parseReason(c), { reason: 'bad request', reconnect: false });
  });

  test('invalid token: close 3500 with reason {"reason":"invalid token","reconnect":false}', async () => {
    const server = await startServer();
    const conn = await openWs(server);
    conn.send({ id: 1, params: { token: 'not.a.jwt' } });
    const c = await conn.waitClose();
    assert.equal(c.code, 3500);
    assert.equal(c.reason, '{"reason":"invalid token","reconnect":false}');
  });

  test('unknown method number or a string method: documented behaviour is close 3501 {"reason":"bad request","reconnect":false}', async () => {
    // Centrifugo v3 (lib v0.18) answered an unknown method number with error 104 "method not found"
    // and kept the connection; instant treats it as a malformed command. JS 2.x never sends one.
    const server = await startServer();
    for (const bad of ['{"id":2,"method":99,"params":{}}', '{"id":2,"method":12}', '{"id":2,"method":"subscribe","params":{"channel":"x"}}']) {
      const conn = await rawConnectV1(server, { token: connToken('alice') });
      conn.send(bad);
      const c = await conn.waitClose();
      assert.equal(c.code, 3501, bad);
      assert.deepEqual(parseReason(c), { reason: 'bad request', reconnect: false }, bad);
      assert.ok(!conn.messages.some((m) => m.id === 2), `${bad} got a reply: ${conn.describe()}`);
    }
  });

  test('the connection expires without refresh: close 3005 {"reason":"connection expired","reconnect":true}', async () => {
    const server = await startServer({ client_expired_close_delay: '0s' });
    const conn = await rawConnectV1(server, { token: connToken('alice', { exp: now() + 1 }) });
    const c = await conn.waitClose(ms(5000));
    assert.equal(c.code, 3005);
    assert.deepEqual(parseReason(c), { reason: 'connection expired', reconnect: true });
  });

  test('subscription expiry without sub_refresh: unsubscribe push {"result":{"type":3,"channel":..,"data":{}}}', async () => {
    const server = await startServer({ client_expired_sub_close_delay: '100ms' });
    const conn = await rawConnectV1(server, { token: connToken('alice') });
    const r = await commandV1(conn, 1, { channel: '$exp', token: subToken('alice', '$exp', { exp: now() + 2 }) });
    assert.equal(r.result?.expires, true, JSON.stringify(r));
    assert.ok(r.result.ttl >= 1 && r.result.ttl <= 2, JSON.stringify(r));
    await conn.waitMessage((m) => m.result?.type === 3, { timeout: ms(5000), what: 'the v1 unsubscribe push' });
    const line = conn.frames.map((f) => f.text).find((l) => l.includes('"type":3'));
    assert.deepEqual(JSON.parse(line), { result: { type: 3, channel: '$exp', data: {} } });
    assert.ok(conn.isOpen, 'a subscription expiry does not close the connection');
    await publish(server, '$exp', { late: true });
    assert.deepEqual(await commandV1(conn, 7), { id: 3 }); // round trip: the publication would be queued before this
    assert.ok(!conn.messages.some((m) => m.result?.data?.data?.late), 'unsubscribed, yet got a publication');
  });

  test('server shutdown: close 3001 {"reason":"shutdown","reconnect":true}', async () => {
    const server = await startServer();
    const conn = await rawConnectV1(server, { token: connToken('alice') });
    const stopped = server.stop();
    const c = await conn.waitClose(ms(5000));
    assert.equal(c.code, 3001);
    assert.deepEqual(parseReason(c), { reason: 'shutdown', reconnect: true });
    const r = await stopped;
    assert.equal(r.code, 0);
  });

  test('keepalive: WebSocket PING frames every ping_interval, no {} lines, no 3012 for the missing {} pongs', async () => {
    const server = await startServer({ ping_interval: '1s', pong_timeout: '500ms' });
    const v1 = await rawConnectV1(server, { token: connToken('alice') });
    const v2 = await rawConnect(server, { token: connToken('bob') }); // control: a v2 connection that never pongs
    assert.equal(v2.connectReply.ping, 1);
    const c2 = await v2.waitClose(ms(4000));
    assert.equal(c2.code, 3012, 'the v2 control connection is closed for not answering {}');
    assert.ok(v2.messages.some(isPing), 'the v2 control got {} pings');
    // By now the v1 connection has been connected well past ping_interval/2 + pong_timeout.
    const [t1, t2] = await v1.waitWsPings(2, { timeout: ms(4000) });
    assert.ok(t2 - t1 >= 900, `PING frames ${t2 - t1} ms apart with ping_interval 1s`);
    assert.ok(v1.isOpen, `v1 closed: ${JSON.stringify(v1.closeInfo)}`);
    assert.ok(!v1.messages.some(isPing), `a {} line reached a v1 connection: ${v1.describe()}`);
    assert.ok(!v1.frames.some((f) => f.text.split('\n').some((l) => l.trim() === '{}')));
    assert.deepEqual(await commandV1(v1, 7), { id: 2 });
  });
});

// =============================================================================================

describe('protocol selection', () => {
  test('?cf_protocol_version=v1 forces v1: even a v2-looking first frame is decoded as v1', async () => {
    const server = await startServer({ allow_anonymous_connect_without_token: true, allow_subscribe_for_client: true, allow_subscribe_for_anonymous: true });
    // Without the parameter, `{"id":1,"connect":{}}` is a v2 connect...
    const sniffed = await openWs(server);
    sniffed.send('{"id":1,"connect":{"name":"x"}}');
    const r2 = await sniffed.reply(1);
    assert.ok(r2.connect && !r2.result, JSON.stringify(r2));
    // ...with v1 forced, it is a v1 command without method and params: an anonymous connect.
    const forced = await openWs(server, { path: '/connection/websocket?cf_protocol_version=v1' });
    forced.send('{"id":1,"connect":{"name":"x"}}');
    const r1 = await forced.reply(1);
    assert.match(r1.result?.client, UUID, JSON.stringify(r1));
    assert.equal(r1.connect, undefined);
    forced.send('{"id":2,"method":1,"params":{"channel":"news"}}');
    assert.deepEqual(await forced.reply(2), { id: 2, result: {} });
    await publish(server, 'news', 1);
    const push = await forced.waitMessage((m) => m.id === undefined);
    assert.deepEqual(push, { result: { channel: 'news', data: { data: 1 } } });
  });

  test('?cf_protocol_version=v2 forces v2: a v1 connect is then a bad request (plain-text reason)', async () => {
    const server = await startServer();
    const conn = await openWs(server, { path: '/connection/websocket?cf_protocol_version=v2' });
    conn.send({ id: 1, params: { token: connToken('alice') } });
    const c = await conn.waitClose();
    assert.equal(c.code, 3501);
    assert.equal(c.reason, 'bad request', 'v2 close reasons are plain text');
    const ok = await openWs(server, { path: '/connection/websocket?cf_protocol_version=v2' });
    ok.send({ id: 1, connect: { token: connToken('alice') } });
    const r = await ok.reply(1);
    assert.match(r.connect?.client, UUID, JSON.stringify(r));
  });

  test('?cf_protocol_version=v3 (or any value but v1/v2) is refused with HTTP 400', async () => {
    const server = await startServer();
    for (const v of ['v3', 'v0', 'V1', 'protobuf']) {
      const conn = new RawConn(`${server.wsUrl}?cf_protocol_version=${v}`);
      await assert.rejects(conn.opened, undefined, `cf_protocol_version=${v} was accepted`);
      assert.equal(conn.httpStatus, 400, `cf_protocol_version=${v}: ${conn.openError?.message}`);
    }
    // The endpoint still works.
    await rawConnectV1(server, { token: connToken('alice'), path: '/connection/websocket?cf_protocol_version=v1' });
  });
});

// =============================================================================================

describe('v1 and v2 clients on the same channel', () => {
  test('raw v1 and raw v2 subscribers get the same publication, each in its own format, data bytes identical', async () => {
    const server = await startServer(PUBLIC);
    const v2 = await rawConnect(server, { token: connToken('bob') });
    assert.deepEqual((await command(v2, 'subscribe', { channel: 'mixed' })).subscribe, {});
    const v1 = await rawConnectV1(server, { token: connToken('alice') });
    assert.deepEqual(await commandV1(v1, 1, { channel: 'mixed' }), { id: 2, result: {} });
    const raw = '{"k": "v",  "arr":[true,false]}';
    const res = await apiCall(server, 'publish', `{"channel":"mixed","data":${raw}}`);
    assert.equal(res.status, 200, res.text);
    await v1.waitMessage((m) => m.id === undefined && m.result?.channel === 'mixed', { what: 'the v1 push' });
    await v2.waitMessage((m) => m.push?.channel === 'mixed', { what: 'the v2 push' });
    assert.equal(v1.frames.at(-1).text, `{"result":{"channel":"mixed","data":{"data":${raw}}}}`);
    assert.equal(v2.frames.at(-1).text, `{"push":{"channel":"mixed","pub":{"data":${raw}}}}`);
    assert.ok(!v1.messages.some((m) => 'push' in m), 'v2 push reached the v1 connection');
    assert.ok(!v2.messages.some((m) => 'result' in m), 'v1 reply reached the v2 connection');
  });

  test('JS 2.x and JS 5.x on one channel: both get API publications; each client publish reaches the other', async () => {
    const server = await startServer({ allow_subscribe_for_client: true, allow_publish_for_client: true });
    const old = newClientV1(server, { token: connToken('olduser') });
    const oldCtx = await connectedV1(old);
    const oldSub = subscribeV1(old, 'both');
    await subscribeEvent(old, oldSub);
    const modern = newClient(server, { token: connToken('newuser') });
    const modernCtx = await connected(modern);
    const newSub5 = newSub(modern, 'both');
    await subscribed(newSub5);

    await publish(server, 'both', { from: 'api' });
    assert.deepEqual((await oldSub.log.wait('publish')).data, { from: 'api' });
    assert.deepEqual((await newSub5.log.wait('publication')).data, { from: 'api' });

    await oldSub.publish({ from: 'v1' });
    const atNew = await newSub5.log.wait('publication', { nth: 2 });
    assert.deepEqual(atNew.data, { from: 'v1' });
    assert.equal(atNew.info?.user, 'olduser');
    assert.equal(atNew.info?.client, oldCtx.client);

    await newSub5.publish({ from: 'v2' });
    const atOld = await oldSub.log.wait('publish', { pred: (p) => p.data?.from === 'v2' });
    assert.equal(atOld.info?.user, 'newuser');
    assert.equal(atOld.info?.client, modernCtx.client);
    // Order on the v1 side: api, own v1 publication, then v2.
    assert.deepEqual(
      oldSub.log.all('publish').map((p) => p.data.from),
      ['api', 'v1', 'v2'],
    );
  });
});
