// GET /metrics: the Prometheus text format, Centrifugo's metric names, and counts that follow what
// clients and the API do.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiCall, cleanup, command, connToken, httpRequest, publish, rawConnect, startServer, waitUntil } from './harness.mjs';

afterEach(cleanup);

// { 'name{labels}': value } of every sample line.
async function scrape(server) {
  const res = await httpRequest(`${server.httpUrl}/metrics`);
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const samples = {};
  for (const line of res.text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = line.match(/^([a-z_]+(?:\{[^}]*\})?) (-?[0-9.e+]+)$/);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    samples[m[1]] = Number(m[2]);
  }
  // every family has HELP and TYPE before its samples
  for (const name of new Set(Object.keys(samples).map((k) => k.replace(/\{.*/, '')))) {
    assert.ok(res.text.includes(`# TYPE ${name} `), `TYPE of ${name}`);
  }
  return samples;
}

describe('/metrics', () => {
  test('off by default: 404 with a message naming the key', async () => {
    const server = await startServer();
    const res = await httpRequest(`${server.httpUrl}/metrics`);
    assert.equal(res.status, 404);
    assert.match(res.json.error, /prometheus/);
  });

  test('counts follow clients, subscriptions, deliveries, errors and disconnects', async () => {
    const server = await startServer({ prometheus: true, allow_subscribe_for_client: true });
    const before = await scrape(server);
    assert.equal(before['centrifugo_node_num_clients'], 0);
    assert.equal(before['centrifugo_node_num_nodes'], 1);
    assert.ok(before['process_resident_memory_bytes'] > 1e6);
    assert.ok(before['process_open_fds'] > 0);

    const a = await rawConnect(server, { token: connToken('alice') });
    const b = await rawConnect(server, { token: connToken('bob') });
    await command(a, 'subscribe', { channel: 'news' });
    await command(b, 'subscribe', { channel: 'news' });
    const denied = await command(a, 'subscribe', { channel: '$private' });
    assert.equal(denied.error.code, 103);
    await publish(server, 'news', { n: 1 });
    await a.waitMessage((m) => m.push);
    await b.waitMessage((m) => m.push);

    const during = await scrape(server);
    assert.equal(during['centrifugo_node_num_clients'], 2);
    assert.equal(during['centrifugo_node_num_users'], 2);
    assert.equal(during['centrifugo_node_num_channels'], 1);
    assert.equal(during['centrifugo_node_num_subscriptions'], 2);
    assert.equal(during['centrifugo_transport_connect_count{transport="websocket"}'], 2);
    assert.equal(during['instant_node_deliveries_count'], 2);
    assert.equal(during['centrifugo_client_num_reply_errors{code="103"}'], 1);
    // one WebSocket message per command here: two connects, three subscribes
    assert.equal(during['centrifugo_transport_messages_received{transport="websocket"}'], 5);

    const res = await apiCall(server, 'disconnect', { user: 'bob' });
    assert.equal(res.status, 200, res.text);
    await b.waitClose();
    await waitUntil(async () => (await scrape(server))['centrifugo_node_num_clients'] === 1, { what: 'bob gone' });
    const after = await scrape(server);
    assert.equal(after['centrifugo_client_num_server_disconnects{code="3503"}'], 1);
    assert.equal(after['centrifugo_node_num_subscriptions'], 1);
  });
});
