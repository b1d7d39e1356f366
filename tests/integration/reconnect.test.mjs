// Server restarts: the official client reconnects and resubscribes (public and $ channels), and
// receives what is published after the restart. Also: SIGTERM shuts the server down cleanly.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cleanup,
  connToken,
  connected,
  ms,
  newClient,
  newSub,
  publish,
  rawConnect,
  startServer,
  subToken,
} from './harness.mjs';

afterEach(cleanup);

test('the official client reconnects and resubscribes after the server restarts', async () => {
  const server = await startServer({ allow_subscribe_for_client: true });
  let connTokens = 0;
  let subTokens = 0;
  const client = newClient(server, {
    getToken: async () => {
      connTokens++;
      return connToken('alice');
    },
  });
  const pub = newSub(client, 'news');
  const priv = newSub(client, '$alice', {
    getToken: async (ctx) => {
      subTokens++;
      return subToken('alice', ctx.channel);
    },
  });
  pub.subscribe();
  priv.subscribe();
  const first = await connected(client);
  await pub.log.wait('subscribed');
  await priv.log.wait('subscribed');
  await publish(server, 'news', { before: true });
  assert.deepEqual((await pub.log.wait('publication')).data, { before: true });

  const stopped = await server.stop();
  assert.equal(stopped.killed, false, 'instant must exit within 5 s of SIGTERM');
  const connecting = await client.log.wait('connecting', { nth: 2, timeout: ms(5000) });
  assert.notEqual(client.state, 'disconnected', `a restart must not be terminal for the client: ${JSON.stringify(connecting)}`);
  await pub.log.wait('subscribing', { nth: 2 });

  await server.start(); // same port
  const second = await client.log.wait('connected', { nth: 2, timeout: ms(10000) });
  assert.notEqual(second.client, first.client, 'a new connection gets a new client id');
  await pub.log.wait('subscribed', { nth: 2, timeout: ms(5000) });
  await priv.log.wait('subscribed', { nth: 2, timeout: ms(5000) });
  assert.ok(subTokens >= 1);

  await publish(server, 'news', { after: true });
  await publish(server, '$alice', { private: true });
  assert.deepEqual((await pub.log.wait('publication', { nth: 2 })).data, { after: true });
  assert.deepEqual((await priv.log.wait('publication')).data, { private: true });
  assert.equal(client.log.count('disconnected'), 0, `events: ${client.log.describe()}`);
  assert.ok(connTokens >= 1);
});

test('SIGTERM closes client connections with a reconnect code and exits 0', async () => {
  const server = await startServer();
  const conn = await rawConnect(server, { token: connToken('alice') });
  const stopped = await server.stop();
  assert.equal(stopped.killed, false, 'exited within 5 s');
  assert.equal(stopped.code, 0, `exit code after SIGTERM:\n${server.outputTail()}`);
  const c = await conn.waitClose();
  // 3001 shutdown (reconnect) or a plain transport close; never a terminal 35xx code
  assert.ok(c.code === 3001 || c.code === 1006 || c.code === 1001, `close code ${c.code}`);
});
