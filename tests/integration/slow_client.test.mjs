// Slow clients (tracker issue 8, docs/security.md rows 51-52 and the limits table): a WebSocket
// client whose queue passes client_queue_max_size is closed with 3008 "slow", one whose socket
// takes nothing for websocket_write_timeout with 3009 "write error" (spec §4.2). What has not
// started going out is dropped, the frame in progress is completed, the close frame follows, and
// the client gets a bounded grace to take it before the TCP connection is dropped.
//
// The slow client here is a raw TCP socket that stops reading (socket.pause()): its kernel buffers
// fill (about 4 MiB on loopback), then the server's queue. It parses every frame strictly, so a
// frame cut by the drop fails the test. The server reports the disconnect on /metrics, which is
// how the test knows when to read again.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import {
  apiLegacy,
  cleanup,
  connToken,
  connected,
  httpRequest,
  ms,
  newClient,
  newSub,
  startServer,
  subscribed,
  takeFrame,
  TimeoutError,
  waitUntil,
} from './harness.mjs';

const sockets = new Set();

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await cleanup();
});

const PUBLIC = { allow_subscribe_for_client: true, prometheus: true };
const BIG = 'x'.repeat(16 * 1024);

// One masked client->server text frame.
function textFrame(text) {
  const data = Buffer.from(text, 'utf8');
  const header = data.length <= 125 ? Buffer.from([0x81, 0x80 | data.length]) : Buffer.from([0x81, 0x80 | 126, data.length >> 8, data.length & 0xff]);
  const key = crypto.randomBytes(4);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([header, key, body]);
}

function closeFrame(code) {
  const key = crypto.randomBytes(4);
  const body = Buffer.from([code >> 8, code & 0xff]);
  for (let i = 0; i < 2; i++) body[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from([0x88, 0x82]), key, body]);
}

// A WebSocket client on raw TCP that checks every server frame: FIN set, no RSV bits, no mask, a
// known opcode, text payloads made of JSON lines, nothing after the close frame. `problems` lists
// every violation.
class StrictWs {
  constructor(server) {
    this.server = server;
    this.sock = net.connect(server.port, '127.0.0.1');
    sockets.add(this.sock);
    this.head = Buffer.alloc(0);
    this.upgraded = false;
    this.rest = Buffer.alloc(0);
    this.messages = []; // JSON lines of text frames, in order
    this.closeFrame = null; // {code, reason}
    this.afterClose = 0; // bytes received after the close frame
    this.problems = [];
    this.ended = false; // FIN (or reset) from the server
    this.waiters = new Set();
    this.connectedP = new Promise((resolve, reject) => {
      this.sock.once('connect', resolve);
      this.sock.once('error', reject);
    });
    this.connectedP.catch(() => {});
    this.sock.on('data', (d) => this.onData(d));
    this.sock.on('error', () => {});
    this.sock.on('end', () => this.onEnd());
    this.sock.on('close', () => this.onEnd());
  }

  onEnd() {
    this.ended = true;
    this.notify();
  }

  notify() {
    for (const w of [...this.waiters]) w();
  }

