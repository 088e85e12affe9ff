#!/usr/bin/env node
// Copies the files tsc does not emit into dist/: the dashboard's static page, styles and script
// (src/http/dashboard/static -> dist/http/dashboard/static). Run by `npm run build` after tsc.
import { cpSync, existsSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ASSETS = [["src/http/dashboard/static", "dist/http/dashboard/static"]];

for (const [from, to] of ASSETS) {
  const src = join(ROOT, from);
  const dest = join(ROOT, to);
  if (!existsSync(src)) {
    console.error(`[copy-assets] ${from} does not exist`);
    process.exit(1);
  }
  rmSync(dest, { recursive: true, force: true }); // no stale files from an earlier build
  cpSync(src, dest, { recursive: true });
  console.log(`[copy-assets] ${relative(ROOT, src)} -> ${relative(ROOT, dest)}`);
}
