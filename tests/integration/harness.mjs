// Test harness for the instant integration suite: runs the real binary ($INSTANT_BIN) on a free
// loopback port with a generated config, and gives the tests small, time-bounded helpers for the
// official clients (npm centrifuge 5.x, cent.js), raw WebSocket connections (npm ws), the HTTP API
// and JWT minting. Every wait has a timeout; `cleanup()` (registered with afterEach in every test
// file) closes every client and socket and stops every server the test started.
//
// Environment:
//   INSTANT_BIN                 path of the instant binary (required)
//   INSTANT_TEST_TIMEOUT_SCALE  multiplies every timeout (e.g. 3 for a slow ASan build); default 1
//   INSTANT_TEST_LOG=1          echo the servers' stdout/stderr to this process's stderr

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { Centrifuge } from 'centrifuge';
import Centrifuge2 from 'centrifuge2';

export { WebSocket, Centrifuge, Centrifuge2, sleep };

export const BIN = process.env.INSTANT_BIN ? path.resolve(process.env.INSTANT_BIN) : '';
export const SCALE = Math.max(1, Number(process.env.INSTANT_TEST_TIMEOUT_SCALE) || 1);
const ECHO_LOG = process.env.INSTANT_TEST_LOG === '1';

export const SECRET = 'integration-test-hmac-secret';
export const API_KEY = 'integration-test-api-key';

// Scaled timeout in milliseconds.
export function ms(n) {
  return Math.round(n * SCALE);
}

// ---------------------------------------------------------------------------------------------
// Registry of everything a test opened, torn down by cleanup().

const servers = new Set();
const closers = new Set();

function requireBin() {
  if (!BIN) throw new Error('INSTANT_BIN is not set: point it at the instant binary (see README.md)');
  if (!fs.existsSync(BIN)) throw new Error(`INSTANT_BIN=${BIN} does not exist`);
}

// The last lines of every live server's output, appended to timeout errors so a failure shows what
// the server said.
function serverLogs() {
  const parts = [];
  for (const s of servers) {
    const tail = s.outputTail(30);
    if (tail) parts.push(`--- instant on port ${s.port} (last output) ---\n${tail}`);
  }
  return parts.length ? `\n${parts.join('\n')}` : '';
}

export class TimeoutError extends Error {}

// Rejects after `timeout` ms with a message naming what was awaited.
export function withTimeout(promise, timeout, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`timed out after ${timeout} ms waiting for ${what}${serverLogs()}`)), timeout);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// Polls `fn` until it returns a truthy value.
export async function waitUntil(fn, { timeout = ms(5000), interval = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new TimeoutError(`timed out after ${timeout} ms waiting for ${what}${serverLogs()}`);
    await sleep(interval);
  }
}

// Closes every client and socket, then stops every server (SIGTERM, SIGKILL after 5 s). Fails when
// a server crashed during the test, did not stop within 5 s of SIGTERM, or exited non-zero (e.g. a
// sanitizer report), with the server's output in the message.
export async function cleanup() {
  const problems = [];
  for (const close of [...closers].reverse()) {
    try {
      await close();
    } catch {
      // best effort
    }
  }
  closers.clear();
  for (const s of [...servers]) {
    try {
      const problem = await s.dispose();
      if (problem) problems.push(problem);
    } catch (e) {
      problems.push(String(e?.stack ?? e));
    }
  }
  servers.clear();
  if (problems.length) throw new Error(problems.join('\n\n'));
}

function onCleanup(fn) {
  closers.add(fn);
  return () => closers.delete(fn);
}

