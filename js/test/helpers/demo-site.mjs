// The demo site (examples/) for the browser tests: its own database and server config in a
// temporary folder, the real instant server, a TCP proxy in front of it (so a test can cut the
// browser's socket), and Django's runserver. Loopback only, free ports, bounded waits.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

import { freePort, instantBin, startProxy, startServer, until } from "./server.mjs";

const run = promisify(execFile);
export const repo = resolve(new URL(".", import.meta.url).pathname, "../../..");
export const examples = join(repo, "examples");

export function demoPython() {
  const python = process.env.INSTANT_DEMO_PYTHON || join(repo, ".venv-django52/bin/python");
  return existsSync(python) ? python : null;
}

export function chromiumPath() {
  const path = process.env.CHROMIUM || "/usr/bin/chromium";
  return existsSync(path) ? path : null;
}

/** Why the browser tests cannot run here, or "" when they can. */
export function missingForBrowserTests() {
  if (!instantBin()) return "no server binary: set INSTANT_BIN (make build gives build/instant)";
  if (!demoPython()) return "no Django environment: run tools/python_setup.sh (.venv-django52)";
  if (!chromiumPath()) return "no chromium: run tools/js_setup.sh (apt-get install chromium)";
  return "";
}

// One Django process that publishes what it reads: a JSON line of publish() arguments in, "@@ok" or
// "@@error ..." out (other output lines are ignored). Spares the tests a Python start per publication.
const PUBLISHER = `
import json, sys
from instant.producers import publish
for line in sys.stdin:
    try:
        publish(**json.loads(line))
        print("@@ok", flush=True)
    except Exception as error:
        print("@@error", repr(error), flush=True)
`;

function startPublisher(python, env) {
  const child = spawn(python, ["manage.py", "shell", "--no-startup", "--verbosity", "0", "-c", PUBLISHER], { cwd: examples, env, stdio: ["pipe", "pipe", "pipe"] });
  const killer = () => child.kill("SIGKILL");
  process.on("exit", killer);
  const waiting = [];
  let buffer = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.on("data", (d) => {
    buffer += d;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.startsWith("@@")) waiting.shift()?.(line.slice(2));
    }
  });
  return {
    publish(args) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`publish ${JSON.stringify(args)}: no answer in 20 s (${stderr})`)), 20000);
        waiting.push((line) => {
          clearTimeout(timer);
          if (line === "ok") resolve();
          else reject(new Error(`publish ${JSON.stringify(args)}: ${line} ${stderr}`));
        });
        child.stdin.write(JSON.stringify(args) + "\n");
      });
    },
    async stop() {
      process.off("exit", killer);
      if (child.exitCode !== null) return;
      const exited = new Promise((done) => child.once("exit", done));
      child.stdin.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Django's runserver for the demo on `port`, with `env`; resolves once it answers. */
async function runserver(python, port, env, log) {
  const child = spawn(python, ["manage.py", "runserver", `127.0.0.1:${port}`, "--noreload"], {
    cwd: examples,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => log.push(String(d)));
  child.stderr.on("data", (d) => log.push(String(d)));
  const killer = () => child.kill("SIGKILL");
  process.on("exit", killer);
  const origin = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${origin}/demo/me/`)).ok, 20000, `the demo site on ${origin} (log: ${log.join("")})`);
  return {
    async stop() {
      process.off("exit", killer);
      const exited = new Promise((done) => (child.exitCode !== null ? done() : child.once("exit", done)));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The demo site twice over one database and one server: `url` with the default 24 h tokens, and
 * `shortTokensUrl` whose tokens live `shortTokenTtl` seconds (INSTANT_TOKEN_TTL), so a test sees
 * them refreshed.
 */
export async function startDemoSite({ shortTokenTtl = 4 } = {}) {
  const python = demoPython();
  const dir = mkdtempSync(join(tmpdir(), "instant-demo-"));
  const [djangoPort, shortPort, serverPort] = [await freePort(), await freePort(), await freePort()];
  const origin = `http://127.0.0.1:${djangoPort}`;
  const shortOrigin = `http://127.0.0.1:${shortPort}`;
  const proxy = await startProxy(serverPort);
  const env = {
    ...process.env,
    INSTANT_BIN: instantBin(),
    INSTANT_DEMO_DIR: dir,
    INSTANT_DEMO_WS_PORT: String(serverPort),
    INSTANT_DEMO_WS_URL: `ws://127.0.0.1:${proxy.port}`,
    INSTANT_DEMO_FAST_PASSWORDS: "1",
    PYTHONDONTWRITEBYTECODE: "1",
  };
  const manage = (...args) => run(python, ["manage.py", ...args], { cwd: examples, env, timeout: 60000 });
  await manage("demo_config", "--origin", origin, "--origin", shortOrigin);
  await manage("migrate", "--verbosity", "0");
  await manage("demo_setup");
  const server = await startServer({}, { configPath: join(dir, "config.json"), port: serverPort });
  const log = [];
  const sites = await Promise.all([
    runserver(python, djangoPort, env, log),
    runserver(python, shortPort, { ...env, INSTANT_DEMO_TOKEN_TTL: String(shortTokenTtl) }, log),
  ]);
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  const publisher = startPublisher(python, env);
  return {
    url: `${origin}/`,
    shortTokensUrl: `${shortOrigin}/`,
    origin,
    port: djangoPort,
    server,
    proxy,
    config,
    log,
    /** Publishes through the Django app (instant.producers.publish), one event per channel, in order. */
    async publish(channels, message, eventClass = "info") {
      for (const channel of channels) await publisher.publish({ channel, message, event_class: eventClass, data: { source: "e2e" } });
    },
    async stop() {
      await publisher.stop();
      await Promise.all(sites.map((site) => site.stop()));
      await proxy.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