  waitFor(check, what, timeout = ms(5000)) {
    return new Promise((resolve, reject) => {
      const waiter = () => {
        const v = check();
        if (v) {
          done();
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new TimeoutError(`timed out after ${timeout} ms waiting for ${what}; ${this.describe()}`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      waiter();
    });
  }

  describe() {
    return `${this.messages.length} messages, close ${JSON.stringify(this.closeFrame)}, ended ${this.ended}, problems ${JSON.stringify(this.problems.slice(0, 5))}`;
  }

  async open(path = '/connection/websocket') {
    await this.connectedP;
    const key = crypto.randomBytes(16).toString('base64');
    this.sock.write(`GET ${path} HTTP/1.1\r\nHost: ${this.server.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await this.waitFor(() => this.upgraded, 'the 101 response');
    return this;
  }

  onData(d) {
    if (!this.upgraded) {
      this.head = Buffer.concat([this.head, d]);
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!this.head.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 101')) {
        this.problems.push(`no 101: ${this.head.subarray(0, end).toString('latin1')}`);
        return;
      }
      this.upgraded = true;
      d = this.head.subarray(end + 4);
    }
    if (this.closeFrame) {
      this.afterClose += d.length;
      this.problems.push(`${d.length} bytes after the close frame`);
      this.notify();
      return;
    }
    this.rest = this.rest.length ? Buffer.concat([this.rest, d]) : d;
    this.parse();
    this.notify();
  }

  parse() {
    while (!this.closeFrame) {
      const b = this.rest;
      const f = takeFrame(b);
      if (!f) return;
      const { opcode, payload } = f;
      this.rest = f.rest;
      if (!f.fin || f.rsv || f.masked || ![1, 8, 9, 10].includes(opcode)) {
        this.problems.push(`bad frame header ${b[0].toString(16)} ${b[1].toString(16)} after ${this.messages.length} messages`);
        this.rest = Buffer.alloc(0);
        return;
      }
      if (opcode === 1) {
        for (const line of payload.toString('utf8').split('\n')) {
          try {
            this.messages.push(JSON.parse(line));
          } catch {
            this.problems.push(`not JSON: ${line.slice(0, 80)}`);
          }
        }
      } else if (opcode === 8) {
        this.closeFrame = { code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString('utf8') };
        if (this.rest.length) {
          this.afterClose += this.rest.length;
          this.problems.push(`${this.rest.length} bytes after the close frame`);
        }
      }
    }
  }

  send(obj) {
    this.sock.write(textFrame(JSON.stringify(obj)));
  }

  reply(id) {
    return this.waitFor(() => this.messages.find((m) => m.id === id), `the reply to id ${id}`);
  }
}

// A raw v2 client, connected and subscribed to `channel`.
async function slowSubscriber(server, channel = 'flood') {
  const ws = await new StrictWs(server).open();
  ws.send({ id: 1, connect: { token: connToken('slow') } });
  assert.ok((await ws.reply(1)).connect, 'connected');
  ws.send({ id: 2, subscribe: { channel } });
  assert.deepEqual((await ws.reply(2)).subscribe, {});
  return ws;
}

// The value of one sample on /metrics (0 when absent).
async function metric(server, sample) {
  const res = await httpRequest(`${server.httpUrl}/metrics`);
  assert.equal(res.status, 200);
  const line = res.text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

const disconnects = (code) => `centrifugo_client_num_server_disconnects{code="${code}"}`;

// Publishes {j, big} to `channel` in API batches of 10 (160 KiB) from `from` on, until `done()`
// holds after a batch or `max` publications were made; resolves how many were published.
async function flood(server, { channel = 'flood', from = 0, max = 800, done = async () => false } = {}) {
  let j = from;
  while (j < from + max) {
    const batch = [];
    for (let k = 0; k < 10; k++, j++) batch.push({ method: 'publish', params: { channel, data: { j, big: BIG } } });
    assert.equal((await apiLegacy(server, batch)).status, 200);
    if (await done()) break;
  }
  return j - from;
}

// The raw client's publications are 0..n-1, in order, none missing, none cut.
function assertPrefix(ws, published) {
  assert.deepEqual(ws.problems, []);
  const js = ws.messages.filter((m) => m.push?.channel === 'flood').map((m) => m.push.pub.data.j);
  js.forEach((j, i) => assert.equal(j, i, `publication ${i} is ${j}`));
  assert.ok(js.length < published, `the slow client must not get everything (got ${js.length} of ${published})`);
  return js.length;
}

describe('slow clients', () => {
  test('queue over client_queue_max_size: complete frames, then close 3008 "slow", then EOF; once per client', async () => {
    // websocket_write_timeout is the grace to take the close frame: long enough that the test
    // surely reads again in time.
    const server = await startServer({ ...PUBLIC, client_queue_max_size: 65536, websocket_write_timeout: '4s' });
    const ws = await slowSubscriber(server);
    ws.sock.pause(); // stop reading: the kernel buffers fill, then the server's queue
    const published = await flood(server, { done: async () => (await metric(server, disconnects(3008))) >= 1 });
    assert.equal(await metric(server, disconnects(3008)), 1, `no 3008 after ${published} publications`);
    ws.sock.resume();
    await ws.waitFor(() => ws.closeFrame, 'the close frame', ms(8000));
    assert.deepEqual(ws.closeFrame, { code: 3008, reason: 'slow' });
    await ws.waitFor(() => ws.ended, 'EOF after the close frame', ms(5000));
    const got = assertPrefix(ws, published);
    assert.ok(got > 0, 'the frames queued before the drop were delivered');
    // Once per client: the counters and the log line.
    assert.equal(await metric(server, 'instant_client_slow_disconnects_count'), 1);
    assert.equal(await metric(server, disconnects(3009)), 0);
    assert.equal(server.output.match(/disconnecting slow client/g)?.length, 1, server.outputTail());
    // The server dropped the TCP connection (only this /metrics request is left), and serves.
    await waitUntil(async () => (await metric(server, 'instant_node_connections')) === 1, { timeout: ms(5000), what: 'the slow connection gone' });
    const fresh = await slowSubscriber(server, 'other');
    fresh.sock.destroy();
  });

  test('the official client (npm centrifuge 5.x) is disconnected with 3008, reconnects and resubscribes', async () => {
    const server = await startServer({ ...PUBLIC, client_queue_max_size: 65536, websocket_write_timeout: '4s' });
    const client = newClient(server, { token: connToken('official') });
    const sub = newSub(client, 'flood');
    await connected(client);
    await subscribed(sub);
    const socket = client._transport._transport._socket; // npm ws under the client's WebSocket transport
    socket.pause();
    const published = await flood(server, { done: async () => (await metric(server, disconnects(3008))) >= 1 });
    assert.equal(await metric(server, disconnects(3008)), 1, `no 3008 after ${published} publications`);
    socket.resume();
    const connecting = await client.log.wait('connecting', { pred: (c) => c.code !== 0, timeout: ms(8000) });
    assert.equal(connecting.code, 3008);
    assert.equal(connecting.reason, 'slow');
    await client.log.wait('connected', { nth: 2, timeout: ms(5000) });
    await sub.log.wait('subscribed', { nth: 2, timeout: ms(5000) });
    // It works again: a new publication arrives.
    const before = sub.log.count('publication');
    await apiLegacy(server, [{ method: 'publish', params: { channel: 'flood', data: { after: true } } }]);
    await sub.log.wait('publication', { pred: (c) => c.data?.after === true, nth: 1, timeout: ms(5000) });
    assert.ok(sub.log.count('publication') > before);
  });

  test('a client that never reads again is dropped (TCP) after the grace', async () => {
    // Grace: websocket_write_timeout (2 s) without the socket taking a byte, checked once a second.
    const server = await startServer({ ...PUBLIC, client_queue_max_size: 65536, websocket_write_timeout: '2s' });
    const ws = await slowSubscriber(server);
    ws.sock.pause();
    await flood(server, { done: async () => (await metric(server, disconnects(3008))) >= 1 });
    const t0 = Date.now();
    assert.equal(await metric(server, disconnects(3008)), 1);
    // Closing, not closed yet: the close frame waits for the socket (this request + the client; a
    // publish connection of the flood may not be reaped yet on a loaded machine, hence >=).
    assert.ok((await metric(server, 'instant_node_connections')) >= 2, 'the TCP connection is kept for the grace');
    await waitUntil(async () => (await metric(server, 'instant_node_connections')) === 1, { timeout: ms(8000), interval: 100, what: 'the TCP connection dropped after the grace' });
    assert.ok(Date.now() - t0 < ms(6000), `dropped ${Date.now() - t0} ms after the disconnect`);
    // What the kernel had taken still arrives (it may end inside a frame: TCP was dropped), then EOF.
    ws.sock.resume();
    await ws.waitFor(() => ws.ended, 'EOF', ms(5000));
    assert.deepEqual(ws.problems, []);
  });

  test('a socket that takes nothing for websocket_write_timeout: complete frames, then close 3009 "write error", then EOF', async () => {
    const server = await startServer({ ...PUBLIC, client_queue_max_size: 64 * 1024 * 1024, websocket_write_timeout: '2s' });
    const ws = await slowSubscriber(server);
    ws.sock.pause();
    // 6 MiB: more than the paused socket's kernel buffers take, far under the 64 MiB queue.
    const published = await flood(server, { max: 380 });
    await waitUntil(async () => (await metric(server, disconnects(3009))) >= 1, { timeout: ms(6000), interval: 50, what: 'the 3009 disconnect' });
    ws.sock.resume();
    await ws.waitFor(() => ws.closeFrame, 'the close frame', ms(8000));
    assert.deepEqual(ws.closeFrame, { code: 3009, reason: 'write error' });
    await ws.waitFor(() => ws.ended, 'EOF after the close frame', ms(5000));
    assertPrefix(ws, published);
    assert.equal(await metric(server, disconnects(3008)), 0);
    assert.equal(await metric(server, 'instant_client_slow_disconnects_count'), 1);
  });

  test('protocol v1: the same code, with the JSON reason {"reason":"slow","reconnect":true}', async () => {
    const server = await startServer({ ...PUBLIC, client_queue_max_size: 65536, websocket_write_timeout: '4s' });
    const ws = await new StrictWs(server).open('/connection/websocket?cf_protocol_version=v1');
    ws.send({ id: 1, params: { token: connToken('slow-v1') } });
    assert.ok((await ws.reply(1)).result, 'connected');
    ws.send({ id: 2, method: 1, params: { channel: 'flood' } });
    assert.ok((await ws.reply(2)).result, 'subscribed');
    ws.sock.pause();
    await flood(server, { done: async () => (await metric(server, disconnects(3008))) >= 1 });
    ws.sock.resume();
    await ws.waitFor(() => ws.closeFrame, 'the close frame', ms(8000));
    assert.deepEqual(ws.closeFrame, { code: 3008, reason: '{"reason":"slow","reconnect":true}' });
    await ws.waitFor(() => ws.ended, 'EOF after the close frame', ms(5000));
    assert.deepEqual(ws.problems, []);
    const js = ws.messages.filter((m) => m.result?.channel === 'flood').map((m) => m.result.data.data.j);
    js.forEach((j, i) => assert.equal(j, i));
  });
});
