// SIGHUP reloads the configuration (docs/configuration.md "Reloading the configuration"): the
// same file, environment and flags are read again; a valid config is applied except its
// restart-only keys, which are logged as not applied; an invalid one changes nothing. Existing
// sessions keep their subscriptions; what they do next follows the new config.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BIN,
  apiCall,
  baseConfig,
  cleanup,
  command,
  connToken,
  freePort,
  httpRequest,
  ms,
  openWs,
  publish,
  rawConnect,
  sleep,
  startServer,
  waitUntil,
} from './harness.mjs';

afterEach(cleanup);

const OLD = 'reload-test-old-secret';
const NEW = 'reload-test-new-secret';

// Rewrites the server's config file (harness defaults + `config`) and sends SIGHUP; resolves with
// the server output of this reload once a line matching `expect` appeared. Then, with `settle`,
// waits a moment: each loop switches to the new config at its next turn.
async function reload(server, config, expect, opts) {
  fs.writeFileSync(server.configPath, typeof config === 'string' ? config : JSON.stringify({ ...baseConfig(), ...config }, null, 2));
  return hup(server, expect, opts);
}

async function hup(server, expect, { settle = true } = {}) {
  const before = server.output.length;
  server.child.kill('SIGHUP');
  const said = await waitUntil(
    () => {
      const out = server.output.slice(before);
      return expect.test(out) ? out : null;
    },
    { what: `a log line matching ${expect}` },
  );
  if (settle) await sleep(ms(100));
  return said;
}

// Resolves the close code of a connect with `token`, or 'connected'.
async function connectOutcome(server, token) {
  const conn = await openWs(server);
  conn.send({ id: 1, connect: { token } });
  await waitUntil(() => conn.closeInfo || conn.messages.some((m) => m.id === 1), { what: 'a connect reply or a close' });
  const reply = conn.messages.find((m) => m.id === 1);
  conn.close();
  if (reply?.connect) return 'connected';
  return reply ? `error ${reply.error.code}` : conn.closeInfo.code;
}

// The HTTP status of a WebSocket handshake with `origin`.
async function handshakeStatus(server, origin) {
  try {
    const conn = await openWs(server, { origin });
    conn.close();
    return 101;
  } catch (e) {
    const m = /Unexpected server response: (\d+)/.exec(e.message);
    if (!m) throw e;
    return Number(m[1]);
  }
}