// Last resort: never leave a server behind when the test process dies.
process.on('exit', () => {
  for (const s of servers) {
    try {
      s.child?.kill('SIGKILL');
    } catch {
      // ignore
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Ports and processes

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// The default config of a test server; `config` passed to startServer is merged over it.
export function baseConfig() {
  return {
    token_hmac_secret_key: SECRET,
    api_key: API_KEY,
    allowed_origins: [],
  };
}

// The environment of every instant process: ours without INSTANT_* / CENTRIFUGO_* variables, which
// instant reads as config overrides, so only the generated config file decides.
function serverEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    // INSTANT_TEST_DEFER_ENGINE (HACKING.md) is a test mode, not a config key: it goes through.
    if (!/^(INSTANT|CENTRIFUGO)_/i.test(k) || k === 'INSTANT_TEST_DEFER_ENGINE') env[k] = v;
  }
  return env;
}

function bindFailure(text) {
  return /address (already )?in use|EADDRINUSE|bind/i.test(text);
}

export class InstantServer {
  constructor(config, { port = 0, args = [], raw = false } = {}) {
    this.config = raw ? config : { ...baseConfig(), ...config };
    this.fixedPort = port;
    this.port = port;
    this.extraArgs = args;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'instant-it-'));
    this.configPath = path.join(this.dir, 'config.json');
    fs.writeFileSync(this.configPath, JSON.stringify(this.config, null, 2));
    this.output = '';
    this.child = null;
    this.exit = null; // {code, signal} of the last process
    this.unexpectedExit = null; // set when the process ended without stop()
    this.stopping = false;
  }

  get host() {
    return `127.0.0.1:${this.port}`;
  }
  get httpUrl() {
    return `http://${this.host}`;
  }
  get wsUrl() {
    return `ws://${this.host}/connection/websocket`;
  }
  get apiKey() {
    return this.config.api_key;
  }

  outputTail(lines = 30) {
    return this.output.split('\n').slice(-lines - 1).join('\n').trim();
  }

  _spawn() {
    const args = ['--config', this.configPath, '--port', String(this.port), '--address', '127.0.0.1', ...this.extraArgs];
    const child = spawn(BIN, args, { cwd: this.dir, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exit = null;
    const exited = new Promise((resolve) => {
      // 'close' (not 'exit'): fires once the process ended AND its output was read to the end
      child.on('close', (code, signal) => {
        this.exit = { code, signal };
        if (!this.stopping && this.child === child) {
          this.unexpectedExit = { code, signal };
        }
        resolve({ code, signal });
      });
      child.on('error', (err) => {
        this.output += `\n[spawn error] ${err.message}\n`;
        this.exit = { code: -1, signal: null };
        resolve(this.exit);
      });
    });
    child.exited = exited;
    const append = (chunk) => {
      const s = chunk.toString();
      if (ECHO_LOG) process.stderr.write(`[instant:${this.port}] ${s}`);
      this.output += s;
      if (this.output.length > 1 << 20) this.output = this.output.slice(-(1 << 19));
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    return child;
  }

  async _waitHealthy(child, timeout) {
    const deadline = Date.now() + timeout;
    for (;;) {
      if (this.exit) return false;
      try {
        const res = await httpRequest(`${this.httpUrl}/health`, { timeout: 1000 });
        if (res.status === 200 && !this.exit && this.child === child) return true;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) {
        throw new TimeoutError(`instant did not answer GET /health on port ${this.port} within ${timeout} ms\n${this.outputTail()}`);
      }
      await sleep(25);
    }
  }

  // Starts the binary and waits until /health answers. Picks a free port unless one was given;
  // retries on a port collision (a fresh port, or the same port for up to 5 s when it is fixed).
  async start() {
    requireBin();
    const startDeadline = Date.now() + ms(5000);
    for (let attempt = 0; ; attempt++) {
      if (!this.fixedPort) this.port = await freePort();
      this.stopping = false;
      this.unexpectedExit = null;
      const before = this.output.length;
      const child = this._spawn();
      const healthy = await this._waitHealthy(child, ms(15000));
      if (healthy) {
        this.fixedPort = this.port; // a later start() (restart) reuses the port
        return this;
      }
      await child.exited;
      const said = this.output.slice(before);
      const collided = bindFailure(said);
      const canRetry = collided && (this.fixedPort ? Date.now() < startDeadline : attempt < 5);
      if (!canRetry) {
        throw new Error(`instant exited during startup (code ${this.exit?.code}, signal ${this.exit?.signal}) on port ${this.port}\n${this.outputTail()}`);
      }
      this.unexpectedExit = null;
      await sleep(100);
    }
  }

  // SIGTERM, then SIGKILL after 5 s. Resolves {code, signal, killed}.
  async stop() {
    const child = this.child;
    if (!child) return { code: null, signal: null, killed: false };
    this.stopping = true;
    if (this.exit) {
      this.child = null;
      return { ...this.exit, killed: false };
    }
    child.kill('SIGTERM');
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, 5000);
    const r = await child.exited;
    clearTimeout(timer);
    this.child = null;
    return { ...r, killed };
  }

  // Stops and starts the same config on the same port.
  async restart() {
    const r = await this.stop();
    this.lastStop = r;
    await this.start();
    return r;
  }

  // Used by cleanup(): stops the server and returns a description of anything wrong, or null.
  async dispose() {
    let problem = null;
    if (this.unexpectedExit) {
      const { code, signal } = this.unexpectedExit;
      problem = `instant on port ${this.port} exited during the test (code ${code}, signal ${signal})`;
    }
    const r = await this.stop();
    if (!problem && r.killed) problem = `instant on port ${this.port} did not exit within 5 s of SIGTERM`;
    else if (!problem && r.code !== null && r.code !== 0) problem = `instant on port ${this.port} exited with code ${r.code} after SIGTERM`;
    else if (!problem && r.signal && r.signal !== 'SIGTERM') problem = `instant on port ${this.port} died by ${r.signal} after SIGTERM`;
    if (this.lastStop && !problem) {
      const l = this.lastStop;
      if (l.killed) problem = `instant on port ${this.port} did not exit within 5 s of SIGTERM (restart)`;
      else if (l.code !== null && l.code !== 0) problem = `instant on port ${this.port} exited with code ${l.code} after SIGTERM (restart)`;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    return problem ? `${problem}\n--- output ---\n${this.outputTail(60)}` : null;
  }
}

// Starts instant with baseConfig() merged with `config` (or `config` alone with {raw: true}).
export async function startServer(config = {}, opts = {}) {
  const s = new InstantServer(config, opts);
  servers.add(s);
  await s.start();
  return s;
}

// Runs the binary with CLI arguments; resolves {code, signal, stdout, stderr}.
export function runCli(args, { cwd, timeout = ms(10000) } = {}) {
  requireBin();
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new TimeoutError(`instant ${args.join(' ')} did not exit within ${timeout} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'instant-it-'));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---------------------------------------------------------------------------------------------
// JWT

function b64url(buf) {
  return Buffer.from(buf).toString('base64url');
}

export function now() {
  return Math.floor(Date.now() / 1000);
}

// Signs `claims` as a JWT. alg HS256 (key = secret string, default SECRET) or RS256 (key = private
// KeyObject or PEM).
export function jwt(claims, { alg = 'HS256', key } = {}) {
  const header = b64url(JSON.stringify({ alg, typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const input = `${header}.${body}`;
  let sig;
  if (alg === 'HS256') {
    sig = crypto.createHmac('sha256', key ?? SECRET).update(input).digest();
  } else if (alg === 'RS256') {
    sig = crypto.sign('sha256', Buffer.from(input), key);
  } else {
    throw new Error(`unsupported alg ${alg}`);
  }
  return `${input}.${b64url(sig)}`;
}

// Connection token for `user` (HS256 with SECRET unless `key`/`alg` given).
export function connToken(user, extra = {}, opts = {}) {
  return jwt({ sub: user, ...extra }, opts);
}

// Subscription token for `user` on `channel`.
export function subToken(user, channel, extra = {}, opts = {}) {
  return jwt({ sub: user, channel, ...extra }, opts);
}

export function decodeJwt(token) {
  const [h, p, s] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
    signature: s,
  };
}

export function verifyHs256(token, secret) {
  const [h, p, s] = token.trim().split('.');
  const expected = crypto.createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url');
  return expected === s;
}

export function rsaKeyPair() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { publicKey, privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) };
}

// ---------------------------------------------------------------------------------------------
// HTTP

// One HTTP request with node:http (no connection pooling unless `agent` is given).
// Resolves {status, headers, text, json} where json is the parsed body or undefined.
export function httpRequest(url, { method = 'GET', headers = {}, body, agent = false, timeout = ms(5000) } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const h = { ...headers };
    if (data !== undefined && h['content-length'] === undefined) h['content-length'] = data.length;
    const req = http.request(url, { method, headers: h, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeout, () => req.destroy(new TimeoutError(`HTTP ${method} ${url} timed out after ${timeout} ms${serverLogs()}`)));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

// Legacy API: POST /api with `Authorization: apikey KEY`; `commands` is a string body or an array
// of command objects sent newline-delimited. Resolves the response plus `lines`: every non-empty
// line of the body parsed as JSON (a line that is not JSON is kept as {unparsed: line}).
export async function apiLegacy(server, commands, { key = server.apiKey, headers = {}, agent } = {}) {
  const body = typeof commands === 'string' ? commands : commands.map((c) => JSON.stringify(c)).join('\n');
  const h = { 'content-type': 'application/json', ...headers };
  if (key !== null) h.authorization = `apikey ${key}`;
  const res = await httpRequest(`${server.httpUrl}/api`, { method: 'POST', headers: h, body, agent });
  res.lines = res.text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return { unparsed: l };
      }
    });
  return res;
}

// Per-method API: POST /api/<method> with `X-API-Key: KEY`; `params` is an object or a raw string.
export async function apiCall(server, method, params, { key = server.apiKey, headers = {}, agent } = {}) {
  const h = { 'content-type': 'application/json', ...headers };
  if (key !== null) h['x-api-key'] = key;
  return httpRequest(`${server.httpUrl}/api/${method}`, { method: 'POST', headers: h, body: typeof params === 'string' ? params : JSON.stringify(params), agent });
}

// Publishes through /api/publish and checks that the server answered with a result.
export async function publish(server, channel, data, opts = {}) {
  const res = await apiCall(server, 'publish', { channel, data }, opts);
  if (res.status !== 200 || !res.json || !('result' in res.json)) {
    throw new Error(`publish to ${channel} failed: HTTP ${res.status} ${res.text}`);
  }
  return res.json.result;
}

// ---------------------------------------------------------------------------------------------
// Raw WebSocket connections

// A raw `ws` connection that records every text frame and every JSON line in arrival order.
export class RawConn {
  constructor(url, { origin, headers = {}, protocols } = {}) {
    this.url = url;
    this.frames = []; // raw text of every received frame
    this.messages = []; // every JSON line of every frame, parsed, in order
    this.badLines = []; // lines that did not parse as JSON
    this.closeInfo = null; // {code, reason}
    this.openError = null; // Error from the handshake (e.g. 403)
    this.httpStatus = null; // status of a refused handshake
    this.wsPings = []; // arrival time (ms) of every WebSocket-level PING control frame (answered by ws)
    this._waiters = new Set();
    this.autoPong = false;
    const opts = { headers };
    if (origin) opts.origin = origin;
    this.ws = new WebSocket(url, protocols, opts);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', (e) => {
        this.openError = e;
        const m = /Unexpected server response: (\d+)/.exec(e.message);
        if (m) this.httpStatus = Number(m[1]);
        reject(e);
      });
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        this._notify();
        resolve(this.closeInfo);
      });
    });
    this.ws.on('error', () => {}); // reported through opened/closed
    this.ws.on('ping', () => {
      this.wsPings.push(Date.now());
      this._notify();
    });
    this.ws.on('message', (data, isBinary) => {
      const text = data.toString('utf8');
      this.frames.push({ text, isBinary });
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          this.badLines.push(line);
          continue;
        }
        this.messages.push(msg);
        if (this.autoPong && isPing(msg)) this.send('{}');
      }
      this._notify();
    });
    this.removeCleanup = onCleanup(() => this.terminate());
  }

  _notify() {
    for (const w of [...this._waiters]) w();
  }

  // Sends a string as is, an object as one JSON line, or an array of objects as one frame of
  // newline-separated JSON lines.
  send(payload) {
    let text;
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) text = payload;
    else if (Array.isArray(payload)) text = payload.map((c) => JSON.stringify(c)).join('\n');
    else text = JSON.stringify(payload);
    this.ws.send(text);
  }

  // Resolves with the first message (from index `from` on) matching `pred`; rejects on timeout or
  // when the connection closes first.
  waitMessage(pred, { timeout = ms(5000), from = 0, what = 'a matching message' } = {}) {
    return this._wait(() => {
      for (let i = from; i < this.messages.length; i++) if (pred(this.messages[i])) return { value: this.messages[i] };
      return null;
    }, timeout, what);
  }

  // Resolves with the reply to command `id`.
  reply(id, opts = {}) {
    return this.waitMessage((m) => m.id === id, { what: `the reply to command id ${id}`, ...opts });
  }

  // Resolves with the first `count` messages matching `pred`.
  waitMessages(pred, count, { timeout = ms(5000), what } = {}) {
    return this._wait(() => {
      const found = this.messages.filter(pred);
      return found.length >= count ? { value: found.slice(0, count) } : null;
    }, timeout, what ?? `${count} matching messages`);
  }

  _wait(check, timeout, what) {
    return new Promise((resolve, reject) => {
      const waiter = () => {
        const r = check();
        if (r) {
          done();
          resolve(r.value);
        } else if (this.closeInfo) {
          done();
          reject(new Error(`connection closed (code ${this.closeInfo.code}, reason ${JSON.stringify(this.closeInfo.reason)}) while waiting for ${what}; received: ${this.describe()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new TimeoutError(`timed out after ${timeout} ms waiting for ${what}; received: ${this.describe()}${serverLogs()}`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        this._waiters.delete(waiter);
      };
      this._waiters.add(waiter);
      waiter();
    });
  }

  // Resolves with the arrival times of the first `count` WebSocket PING control frames.
  waitWsPings(count, { timeout = ms(5000) } = {}) {
    return this._wait(() => (this.wsPings.length >= count ? { value: this.wsPings.slice(0, count) } : null), timeout, `${count} WebSocket PING frame(s) (got ${this.wsPings.length})`);
  }

  // Resolves {code, reason} when the server closes the connection.
  waitClose(timeout = ms(5000)) {
    return withTimeout(this.closed, timeout, `the server to close the connection; received: ${this.describe()}`);
  }

  describe() {
    const frames = this.frames.map((f) => f.text);
    const s = JSON.stringify(frames);
    return s.length > 2000 ? `${s.slice(0, 1000)} ... ${s.slice(-1000)}` : s;
  }

  get isOpen() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  close(code = 1000) {
    try {
      this.ws.close(code);
    } catch {
      // ignore
    }
  }

  terminate() {
    try {
      this.ws.terminate();
    } catch {
      // ignore
    }
  }
}

// Splits one server WebSocket frame off the front of `buf` (server frames are unmasked).
// Returns null until the whole frame is there, else {fin, rsv, masked, opcode, payload, rest}.
export function takeFrame(buf) {
  if (buf.length < 2) return null;
  let len = buf[1] & 0x7f;
  let at = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    at = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    len = Number(buf.readBigUInt64BE(2));
    at = 10;
  }
  if (buf.length < at + len) return null;
  return {
    fin: (buf[0] & 0x80) !== 0,
    rsv: buf[0] & 0x70,
    masked: (buf[1] & 0x80) !== 0,
    opcode: buf[0] & 0x0f,
    payload: buf.subarray(at, at + len),
    rest: buf.subarray(at + len),
  };
}

export function isPing(msg) {
  return msg && typeof msg === 'object' && !Array.isArray(msg) && Object.keys(msg).length === 0;
}

// Opens a raw WebSocket to the server's /connection/websocket (or opts.path) and waits for open.
export async function openWs(server, opts = {}) {
  const url = opts.url ?? `ws://${server.host}${opts.path ?? '/connection/websocket'}`;
  const conn = new RawConn(url, opts);
  await withTimeout(conn.opened, ms(5000), `the WebSocket handshake with ${url}`);
  return conn;
}

// Opens a raw connection and sends `connect` (id 1); resolves the connection with `.connectReply`.
// Fails unless the reply is a success.
export async function rawConnect(server, { token, data, name = 'raw', ...opts } = {}) {
  const conn = await openWs(server, opts);
  const connect = { name };
  if (token !== undefined) connect.token = token;
  if (data !== undefined) connect.data = data;
  conn.send({ id: 1, connect });
  const reply = await conn.reply(1);
  if (!reply.connect) throw new Error(`connect failed: ${JSON.stringify(reply)}`);
  conn.connectReply = reply.connect;
  conn.nextId = 2;
  return conn;
}

// Sends one command with the next id on a connected RawConn and resolves its reply.
export async function command(conn, method, body, opts) {
  const id = conn.nextId++;
  conn.send({ id, [method]: body });
  return conn.reply(id, opts);
}

// ---------------------------------------------------------------------------------------------
// Official client (npm centrifuge 5.x)

// Records events of an EventEmitter (a Centrifuge client or a Subscription) and lets tests wait
// for them. Always listens to 'error' so an error event never throws.
export class EventLog {
  constructor(emitter, names) {
    this.events = [];
    this._waiters = new Set();
    for (const name of new Set([...names, 'error'])) {
      emitter.on(name, (ctx) => {
        this.events.push({ name, ctx, at: Date.now() });
        for (const w of [...this._waiters]) w();
      });
    }
  }

  all(name) {
    return this.events.filter((e) => e.name === name).map((e) => e.ctx);
  }

  count(name) {
    return this.all(name).length;
  }

  // Resolves with the ctx of the n-th (1-based) event `name` matching `pred`.
  wait(name, { pred = () => true, nth = 1, timeout = ms(5000) } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.filter((e) => e.name === name && pred(e.ctx));
        if (found.length >= nth) {
          done();
          resolve(found[nth - 1].ctx);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new TimeoutError(`timed out after ${timeout} ms waiting for event '${name}' #${nth}; events so far: ${this.describe()}${serverLogs()}`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        this._waiters.delete(check);
      };
      this._waiters.add(check);
      check();
    });
  }

  describe() {
    return JSON.stringify(
      this.events.map((e) => {
        const c = e.ctx ?? {};
        const brief = { ...c };
        if (brief.data !== undefined) brief.data = JSON.stringify(brief.data).slice(0, 200);
        return [e.name, brief];
      }),
    ).slice(0, 4000);
  }
}

