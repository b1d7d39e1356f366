// Server HTTP API: authentication, error replies, the legacy newline-delimited /api, per-method
// /api/<method>, broadcast, and /health.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  API_KEY,
  apiCall,
  apiLegacy,
  cleanup,
  command,
  connToken,
  httpRequest,
  rawConnect,
  startServer,
} from './harness.mjs';

afterEach(cleanup);

const PUBLIC = { allow_subscribe_for_client: true };

async function rawSubscriber(server, ...channels) {
  const conn = await rawConnect(server, { token: connToken('reader') });
  for (const channel of channels) assert.deepEqual((await command(conn, 'subscribe', { channel })).subscribe, {});
  return conn;
}

describe('health', () => {
  test('GET /health: 200 {} (application/json)', async () => {
    const server = await startServer();
    const res = await httpRequest(`${server.httpUrl}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {});
    assert.match(res.headers['content-type'] ?? '', /application\/json/);
  });

  test('unknown path: 404', async () => {
    const server = await startServer();
    const res = await httpRequest(`${server.httpUrl}/no/such/path`);
    assert.equal(res.status, 404);
  });
});

describe('API authentication', () => {
  const cmd = [{ method: 'publish', params: { channel: 'a', data: {} } }];

  test('legacy /api: 401 without a key and with a wrong key; 200 with the right one', async () => {
    const server = await startServer();
    assert.equal((await apiLegacy(server, cmd, { key: null })).status, 401);
    assert.equal((await apiLegacy(server, cmd, { key: 'wrong' })).status, 401);
    assert.equal((await apiLegacy(server, cmd, { key: `${API_KEY}x` })).status, 401);
    const ok = await apiLegacy(server, cmd);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.lines, [{ result: {} }]);
  });

  test('legacy /api: the "apikey" scheme is case-insensitive', async () => {
    const server = await startServer();
    const res = await apiLegacy(server, cmd, { key: null, headers: { authorization: `APIKEY ${API_KEY}` } });
    assert.equal(res.status, 200);
  });

  test('/api/publish: 401 without X-API-Key and with a wrong one', async () => {
    const server = await startServer();
    assert.equal((await apiCall(server, 'publish', { channel: 'a', data: {} }, { key: null })).status, 401);
    assert.equal((await apiCall(server, 'publish', { channel: 'a', data: {} }, { key: 'wrong' })).status, 401);
    assert.equal((await apiCall(server, 'publish', { channel: 'a', data: {} })).status, 200);
  });

  test('/api/publish also accepts Authorization: apikey', async () => {
    const server = await startServer();
    const res = await apiCall(server, 'publish', { channel: 'a', data: {} }, { key: null, headers: { authorization: `apikey ${API_KEY}` } });
    assert.equal(res.status, 200);
  });

  test('no api_key configured: every request is refused with 401', async () => {
    const server = await startServer({ api_key: '' });
    assert.equal((await apiLegacy(server, cmd, { key: '' })).status, 401);
    assert.equal((await apiLegacy(server, cmd, { key: null })).status, 401);
    assert.equal((await apiCall(server, 'publish', { channel: 'a', data: {} }, { key: '' })).status, 401);
  });

  test('api_insecure: no key needed', async () => {
    const server = await startServer({ ...PUBLIC, api_key: '', api_insecure: true });
    const conn = await rawSubscriber(server, 'a');
    const legacy = await apiLegacy(server, [{ method: 'publish', params: { channel: 'a', data: { n: 1 } } }], { key: null });
    assert.equal(legacy.status, 200);
    assert.deepEqual(legacy.lines, [{ result: {} }]);
    const v5 = await apiCall(server, 'publish', { channel: 'a', data: { n: 2 } }, { key: null });
    assert.equal(v5.status, 200);
    assert.deepEqual(v5.json, { result: {} });
    const pubs = await conn.waitMessages((m) => m.push?.pub, 2);
    assert.deepEqual(
      pubs.map((m) => m.push.pub.data),
      [{ n: 1 }, { n: 2 }],
    );
  });

  test('GET /api is not accepted', async () => {
    const server = await startServer();
    const res = await httpRequest(`${server.httpUrl}/api`, { headers: { authorization: `apikey ${API_KEY}` } });
    assert.ok(res.status === 405 || res.status === 404, `GET /api answered ${res.status}`);
  });
});

describe('API errors', () => {
  test('malformed body: 400 with a JSON error (legacy and per-method)', async () => {
    const server = await startServer();
    const legacy = await apiLegacy(server, '{"method":"publish","params":');
    assert.equal(legacy.status, 400);
    assert.ok(legacy.json?.error, `legacy body: ${JSON.stringify(legacy.text)}`);

    const v5 = await apiCall(server, 'publish', '{"channel": "a", "data": ');
    assert.equal(v5.status, 400);
    assert.ok(v5.json?.error, `per-method body: ${JSON.stringify(v5.text)}`);
  });

  test('empty legacy body: 400', async () => {
    const server = await startServer();
    const res = await apiLegacy(server, '');
    assert.equal(res.status, 400);
  });

  test('unknown method: error 104', async () => {
    const server = await startServer();
    const res = await apiLegacy(server, [{ method: 'no_such_method', params: {} }]);
    assert.equal(res.status, 200);
    assert.equal(res.lines.length, 1);
    assert.equal(res.lines[0].error?.code, 104, res.text);
    assert.equal(res.lines[0].result, undefined);
  });

  test('publish without channel: 107; without data: 107', async () => {
    const server = await startServer();
    // Only the code is checked: Centrifugo says "bad request", instant may say what is missing.
    const legacy = await apiLegacy(server, [{ method: 'publish', params: { data: { a: 1 } } }]);
    assert.equal(legacy.status, 200);
    assert.equal(legacy.lines.length, 1, legacy.text);
    assert.equal(legacy.lines[0].error?.code, 107, legacy.text);
    assert.equal(typeof legacy.lines[0].error.message, 'string');

    const v5 = await apiCall(server, 'publish', { data: { a: 1 } });
    assert.equal(v5.status, 200);
    assert.equal(v5.json?.error?.code, 107, v5.text);
    assert.equal(v5.json.result, undefined);

    const noData = await apiCall(server, 'publish', { channel: 'a' });
    assert.equal(noData.json?.error?.code, 107, noData.text);
  });

  test('publish to an unknown namespace: 102', async () => {
    const server = await startServer();
    const res = await apiCall(server, 'publish', { channel: 'nons:room', data: {} });
    assert.deepEqual(res.json, { error: { code: 102, message: 'unknown channel' } });
  });

  test('legacy method given as a case-insensitive name or as its number', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawSubscriber(server, 'm');
    const res = await apiLegacy(server, [
      { method: 'PUBLISH', params: { channel: 'm', data: { n: 1 } } },
      { method: 0, params: { channel: 'm', data: { n: 2 } } },
    ]);
    assert.deepEqual(res.lines, [{ result: {} }, { result: {} }]);
    const pubs = await conn.waitMessages((m) => m.push?.pub, 2);
    assert.deepEqual(
      pubs.map((m) => m.push.pub.data.n),
      [1, 2],
    );
  });

  test('legacy command id is echoed', async () => {
    const server = await startServer();
    const res = await apiLegacy(server, [{ id: 7, method: 'publish', params: { channel: 'a', data: {} } }]);
    assert.equal(res.lines[0].id, 7);
    assert.deepEqual(res.lines[0].result, {});
  });
});

describe('batches and broadcast', () => {
  test('legacy batch: one reply line per command, in order, errors in place', async () => {
    const server = await startServer(PUBLIC);
    const conn = await rawSubscriber(server, 'x', 'y');
    const res = await apiLegacy(server, [
      { method: 'publish', params: { channel: 'x', data: { n: 1 } } },
      { method: 'publish', params: { data: { n: 'no channel' } } },
      { method: 'publish', params: { channel: 'y', data: { n: 2 } } },
      { method: 'nope', params: {} },
      { method: 'broadcast', params: { channels: ['x', 'y'], data: { n: 3 } } },
      { method: 'publish', params: { channel: 'x', data: { n: 4 } } },
    ]);
    assert.equal(res.status, 200);
    assert.equal(res.lines.length, 6, res.text);
    assert.deepEqual(res.lines[0], { result: {} });
    assert.equal(res.lines[1].error?.code, 107);
    assert.deepEqual(res.lines[2], { result: {} });
    assert.equal(res.lines[3].error?.code, 104);
    assert.equal(res.lines[4].result?.responses?.length, 2);
    assert.deepEqual(res.lines[5], { result: {} });
    const pubs = await conn.waitMessages((m) => m.push?.pub, 5);
    assert.deepEqual(
      pubs.map((m) => [m.push.channel, m.push.pub.data.n]),
      [
        ['x', 1],
        ['y', 2],
        ['x', 3],
        ['y', 3],
        ['x', 4],
      ],
    );
  });

  test('legacy batch tolerates a trailing newline and CRLF line ends', async () => {
    const server = await startServer();
    const line = JSON.stringify({ method: 'publish', params: { channel: 'a', data: {} } });
    const res = await apiLegacy(server, `${line}\r\n${line}\n`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.lines, [{ result: {} }, { result: {} }]);
  });

  test('/api/broadcast: every listed channel gets the publication; one response per channel', async () => {
    const server = await startServer(PUBLIC);
    const one = await rawSubscriber(server, 'b1', 'b3');
    const two = await rawSubscriber(server, 'b2');
    const res = await apiCall(server, 'broadcast', { channels: ['b1', 'b2', 'b3', 'nons:b4'], data: { hello: 'all' } });
    assert.equal(res.status, 200);
    const responses = res.json?.result?.responses;
    assert.equal(responses?.length, 4, res.text);
    assert.deepEqual(responses.slice(0, 3), [{ result: {} }, { result: {} }, { result: {} }]);
    assert.equal(responses[3].error?.code, 102);
    const p1 = await one.waitMessages((m) => m.push?.pub, 2);
    assert.deepEqual(
      p1.map((m) => m.push.channel),
      ['b1', 'b3'],
    );
    const p2 = await two.waitMessage((m) => m.push?.pub);
    assert.deepEqual(p2, { push: { channel: 'b2', pub: { data: { hello: 'all' } } } });
  });

  test('/api/broadcast without channels: 107', async () => {
    const server = await startServer();
    const res = await apiCall(server, 'broadcast', { data: {} });
    assert.equal(res.json?.error?.code, 107, res.text);
  });

  test('a publication to a channel nobody listens to succeeds', async () => {
    const server = await startServer();
    const res = await apiCall(server, 'publish', { channel: 'void', data: { x: 1 } });
    assert.deepEqual(res.json, { result: {} });
  });
});