describe('SIGHUP reload', () => {
  test('token secret, API key, origins and namespace options apply at once; sessions keep their subscriptions', async () => {
    const initial = {
      token_hmac_secret_key: OLD,
      api_key: 'api-key-1',
      allowed_origins: ['https://a.example'],
      allow_subscribe_for_client: true,
      namespaces: [{ name: 'chat' }],
    };
    const server = await startServer(initial);
    const before = await rawConnect(server, { token: connToken('alice', {}, { key: OLD }) });
    assert.deepEqual((await command(before, 'subscribe', { channel: 'news' })).subscribe, {});
    assert.equal((await command(before, 'subscribe', { channel: 'chat:1' })).error.code, 103, 'chat is closed to clients');
    assert.equal(await handshakeStatus(server, 'https://b.example'), 403);

    const said = await reload(
      server,
      {
        ...initial,
        token_hmac_secret_key: NEW,
        api_key: 'api-key-2',
        allowed_origins: ['https://b.example'],
        namespaces: [{ name: 'chat', allow_subscribe_for_client: true }],
      },
      /config reloaded from .*: applied/,
    );
    assert.match(said, /applied token_hmac_secret_key, api_key, allowed_origins, namespaces/);
    assert.doesNotMatch(said, /needs a restart/);

    // New connections: the new secret works, the old one is refused.
    assert.equal(await connectOutcome(server, connToken('bob', {}, { key: NEW })), 'connected');
    assert.equal(await connectOutcome(server, connToken('carol', {}, { key: OLD })), 3500);
    // The API key and the origins.
    assert.equal((await apiCall(server, 'info', {}, { key: 'api-key-1' })).status, 401);
    assert.equal(await handshakeStatus(server, 'https://b.example'), 101);
    assert.equal(await handshakeStatus(server, 'https://a.example'), 403);
    // The existing session stays, with its subscription, and a new subscribe follows the new options.
    await publish(server, 'news', { after: 'reload' }, { key: 'api-key-2' });
    await before.waitMessage((m) => m.push?.pub?.data?.after === 'reload', { what: 'the publication on the kept subscription' });
    assert.deepEqual((await command(before, 'subscribe', { channel: 'chat:1' })).subscribe, {});
  });

  test('an invalid config changes nothing and is logged; a later valid one applies', async () => {
    const server = await startServer({ token_hmac_secret_key: OLD, allow_subscribe_for_client: true });
    // Not JSON.
    let said = await reload(server, `{"token_hmac_secret_key": "${NEW}",`, /config reload failed/);
    assert.match(said, /error config reload failed, the running configuration stays: .*config\.json:\d+:\d+: invalid JSON/);
    // JSON, but a value out of range.
    said = await reload(server, { token_hmac_secret_key: NEW, client_channel_limit: 0 }, /config reload failed/);
    assert.match(said, /"client_channel_limit" must be a positive integer/);
    // No file at all (started from an explicit --config: never falls back to defaults).
    fs.rmSync(server.configPath);
    said = await hup(server, /config reload failed/);
    assert.match(said, /cannot read/);
    // Still the old config, and serving.
    assert.equal(await connectOutcome(server, connToken('alice', {}, { key: OLD })), 'connected');
    assert.equal(await connectOutcome(server, connToken('alice', {}, { key: NEW })), 3500);
    assert.equal((await httpRequest(`${server.httpUrl}/health`)).status, 200);

    await reload(server, { token_hmac_secret_key: NEW, allow_subscribe_for_client: true }, /config reloaded/);
    assert.equal(await connectOutcome(server, connToken('alice', {}, { key: NEW })), 'connected');
  });

  test('restart-only keys are logged as not applied; the reloadable ones in the same file apply', async () => {
    const server = await startServer({ api_key: 'api-key-1', workers: 2 });
    const said = await reload(server, { api_key: 'api-key-2', workers: 3, engine: 'redis', redis_password: 'secret-password' }, /config reloaded/);
    assert.match(said, /"workers" changed from 2 to 3, but it needs a restart: NOT applied \(still 2\)/);
    assert.match(said, /"engine" changed, but it needs a restart: NOT applied/);
    assert.match(said, /"redis_password" changed, but it needs a restart: NOT applied/);
    assert.doesNotMatch(said, /secret-password/, 'string values are never logged');
    assert.match(said, /applied api_key/);
    // Still the memory engine, and the new API key.
    assert.equal((await apiCall(server, 'publish', { channel: 'x', data: {} }, { key: 'api-key-2' })).status, 200);
    assert.equal((await apiCall(server, 'info', {}, { key: 'api-key-1' })).status, 401);
  });

  test('a port change in the file is logged as needing a restart; the node keeps its port', async () => {
    // The harness passes --port (a flag wins over the file, on reload too), so this one runs the
    // binary with the port in the config file only.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'instant-it-reload-'));
    const file = path.join(dir, 'config.json');
    const port = await freePort();
    fs.writeFileSync(file, JSON.stringify({ ...baseConfig(), port, address: '127.0.0.1' }));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(INSTANT|CENTRIFUGO)_/i.test(k) || k === 'INSTANT_TEST_DEFER_ENGINE'));
    const child = spawn(BIN, ['--config', file], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    try {
      await waitUntil(async () => (await httpRequest(`http://127.0.0.1:${port}/health`, { timeout: 500 }).catch(() => null))?.status === 200, {
        timeout: ms(10000),
        what: `instant on port ${port}`,
      });
      const before = output.length;
      fs.writeFileSync(file, JSON.stringify({ ...baseConfig(), port: port + 1, address: '127.0.0.1' }));
      child.kill('SIGHUP');
      await waitUntil(() => /nothing to apply/.test(output.slice(before)), { what: 'the reload' });
      assert.match(output.slice(before), new RegExp(`"port" changed from ${port} to ${port + 1}, but it needs a restart: NOT applied`));
      assert.equal((await httpRequest(`http://127.0.0.1:${port}/health`)).status, 200);
    } finally {
      child.kill('SIGTERM');
      const r = await exited;
      fs.rmSync(dir, { recursive: true, force: true });
      assert.equal(r.code, 0, `exit after SIGTERM; output:\n${output}`);
    }
  });

  test('reloads while clients subscribe, publish and leave: no reader sees a half-updated config', async () => {
    // Namespace options flip on every reload (presence and join/leave on, then off) while a client
    // keeps subscribing: with INSTANT_TEST_DEFER_ENGINE=1 subscribes wait for the engine across
    // loop turns, so swaps land between a subscribe and its reply (the ASan run checks lifetimes).
    const variant = (i) => ({
      token_hmac_secret_key: OLD,
      workers: 2,
      client_commands_per_second: 0, // the clients below run request/reply as fast as they can
      namespaces: [
        { name: 'chat', allow_subscribe_for_client: true, allow_publish_for_client: true, presence: i % 2 === 0, join_leave: i % 2 === 0, history_size: 10, history_ttl: '60s', force_recovery: i % 2 === 1 },
      ],
    });
    const server = await startServer(variant(0));
    const clients = [];
    for (let c = 0; c < 4; c++) clients.push(await rawConnect(server, { token: connToken(`u${c}`, {}, { key: OLD }) }));
    let stop = false;
    let rounds = 0;
    let loadError = null;
    const load = (async () => {
      while (!stop) {
        await Promise.all(
          clients.map(async (conn, c) => {
            const ch = `chat:r${rounds % 5}`;
            const s = await command(conn, 'subscribe', { channel: ch }, { timeout: ms(5000) });
            assert.ok(s.subscribe || s.error?.code === 105, JSON.stringify(s));
            await command(conn, 'publish', { channel: ch, data: { c, rounds } });
            await command(conn, 'unsubscribe', { channel: ch });
          }),
        );
        rounds++;
      }
    })().catch((e) => {
      loadError = e;
    });
    try {
      for (let i = 1; i <= 16 && !loadError; i++) {
        await reload(server, variant(i), /config reloaded/, { settle: false });
        await sleep(20); // let the clients run a round or two on this snapshot
      }
    } finally {
      stop = true;
      await load;
    }
    if (loadError) throw loadError;
    assert.ok(rounds > 5, `client rounds during the reloads: ${rounds}`);
    assert.equal((await httpRequest(`${server.httpUrl}/health`)).status, 200);
    assert.equal(await connectOutcome(server, connToken('late', {}, { key: OLD })), 'connected');
  });
});