const CLIENT_EVENTS = ['state', 'connecting', 'connected', 'disconnected', 'publication', 'subscribed', 'unsubscribed', 'subscribing'];
const SUB_EVENTS = ['state', 'subscribing', 'subscribed', 'unsubscribed', 'publication', 'join', 'leave'];

// A Centrifuge 5.x client on the server's endpoint with npm ws as the WebSocket, short reconnect
// delays for tests, and an EventLog as `client.log`. Not connected yet: call client.connect().
export function newClient(server, opts = {}) {
  const { url, ...rest } = opts;
  const client = new Centrifuge(url ?? server.wsUrl, {
    websocket: WebSocket,
    minReconnectDelay: 50,
    maxReconnectDelay: 300,
    timeout: ms(5000),
    ...rest,
  });
  client.log = new EventLog(client, CLIENT_EVENTS);
  onCleanup(() => {
    client.disconnect();
    client.removeAllListeners();
  });
  return client;
}

// A Subscription of `client` with an EventLog as `sub.log`.
export function newSub(client, channel, opts = {}) {
  const sub = client.newSubscription(channel, { minResubscribeDelay: 50, maxResubscribeDelay: 300, ...opts });
  sub.log = new EventLog(sub, SUB_EVENTS);
  return sub;
}

// Connects `client` and waits for 'connected'.
export async function connected(client, timeout = ms(5000)) {
  const n = client.log.count('connected');
  client.connect();
  return client.log.wait('connected', { nth: n + 1, timeout });
}

