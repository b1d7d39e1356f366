// Out of file descriptors (docs/security.md, docs/operations.md "Sizing"): past the process's fd
// limit the listener sheds new connections (accept with a reserved descriptor, then close) instead
// of spinning on a socket it cannot accept, logs it at most once a second with a count (a storm of
// refused connections must not flood the log), and serves again as soon as descriptors are free.
// The limit is lowered on the running server with prlimit(1) (util-linux).
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { cleanup, httpRequest, ms, startServer, waitUntil } from './harness.mjs';

const sockets = new Set();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await cleanup();
});

// Opens a TCP connection and resolves when it is established; records whether the server closed it.
function open(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    sockets.add(s);
    s.closedByServer = false;
    s.on('end', () => { s.closedByServer = true; });
    s.on('close', () => { s.closedByServer = true; });
    s.on('error', () => { s.closedByServer = true; });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

describe('file descriptor limit', () => {
  test('connections past the fd limit are shed, logged at most once a second with a count, and the node recovers', async () => {
    const server = await startServer({ handshake_timeout: '30s' });
    execFileSync('prlimit', ['--pid', String(server.child.pid), '--nofile=64:64']);
    const conns = [];
    const t0 = Date.now();
    for (let i = 0; i < 150; i++) conns.push(await open(server.port));
    // Some were accepted and held (they have not sent a request yet), the rest shed.
    await waitUntil(() => conns.filter((s) => s.closedByServer).length >= 150 - 64, {
      timeout: ms(5000),
      what: 'the connections past the limit to be closed',
    });
    const held = conns.filter((s) => !s.closedByServer).length;
    assert.ok(held > 10 && held < 64, `held ${held}`);
    await waitUntil(() => /out of file descriptors: refused \d+ connection/.test(server.output), {
      timeout: ms(3000),
      what: 'the warning',
    });
    // At most one line a second (the old code wrote one per shed connection, ~90 here).
    const seconds = Math.ceil((Date.now() - t0) / 1000);
    const warnings = server.output.match(/out of file descriptors: refused (\d+) connection/g);
    assert.ok(warnings.length <= seconds + 1, `${warnings.length} warnings in ${seconds} s:\n${server.outputTail()}`);
    // Free the descriptors: the node serves again.
    for (const s of conns) s.destroy();
    await waitUntil(async () => (await httpRequest(`http://127.0.0.1:${server.port}/health`).catch(() => ({}))).status === 200, {
      timeout: ms(5000),
      what: '/health after the burst',
    });
  });
});
