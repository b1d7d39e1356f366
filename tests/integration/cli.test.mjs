// CLI: version, genconfig, checkconfig, gentoken, gensubtoken, and serving with a bad config.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  InstantServer,
  cleanup,
  command,
  decodeJwt,
  freePort,
  now,
  rawConnect,
  runCli,
  startServer,
  tempDir,
  verifyHs256,
} from './harness.mjs';

afterEach(cleanup);

const JWT_RE = /[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;

function writeConfig(dir, config, name = 'config.json') {
  const p = path.join(dir, name);
  fs.writeFileSync(p, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return p;
}

function out(r) {
  return `${r.stdout}\n${r.stderr}`;
}

describe('version', () => {
  test('prints a version and exits 0', async () => {
    const r = await runCli(['version']);
    assert.equal(r.code, 0, out(r));
    assert.match(out(r), /\d+\.\d+\.\d+/);
  });
});

describe('genconfig', () => {
  test('writes a config with random secrets that checkconfig accepts and the server serves', async () => {
    const dir = tempDir();
    const p = path.join(dir, 'config.json');
    const r = await runCli(['genconfig', '--config', p]);
    assert.equal(r.code, 0, out(r));
    const config = JSON.parse(fs.readFileSync(p, 'utf8'));
    assert.equal(typeof config.token_hmac_secret_key, 'string');
    assert.ok(config.token_hmac_secret_key.length >= 16, 'a real secret');
    assert.equal(typeof config.api_key, 'string');
    assert.ok(config.api_key.length >= 16);
    assert.notEqual(config.api_key, config.token_hmac_secret_key);
    assert.ok(Array.isArray(config.allowed_origins));

    const p2 = path.join(dir, 'other.json');
    assert.equal((await runCli(['genconfig', '--config', p2])).code, 0);
    const config2 = JSON.parse(fs.readFileSync(p2, 'utf8'));
    assert.notEqual(config2.token_hmac_secret_key, config.token_hmac_secret_key, 'secrets are random');
    assert.notEqual(config2.api_key, config.api_key);

    const check = await runCli(['checkconfig', '--config', p]);
    assert.equal(check.code, 0, out(check));

    // the generated secret and key work with a running server
    const server = await startServer(config, { raw: true });
    const tok = await runCli(['gentoken', '--config', p, '--user', 'gen']);
    assert.equal(tok.code, 0, out(tok));
    const conn = await rawConnect(server, { token: JWT_RE.exec(tok.stdout)[0] });
    assert.ok(conn.connectReply.client);
  });

  test('refuses to overwrite an existing file (non-zero exit, file unchanged)', async () => {
    const dir = tempDir();
    const p = writeConfig(dir, '{"api_key": "keep me"}\n');
    const r = await runCli(['genconfig', '--config', p]);
    assert.notEqual(r.code, 0, 'genconfig must fail when the file exists');
    assert.equal(fs.readFileSync(p, 'utf8'), '{"api_key": "keep me"}\n');
    assert.match(out(r), /exist/i, `should say the file exists: ${out(r)}`);
  });
});

describe('checkconfig', () => {
  test('a valid config: exit 0', async () => {
    const dir = tempDir();
    const p = writeConfig(dir, {
      token_hmac_secret_key: 's',
      api_key: 'k',
      allowed_origins: ['http://localhost:8000'],
      ping_interval: '25s',
      pong_timeout: '8s',
      client_channel_limit: 10,
      allow_subscribe_for_client: true,
      namespaces: [{ name: 'chat', allow_publish_for_client: true, history_size: 10, history_ttl: '60s' }],
    });
    const r = await runCli(['checkconfig', '--config', p]);
    assert.equal(r.code, 0, out(r));
  });

  test('redis_address is parsed: a bad one fails with what to write, good ones pass', async () => {
    const dir = tempDir();
    const bad = writeConfig(dir, { engine: 'redis', redis_address: 'http://x:abc' });
    const r = await runCli(['checkconfig', '--config', bad]);
    assert.equal(r.code, 1, out(r));
    assert.match(r.stderr, /"redis_address" http:\/\/x:abc: .*write "host:port"/);
    const good = writeConfig(tempDir(), { engine: 'redis', redis_address: ['127.0.0.1:6379', 'redis://:pw@localhost:6380/2'] });
    assert.equal((await runCli(['checkconfig', '--config', good])).code, 0);
  });

  test('a missing file: non-zero exit', async () => {
    const dir = tempDir();
    const r = await runCli(['checkconfig', '--config', path.join(dir, 'nope.json')]);
    assert.notEqual(r.code, 0);
  });

  test('invalid JSON: non-zero exit with a message', async () => {
    const dir = tempDir();
    const p = writeConfig(dir, '{\n  "api_key": "k",\n  "token_hmac_secret_key": \n}\n');
    const r = await runCli(['checkconfig', '--config', p]);
    assert.notEqual(r.code, 0);
    assert.ok(out(r).trim().length > 0, 'prints why');
  });

  const badValues = [
    ['client_channel_limit', { client_channel_limit: 'many' }],
    ['ping_interval', { ping_interval: 'soon' }],
    ['allow_subscribe_for_client', { allow_subscribe_for_client: 'yes please' }],
  ];
  for (const [key, config] of badValues) {
    test(`a bad value for ${key}: non-zero exit naming the key`, async () => {
      const dir = tempDir();
      const p = writeConfig(dir, { token_hmac_secret_key: 's', api_key: 'k', ...config });
      const r = await runCli(['checkconfig', '--config', p]);
      assert.notEqual(r.code, 0, `accepted ${JSON.stringify(config)}`);
      assert.ok(out(r).includes(key), `the message should name ${key}: ${out(r)}`);
    });
  }

  test('a bad namespace option names the namespace option', async () => {
    const dir = tempDir();
    const p = writeConfig(dir, { token_hmac_secret_key: 's', namespaces: [{ name: 'chat', allow_publish_for_client: 'sure' }] });
    const r = await runCli(['checkconfig', '--config', p]);
    assert.notEqual(r.code, 0);
    assert.ok(out(r).includes('allow_publish_for_client'), out(r));
  });

  test('invalid namespace name and duplicate namespaces are refused', async () => {
    const dir = tempDir();
    const bad = writeConfig(dir, { namespaces: [{ name: 'bad name!' }] }, 'a.json');
    assert.notEqual((await runCli(['checkconfig', '--config', bad])).code, 0);
    const dup = writeConfig(dir, { namespaces: [{ name: 'chat' }, { name: 'chat' }] }, 'b.json');
    assert.notEqual((await runCli(['checkconfig', '--config', dup])).code, 0);
  });

  test('ping_interval must be larger than pong_timeout', async () => {
    const dir = tempDir();
    const p = writeConfig(dir, { ping_interval: '5s', pong_timeout: '10s' });
    const r = await runCli(['checkconfig', '--config', p]);
    assert.notEqual(r.code, 0);
    assert.match(out(r), /ping_interval|pong_timeout/);
  });

  test('history_size without history_ttl is refused', async () => {
    const dir = tempDir();
    const p = writeConfig(dir, { history_size: 10 });
    const r = await runCli(['checkconfig', '--config', p]);
    assert.notEqual(r.code, 0);
    assert.match(out(r), /history/);
  });
});

describe('serving with a bad config', () => {
  test('exits non-zero at startup naming the key', async () => {
    const s = new InstantServer({ client_channel_limit: 'many' });
    const port = await freePort();
    const r = await runCli(['--config', s.configPath, '--port', String(port), '--address', '127.0.0.1']);
    fs.rmSync(s.dir, { recursive: true, force: true });
    assert.notEqual(r.code, 0);
    assert.ok(out(r).includes('client_channel_limit'), out(r));
  });
});

describe('gentoken and gensubtoken', () => {
  test('gentoken prints an HS256 token for the user with the given ttl; the server accepts it', async () => {
    const server = await startServer();
    const r = await runCli(['gentoken', '--config', server.configPath, '--user', 'carol', '--ttl', '3600']);
    assert.equal(r.code, 0, out(r));
    const token = JWT_RE.exec(r.stdout)?.[0];
    assert.ok(token, `no token in ${r.stdout}`);
    const { header, payload } = decodeJwt(token);
    assert.equal(header.alg, 'HS256');
    assert.equal(payload.sub, 'carol');
    assert.ok(Math.abs(payload.exp - (now() + 3600)) <= 5, `exp ${payload.exp}`);
    assert.ok(verifyHs256(token, server.config.token_hmac_secret_key), 'signed with token_hmac_secret_key');
    const conn = await rawConnect(server, { token });
    assert.equal(conn.connectReply.expires, true);
  });

  test('gentoken default ttl is one week', async () => {
    const server = await startServer();
    const r = await runCli(['gentoken', '--config', server.configPath, '--user', 'dave']);
    assert.equal(r.code, 0, out(r));
    const { payload } = decodeJwt(JWT_RE.exec(r.stdout)[0]);
    assert.ok(Math.abs(payload.exp - (now() + 604800)) <= 5, `exp ${payload.exp}`);
  });

  test('gensubtoken prints a subscription token the server accepts for that channel only', async () => {
    const server = await startServer();
    const r = await runCli(['gensubtoken', '--config', server.configPath, '--user', 'carol', '--channel', '$room']);
    assert.equal(r.code, 0, out(r));
    const token = JWT_RE.exec(r.stdout)?.[0];
    const { payload } = decodeJwt(token);
    assert.equal(payload.sub, 'carol');
    assert.equal(payload.channel, '$room');
    assert.ok(verifyHs256(token, server.config.token_hmac_secret_key));

    const conn = await rawConnect(server, { token: (await runCli(['gentoken', '--config', server.configPath, '--user', 'carol'])).stdout.match(JWT_RE)[0] });
    const reply = await command(conn, 'subscribe', { channel: '$room', token });
    assert.ok(reply.subscribe, JSON.stringify(reply));
    conn.send({ id: 10, subscribe: { channel: '$other', token } });
    assert.equal((await conn.waitClose()).code, 3500, 'a token for $room does not open $other');
  });

  test('gentoken without a secret in the config fails', async () => {
    const dir = tempDir();
    const p = writeConfig(dir, { api_key: 'k' });
    const r = await runCli(['gentoken', '--config', p, '--user', 'x']);
    assert.notEqual(r.code, 0);
  });
});