// Subscribes and waits for 'subscribed'.
export async function subscribed(sub, timeout = ms(5000)) {
  const n = sub.log.count('subscribed');
  sub.subscribe();
  return sub.log.wait('subscribed', { nth: n + 1, timeout });
}

// A WebSocket class for the official client that sends `origin` and records every frame in both
// directions into `record` ({sent: [], received: []}).
export function recordingWebSocket({ origin, record = { sent: [], received: [] } } = {}) {
  return class RecordingWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, origin ? { origin } : {});
      this.on('message', (d) => record.received.push(d.toString('utf8')));
    }
    send(data, ...rest) {
      record.sent.push(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
      return super.send(data, ...rest);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Client protocol v1 (spec §3): raw frames and the official JS 2.x client (npm centrifuge 2.8.x,
// installed as the alias `centrifuge2`).

// Opens a raw connection (opts as for openWs, e.g. {path: '/connection/websocket?cf_protocol_version=v1'})
// and sends the v1 connect `{"id":1,"params":{...}}` (method 0 omitted, as JS 2.x does); resolves
// the connection with `.connectReply` (the `result` object). Fails unless the reply has a result.
export async function rawConnectV1(server, { token, data, name = 'raw-v1', ...opts } = {}) {
  const conn = await openWs(server, opts);
  const params = { name };
  if (token !== undefined) params.token = token;
  if (data !== undefined) params.data = data;
  conn.send({ id: 1, params });
  const reply = await conn.reply(1);
  if (!reply.result) throw new Error(`v1 connect failed: ${JSON.stringify(reply)}`);
  conn.connectReply = reply.result;
  conn.nextId = 2;
  return conn;
}

// Sends one v1 command `{"id":N,"method":M,"params":{...}}` (params omitted when undefined) with
// the next id on a RawConn connected with rawConnectV1, and resolves its reply.
export async function commandV1(conn, method, params, opts) {
  const id = conn.nextId++;
  const cmd = { id, method };
  if (params !== undefined) cmd.params = params;
  conn.send(cmd);
  return conn.reply(id, opts);
}

// A minimal XMLHttpRequest over node:http, enough for JS 2.x's AJAX calls to its app endpoints
// (subscribeEndpoint, refreshEndpoint): open/setRequestHeader/send/abort, readyState 4 with
// status and responseText, onreadystatechange. A network error completes with status 0.
export class NodeXMLHttpRequest {
  constructor() {
    this.readyState = 0;
    this.status = 0;
    this.responseText = '';
    this.withCredentials = false;
    this.onreadystatechange = null;
    this._headers = {};
    this._aborted = false;
    this._req = null;
  }

  open(method, url) {
    this._method = method;
    this._url = url;
    this.readyState = 1;
  }

  setRequestHeader(name, value) {
    this._headers[name] = value;
  }

  send(body) {
    if (this._aborted) return;
    const data = body === undefined || body === null ? undefined : Buffer.from(String(body));
    const headers = { ...this._headers };
    if (data !== undefined) headers['content-length'] = data.length;
    const req = http.request(this._url, { method: this._method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        this.status = res.statusCode;
        this.responseText = Buffer.concat(chunks).toString('utf8');
        this._done();
      });
      res.on('error', () => this._done());
    });
    this._req = req;
    req.setTimeout(ms(5000), () => req.destroy(new TimeoutError(`XHR ${this._method} ${this._url} timed out`)));
    req.on('error', () => this._done());
    if (data !== undefined) req.write(data);
    req.end();
  }

  abort() {
    this._aborted = true;
    this._req?.destroy();
  }

  _done() {
    if (this._aborted || this.readyState === 4) return;
    this.readyState = 4;
    this.onreadystatechange?.();
  }
}

// A stand-in for the application backend on a free loopback port (JS 2.x's subscribeEndpoint /
// refreshEndpoint). Every request is recorded in `requests` ({method, url, headers, text, json})
// and answered by `handler(request)` → {status = 200, body} (an object is sent as JSON). Closed by
// cleanup().
export async function startAppServer(handler) {
  const requests = [];
  const srv = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const text = Buffer.concat(chunks).toString('utf8');
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const r = { method: req.method, url: req.url, headers: req.headers, text, json };
    requests.push(r);
    let out;
    try {
      out = (await handler(r)) ?? {};
    } catch (e) {
      out = { status: 500, body: { error: String(e?.stack ?? e) } };
    }
    const body = typeof out.body === 'string' ? out.body : JSON.stringify(out.body ?? {});
    res.writeHead(out.status ?? 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address();
  onCleanup(
    () =>
      new Promise((resolve) => {
        srv.closeAllConnections?.();
        srv.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${port}`, port, requests, server: srv };
}

const V1_CLIENT_EVENTS = ['connect', 'disconnect', 'publish', 'subscribe', 'unsubscribe', 'join', 'leave', 'message'];
const V1_SUB_EVENTS = ['subscribe', 'unsubscribe', 'publish', 'join', 'leave'];

// A JS 2.x client (protocol v1) on the server's endpoint: npm ws as the WebSocket (or opts.websocket),
// NodeXMLHttpRequest for its AJAX calls, short retry delays, and an EventLog as `client.log`
// (events connect, disconnect, publish, subscribe, unsubscribe, join, leave, message, error).
// `token` (optional) is set with setToken(). Not connected yet: call connectedV1(client).
export function newClientV1(server, opts = {}) {
  const { url, token, ...rest } = opts;
  const client = new Centrifuge2(url ?? server.wsUrl, {
    websocket: WebSocket,
    xmlhttprequest: NodeXMLHttpRequest,
    minRetry: 50,
    maxRetry: 300,
    timeout: ms(5000),
    ...rest,
  });
  if (token !== undefined) client.setToken(token);
  client.log = new EventLog(client, V1_CLIENT_EVENTS);
  onCleanup(() => {
    client.disconnect();
    client.removeAllListeners();
    try {
      client._transport?.terminate?.();
    } catch {
      // ignore
    }
  });
  return client;
}

// Connects a JS 2.x client and waits for its 'connect' event.
export async function connectedV1(client, timeout = ms(5000)) {
  const n = client.log.count('connect');
  client.connect();
  return client.log.wait('connect', { nth: n + 1, timeout });
}

// client.subscribe(channel) (JS 2.x subscribes at once, or at connect) with an EventLog as
// `sub.log` (events subscribe, unsubscribe, publish, join, leave, error).
export function subscribeV1(client, channel, events) {
  const sub = client.subscribe(channel, events);
  sub.log = new EventLog(sub, V1_SUB_EVENTS);
  return sub;
}

// Waits for the `nth` (1-based, counted from the subscription's first) 'subscribe' event of a JS 2.x
// subscription made with subscribeV1 and resolves its ctx; fails at once, with what happened, when
// the subscription reports an error or the client disconnects after this call and before it.
export function subscribedV1(client, sub, { nth = 1, timeout = ms(5000) } = {}) {
  const errorsBefore = sub.log.count('error');
  const disconnectsBefore = client.log.count('disconnect');
  return new Promise((resolve, reject) => {
    const finish = (err, value) => {
      clearTimeout(timer);
      sub.off('subscribe', check);
      sub.off('error', check);
      client.off('disconnect', check);
      if (err) reject(err);
      else resolve(value);
    };
    // Registered after the EventLogs' listeners, so the logs already hold the event.
    function check() {
      const subs = sub.log.all('subscribe');
      if (subs.length >= nth) return finish(null, subs[nth - 1]);
      const err = sub.log.all('error')[errorsBefore];
      if (err) return finish(new Error(`subscription ${sub.channel}: error instead of 'subscribe' #${nth}: ${JSON.stringify(err)}`));
      const d = client.log.all('disconnect')[disconnectsBefore];
      if (d) return finish(new Error(`client disconnected instead of 'subscribe' #${nth} on ${sub.channel}: ${JSON.stringify(d)}`));
    }
    const timer = setTimeout(
      () => finish(new TimeoutError(`timed out after ${timeout} ms waiting for 'subscribe' #${nth} on ${sub.channel}; sub events: ${sub.log.describe()}; client events: ${client.log.describe()}${serverLogs()}`)),
      timeout,
    );
    sub.on('subscribe', check);
    sub.on('error', check);
    client.on('disconnect', check);
    check();
  });
}

// ---------------------------------------------------------------------------------------------
// Redis (redis.test.mjs): a real redis-server per test, without persistence.

export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN || '/usr/bin/redis-server';

const redisChildren = new Set();
process.on('exit', () => {
  for (const child of redisChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // ignore
    }
  }
});

// Encodes a RESP2 command (an array of bulk strings).
function respCommand(args) {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    const b = Buffer.from(String(a));
    out += `$${b.length}\r\n${b.toString('latin1')}\r\n`;
  }
  return Buffer.from(out, 'latin1');
}

