// The shipped artifacts: the IIFE bundle (global $instant), the declarations, and the copy the
// Django app serves as static/instant/index.min.js.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const js = join(dirname(fileURLToPath(import.meta.url)), "../..");
const bundle = readFileSync(join(js, "dist/index.min.js"), "utf8");

test("the IIFE bundle defines $instant with the client, the 0.5 shim and centrifuge", () => {
  const context = vm.createContext({ console, setTimeout, clearTimeout, URL, TextEncoder, TextDecoder });
  context.window = context;
  context.self = context;
  vm.runInContext(bundle, context);
  const api = context.$instant;
  for (const name of ["Instant", "Message", "InstantError", "useInstant", "Centrifuge", "UnauthorizedError", "decodePayload"]) {
    assert.equal(typeof api[name], "function", name);
  }
  assert.equal(api.version, JSON.parse(readFileSync(join(js, "package.json"), "utf8")).version);
  const shim = api.useInstant();
  assert.equal(typeof shim.init, "function");
});

test("the bundle is self-contained (no require or import left)", () => {
  assert.doesNotMatch(bundle, /\brequire\(["']/);
  assert.doesNotMatch(bundle, /^import |\bimport\(/m);
});

test("TypeScript declarations ship for every module", () => {
  for (const file of ["index", "instant", "message", "router", "errors", "compat"]) {
    assert.ok(existsSync(join(js, `dist/${file}.d.ts`)), file);
  }
  const index = readFileSync(join(js, "dist/index.d.ts"), "utf8");
  assert.match(index, /Instant/);
  assert.match(index, /useInstant/);
});

test("the Django app's static/instant/index.min.js is this build (run `npm run build:static` in js/ after changing src/)", () => {
  const served = join(js, "../python/src/instant/static/instant/index.min.js");
  assert.ok(existsSync(served), `${served} is missing: run npm run build:static in js/`);
  assert.ok(readFileSync(served, "utf8") === bundle, `${served} is stale: run npm run build:static in js/`);
});
