// The real instant server for tests: a genconfig'd config with overrides, on a free loopback port.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The server binary: $INSTANT_BIN, else build/instant of the repository; null when neither exists. */
export function instantBin() {
  const bin = process.env.INSTANT_BIN || resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../../../build/instant");
  try {
    execFileSync(bin, ["version"], { stdio: "ignore" });
    return bin;
  } catch {
    return null;
  }
}

export async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

/** Resolves when `check()` resolves truthy; rejects with `what` after `ms`. Polls every 50 ms. */
export async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** A Promise with its resolve/reject, and a bound: rejects with `what` after `ms`. */
export function deferred(ms, what) {
  let resolve, reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  timer.unref(); // an abandoned wait does not keep the test process alive
  promise.then(() => clearTimeout(timer), () => clearTimeout(timer));
  return { promise, resolve, reject };
}

/**
 * Starts the server with `overrides` merged into a fresh genconfig (or with the existing config
 * file `configPath`, as is), on `port` or a free one. Resolves to
 * {port, url, ws, config, publish(channel, data), history(channel), stop()}.
 */
export async function startServer(overrides = {}, { configPath, port: wantedPort } = {}) {
  const bin = instantBin();
  if (!bin) throw new Error("no server binary: set INSTANT_BIN (make build gives build/instant)");
  const dir = configPath ? null : mkdtempSync(join(tmpdir(), "instant-js-"));
  const path = configPath ?? join(dir, "config.json");
  if (!configPath) execFileSync(bin, ["genconfig", "--config", path], { stdio: "ignore" });
  const config = { ...JSON.parse(readFileSync(path, "utf8")), ...overrides };
  if (!configPath) writeFileSync(path, JSON.stringify(config, null, 2));
  const port = wantedPort ?? (await freePort());
  const log = [];
  const child = spawn(bin, ["--config", path, "--port", String(port), "--address", "127.0.0.1", "--workers", "2"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => log.push(String(d)));
  child.stderr.on("data", (d) => log.push(String(d)));
  const killer = () => child.kill("SIGKILL");
  process.on("exit", killer);
  const url = `http://127.0.0.1:${port}`;
  try {
    await until(async () => (await fetch(`${url}/health`)).ok, 10000, `the server on ${url} (log: ${log.join("")})`);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  const api = async (method, params) => {
    const response = await fetch(`${url}/api/${method}`, {
      method: "POST",
      headers: { "X-API-Key": config.api_key, "Content-Type": "application/json" },
      body: JSON.stringify(params),
    });
    return response.json();
  };
  return {
    port,
    url,
    ws: `ws://127.0.0.1:${port}`,
    config,
    log,
    api,
    /** Publishes like the Django app (a JSON string payload unless `raw`). */
    async publish(channel, payload, { raw = false } = {}) {
      const reply = await api("publish", { channel, data: raw ? payload : JSON.stringify({ channel, site: "test", ...payload }) });
      if (reply.error) throw new Error(`publish to ${channel}: ${JSON.stringify(reply.error)}`);
      return reply.result;
    },
    /** Why recovery cannot be tested on this server, or "" when it can (history API answers). */
    async historyMissing(channel) {
      const reply = await api("history", { channel, limit: 0 });
      if (reply.error && (reply.error.code === 104 || reply.error.code === 108)) {
        return `the server has no history yet (/api/history answers ${reply.error.code} ${reply.error.message}): waits for server history (issue 3)`;
      }
      return "";
    },
    async stop() {
      process.off("exit", killer);
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once("exit", done));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP proxy on a free loopback port to `targetPort`: cut() closes every connection and refuses
 * new ones (a network cut the client only sees as a dead socket), restore() lets them in again.
 */
export async function startProxy(targetPort) {
  const sockets = new Set();
  let open = true;
  const server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(targetPort, "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address();
  return {
    port,
    get connections() {
      return sockets.size / 2;
    },
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      open = true;
    },
    close: () =>
      new Promise((done) => {
        open = false;
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
}