// Parses one RESP2 reply at `pos` of `buf`: {value, end}, or null when the reply is incomplete.
// An error reply is returned as an Error instance (not thrown).
function respParse(buf, pos = 0) {
  const eol = buf.indexOf('\r\n', pos, 'latin1');
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  if (type === '+') return { value: line, end: next };
  if (type === '-') return { value: new Error(line), end: next };
  if (type === ':') return { value: Number(line), end: next };
  if (type === '$') {
    const n = Number(line);
    if (n < 0) return { value: null, end: next };
    if (buf.length < next + n + 2) return null;
    return { value: buf.toString('utf8', next, next + n), end: next + n + 2 };
  }
  if (type === '*') {
    const n = Number(line);
    if (n < 0) return { value: null, end: next };
    const items = [];
    let p = next;
    for (let i = 0; i < n; i++) {
      const r = respParse(buf, p);
      if (!r) return null;
      items.push(r.value);
      p = r.end;
    }
    return { value: items, end: p };
  }
  throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
}

// Sends one command to the Redis on 127.0.0.1:`port` over a fresh connection and resolves its
// reply (strings, numbers, arrays, null); an error reply rejects.
export function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new TimeoutError(`redis ${port}: no reply to ${args.join(' ')} within ${ms(5000)} ms`));
    }, ms(5000));
    const finish = (err, value) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    sock.on('connect', () => sock.write(respCommand(args)));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let r;
      try {
        r = respParse(buf);
      } catch (e) {
        finish(e);
        return;
      }
      if (!r) return;
      if (r.value instanceof Error) finish(new Error(`redis ${port}: ${args.join(' ')}: ${r.value.message}`));
      else finish(null, r.value);
    });
    sock.on('error', (e) => finish(e));
    sock.on('close', () => finish(new Error(`redis ${port}: connection closed before the reply to ${args.join(' ')}`)));
  });
}

