// Builds instant-client into dist/:
//   dist/index.js      ES module (centrifuge stays an import: the package depends on it)
//   dist/*.d.ts        TypeScript declarations (tsc)
//   dist/index.min.js  IIFE bundle with centrifuge inside, global `$instant` (what Django serves)
// `node build.mjs --static` also copies the IIFE bundle to the Django app's
// python/src/instant/static/instant/index.min.js (committed; tools/js_test.sh checks it is current).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
const centrifuge = JSON.parse(readFileSync(join(here, "node_modules/centrifuge/package.json"), "utf8"));
const dist = join(here, "dist");
export const staticBundle = join(here, "../python/src/instant/static/instant/index.min.js");

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

execFileSync(process.execPath, [join(here, "node_modules/typescript/bin/tsc"), "-p", join(here, "tsconfig.json")], {
  stdio: "inherit",
});

const common = {
  entryPoints: [join(here, "src/index.ts")],
  bundle: true,
  target: "es2019",
  logLevel: "warning",
  legalComments: "eof",
};

await esbuild.build({
  ...common,
  outfile: join(dist, "index.js"),
  format: "esm",
  platform: "neutral",
  external: ["centrifuge"],
  banner: { js: `/* ${pkg.name} ${pkg.version} */` },
});

await esbuild.build({
  ...common,
  outfile: join(dist, "index.min.js"),
  format: "iife",
  globalName: "$instant",
  platform: "browser",
  minify: true,
  banner: {
    js: `/*! ${pkg.name} ${pkg.version} | global $instant | includes centrifuge ${centrifuge.version} (MIT license) and events (MIT license) */`,
  },
});

if (process.argv.includes("--static")) {
  mkdirSync(dirname(staticBundle), { recursive: true });
  copyFileSync(join(dist, "index.min.js"), staticBundle);
  console.log(`copied dist/index.min.js to ${staticBundle}`);
}