// Starts `redis-server` on 127.0.0.1 (a free port, or `port`) with no persistence (`--save ""
// --appendonly no`) in a temp dir, and waits until it answers PING. Stopped by cleanup() (before
// the instant servers, which must cope with Redis going away anyway). Resolves
// {port, output(), command(...args), stop(), kill(), restart(), start()}:
//   stop()     SIGTERM (SIGKILL after 5 s) and wait for the exit; every key is lost
//   kill()     SIGKILL and wait for the exit
//   start()    start again on the same port (after stop/kill), waiting for PING
//   restart()  stop() then start(): an empty Redis on the same port
export async function startRedis({ port: fixedPort = 0, args = [] } = {}) {
  if (!fs.existsSync(REDIS_SERVER_BIN)) throw new Error(`${REDIS_SERVER_BIN} does not exist: install redis-server (apt-get install redis-server)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'instant-it-redis-'));
  let port = fixedPort;
  let child = null;
  let exited = null;
  let output = '';
  const spawnOnce = () => {
    const c = spawn(
      REDIS_SERVER_BIN,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--logfile', '', ...args],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    redisChildren.add(c);
    const append = (chunk) => {
      const s = chunk.toString();
      if (ECHO_LOG) process.stderr.write(`[redis:${port}] ${s}`);
      output += s;
      if (output.length > 1 << 18) output = output.slice(-(1 << 17));
    };
    c.stdout.on('data', append);
    c.stderr.on('data', append);
    exited = new Promise((resolve) => {
      c.on('close', (code, signal) => {
        redisChildren.delete(c);
        resolve({ code, signal });
      });
      c.on('error', (err) => {
        output += `\n[spawn error] ${err.message}\n`;
        redisChildren.delete(c);
        resolve({ code: -1, signal: null });
      });
    });
    let done = false;
    exited.then(() => (done = true));
    c.hasExited = () => done;
    child = c;
    return c;
  };
  const start = async () => {
    const deadline = Date.now() + ms(5000);
    for (let attempt = 0; ; attempt++) {
      if (!fixedPort) port = await freePort();
      const before = output.length;
      const c = spawnOnce();
      for (;;) {
        if (c.hasExited()) break;
        try {
          if ((await redisCommand(port, 'PING')) === 'PONG') {
            fixedPort = port; // start() after stop()/kill() reuses the port
            return;
          }
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) {
          c.kill('SIGKILL');
          throw new TimeoutError(`redis-server did not answer PING on port ${port} within ${ms(5000)} ms\n${output.slice(-2000)}`);
        }
        await sleep(20);
      }
      const said = output.slice(before);
      const canRetry = bindFailure(said) && (fixedPort ? Date.now() < deadline : attempt < 5);
      if (!canRetry) throw new Error(`redis-server exited during startup on port ${port}\n${said.slice(-2000)}`);
      await sleep(100);
    }
  };
  const signalAndWait = async (signal) => {
    const c = child;
    if (!c || c.hasExited()) return;
    c.kill(signal);
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const redis = {
    get port() {
      return port;
    },
    get address() {
      return `127.0.0.1:${port}`;
    },
    output: () => output,
    command: (...a) => redisCommand(port, ...a),
    start,
    stop: () => signalAndWait('SIGTERM'),
    kill: () => signalAndWait('SIGKILL'),
    async restart() {
      await signalAndWait('SIGTERM');
      await start();
    },
  };
  onCleanup(async () => {
    await redis.stop(); // no persistence: exits at once
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return redis;
}

// ---------------------------------------------------------------------------------------------
// A TCP relay in front of a server that a test can cut and repoint: the official client
// reconnects to the same URL, so the relay decides which node it lands on (and a cut connection
// does not stop the server, whose memory history survives). Closed by cleanup(). `pause()` cuts every connection
// and refuses new ones until `point(port)`. `targets` lists the node port of every accepted
// connection, in order.
export async function startRelay(targetPort) {
  let target = targetPort;
  const sockets = new Set();
  const targets = [];
  const srv = net.createServer((client) => {
    if (target === null) {
      client.destroy();
      return;
    }
    targets.push(target);
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('error', drop);
      s.on('close', drop);
    }
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const relay = {
    port: srv.address().port,
    targets,
    get url() {
      return `ws://127.0.0.1:${this.port}/connection/websocket`;
    },
    cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    pause() {
      target = null;
      this.cut();
    },
    point(port) {
      target = port;
    },
    close() {
      this.pause();
      return new Promise((resolve) => srv.close(() => resolve()));
    },
  };
  onCleanup(() => relay.close());
  return relay;
}
