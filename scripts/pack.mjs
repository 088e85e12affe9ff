#!/usr/bin/env node
// Packs Switchboard as an MCP Bundle (.mcpb) for one-click install in Claude Desktop.
//
//   npm run build && npm run pack      -> bundle/switchboard-<version>.mcpb
//
// Builds nothing itself: it stages the built dist/ (minus source maps), config/, the manifest and
// package files in a temp folder, installs production dependencies there with `npm ci`, runs
// `mcpb pack` (which applies .mcpbignore), then unpacks the archive elsewhere and checks that its
// server starts on its own node_modules and serves exactly the tools the manifest lists.
//
// Options: --out FILE (instead of bundle/<name>-<version>.mcpb), --keep-stage (leave the staging
// folder for inspection), --skip-smoke (no start-up check).
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const args = new Set(argv);
const KEEP_STAGE = args.has("--keep-stage");
const SKIP_SMOKE = args.has("--skip-smoke");
const OUT_ARG = argv.includes("--out") ? argv[argv.indexOf("--out") + 1] : undefined;
const IS_WINDOWS = process.platform === "win32";

/** Dev-only packages that must never reach the bundle (a sign `--omit=dev` did not apply). */
const FORBIDDEN_PACKAGES = ["vitest", "typescript", "eslint", "playwright-core", "@anthropic-ai/mcpb", "typescript-eslint"];
/** Files in dist/ that are build or test by-products, not runtime code. */
const DIST_EXCLUDE = [/\.map$/, /\.d\.ts$/, /\.tsbuildinfo$/, /\.(test|spec)\.[cm]?js$/];
const DIST_EXCLUDE_DIRS = new Set(["test", "tests", "__tests__", "fakes", "bench"]);

class PackError extends Error {}

function log(msg) {
  console.log(`[pack] ${msg}`);
}

function readJson(file) {
  return JSON.parse(readFileSync(file, "utf8"));
}

function walk(dir, onFile) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) walk(p, onFile);
    else if (entry.isFile()) onFile(p);
  }
}

function newestMtime(dir, filter = () => true) {
  let newest = { mtime: 0, file: "" };
  if (!existsSync(dir)) return newest;
  walk(dir, (f) => {
    if (!filter(f)) return;
    const m = statSync(f).mtimeMs;
    if (m > newest.mtime) newest = { mtime: m, file: f };
  });
  return newest;
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** Entry names from a zip's central directory (the .mcpb format is a plain zip). */
export function listZipEntries(buf) {
  const EOCD = 0x06054b50;
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new PackError("not a zip file: no end-of-central-directory record");
  const count = buf.readUInt16LE(eocd + 10);
  let off = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || off === 0xffffffff) throw new PackError("zip64 archives are not supported by this reader");
  const names = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(off) !== 0x02014b50) throw new PackError(`bad central directory entry ${i}`);
    const nameLen = buf.readUInt16LE(off + 28);
    const extraLen = buf.readUInt16LE(off + 30);
    const commentLen = buf.readUInt16LE(off + 32);
    names.push(buf.toString("utf8", off + 46, off + 46 + nameLen));
    off += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

function run(cmd, cmdArgs, opts) {
  // npm is npm.cmd on Windows, which Node only spawns through a shell.
  const res = spawnSync(cmd, cmdArgs, { stdio: "inherit", shell: IS_WINDOWS, ...opts });
  if (res.error) throw new PackError(`${cmd} ${cmdArgs.join(" ")} could not start: ${res.error.message}`);
  if (res.status !== 0) throw new PackError(`${cmd} ${cmdArgs.join(" ")} failed with exit code ${res.status}`);
}

function checkInputs() {
  const pkg = readJson(join(ROOT, "package.json"));
  const manifest = readJson(join(ROOT, "manifest.json"));
  if (manifest.version !== pkg.version) {
    throw new PackError(`manifest.json version ${manifest.version} differs from package.json version ${pkg.version}; make them equal`);
  }
  if (!existsSync(join(ROOT, "dist", "cli.js"))) {
    throw new PackError("dist/cli.js not found: run `npm run build` first, then `npm run pack`");
  }
  if (!existsSync(join(ROOT, "package-lock.json"))) throw new PackError("package-lock.json not found: `npm ci` needs it");

  // Only a warning: mtimes can lie (checkouts, copies). The start-up check is the real gate.
  const built = statSync(join(ROOT, "dist", "cli.js")).mtimeMs;
  const src = newestMtime(join(ROOT, "src"), (f) => f.endsWith(".ts"));
  if (src.mtime > built) {
    console.warn(`[pack] warning: ${relative(ROOT, src.file)} is newer than dist/cli.js; dist/ may be stale (run \`npm run build\`)`);
  }
  return { pkg, manifest };
}

/** The build's classifier snapshot is only used when it was trained on the examples in config/. */
async function checkClassifierSnapshot() {
  const snapshot = join(ROOT, "dist", "classifier.bin");
  if (!existsSync(snapshot)) {
    console.warn("[pack] warning: dist/classifier.bin is missing; the server would train its classifier at every start (run `npm run build`)");
    return;
  }
  try {
    const { loadConfig } = await import(pathToFileURL(join(ROOT, "dist", "config", "load.js")).href);
    const { examplesHash, decodeSnapshot } = await import(pathToFileURL(join(ROOT, "dist", "routing", "classifier-cache.js")).href);
    const want = examplesHash(loadConfig({ env: {} }).config);
    if (decodeSnapshot(readFileSync(snapshot))?.header.examplesHash !== want) {
      console.warn("[pack] warning: dist/classifier.bin was trained on other examples than config/ holds; the server would retrain at every start (run `npm run build`)");
    }
  } catch (err) {
    console.warn(`[pack] warning: could not check dist/classifier.bin against config/: ${err?.message ?? err}`);
  }
}

function stage(dir) {
  for (const f of ["manifest.json", "package.json", "package-lock.json", "README.md"]) {
    cpSync(join(ROOT, f), join(dir, f));
  }
  if (existsSync(join(ROOT, ".mcpbignore"))) cpSync(join(ROOT, ".mcpbignore"), join(dir, ".mcpbignore"));
  for (const f of readdirSync(ROOT)) {
    if (/^(LICEN[CS]E|COPYING)(\.(md|txt))?$/i.test(f)) cpSync(join(ROOT, f), join(dir, f));
  }
  const distRoot = join(ROOT, "dist");
  cpSync(distRoot, join(dir, "dist"), {
    recursive: true,
    filter: (src) => {
      const rel = relative(distRoot, src);
      if (rel === "") return true;
      if (rel.split(sep).some((part) => DIST_EXCLUDE_DIRS.has(part))) return false;
      return !DIST_EXCLUDE.some((re) => re.test(basename(src)));
    },
  });
  cpSync(join(ROOT, "config"), join(dir, "config"), { recursive: true });
}

/** Production dependencies skipped by --ignore-scripts would be broken: refuse them. */
function checkProductionDeps(dir) {
  const nm = join(dir, "node_modules");
  for (const name of FORBIDDEN_PACKAGES) {
    if (existsSync(join(nm, name))) throw new PackError(`dev dependency ${name} ended up in the staged node_modules`);
  }
  const withScripts = [];
  const native = [];
  let packages = 0;
  walk(nm, (f) => {
    const name = basename(f);
    if (name === "binding.gyp" || name.endsWith(".node")) native.push(relative(dir, f));
    if (name !== "package.json") return;
    let pkg;
    try {
      pkg = readJson(f);
    } catch {
      return;
    }
    if (!pkg.name || !pkg.version) return; // nested "type" markers, not packages
    packages++;
    const scripts = Object.keys(pkg.scripts ?? {}).filter((s) => ["preinstall", "install", "postinstall"].includes(s));
    if (scripts.length) withScripts.push(`${pkg.name}@${pkg.version} (${scripts.join(", ")})`);
  });
  if (withScripts.length || native.length) {
    throw new PackError(
      "production dependencies need install scripts or native builds, which `--ignore-scripts` skipped and a cross-platform bundle cannot carry:\n  " +
        [...withScripts, ...native].join("\n  "),
    );
  }
  log(`production dependencies: ${packages} packages, no install scripts, no native addons`);
}

/** The env a host builds from mcp_config.env when the user leaves every field at its default. */
function defaultHostEnv(manifest) {
  const env = {};
  for (const [name, value] of Object.entries(manifest.server.mcp_config.env ?? {})) {
    env[name] = value.replace(/\$\{user_config\.([^}]+)\}/g, (_, key) => String(manifest.user_config?.[key]?.default ?? ""));
  }
  return env;
}

/**
 * Starts the unpacked bundle's server the way Claude Desktop would (node dist/cli.js serve, the
 * default user config, so no keys), lists its tools over stdio and routes one prompt. Node resolves
 * packages from the bundle's own node_modules only, so a missing or pruned dependency fails here.
 */
async function smokeTest(dir, manifest) {
  const scratch = mkdtempSync(join(tmpdir(), "switchboard-smoke-"));
  const env = {
    PATH: process.env.PATH ?? "",
    ...(IS_WINDOWS ? { SystemRoot: process.env.SystemRoot ?? "", USERPROFILE: process.env.USERPROFILE ?? "" } : {}),
    HOME: process.env.HOME ?? scratch,
    SWITCHBOARD_DATA_DIR: join(scratch, "db"),
    SWITCHBOARD_OUTPUT_DIR: join(scratch, "out"),
    SWITCHBOARD_LOG_LEVEL: "warn",
    ...defaultHostEnv(manifest),
  };
  // The manifest's own command line, as Claude Desktop runs it (node flags included).
  const args = manifest.server.mcp_config.args.map((a) => a.replace("${__dirname}", dir));
  const child = spawn(process.execPath, [...args, "--no-watch"], { cwd: scratch, env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const pending = new Map();
  let buffered = "";
  let noise = ""; // stdout carries the protocol: anything else there breaks MCP clients
  child.stdout.on("data", (d) => {
    buffered += d;
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (!line) continue;
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        noise = line;
        child.kill();
        return;
      }
      if (msg.id !== undefined && pending.has(msg.id)) {
        pending.get(msg.id)(msg);
        pending.delete(msg.id);
      }
    }
  });
  const exited = new Promise((r) => child.on("exit", (code) => r(code)));
  let nextId = 1;
  const request = (method, params) =>
    new Promise((resolveReq, rejectReq) => {
      const id = nextId++;
      const timer = setTimeout(() => rejectReq(new PackError(`no answer to ${method} within 30 s; server stderr:\n${stderr}`)), 30000);
      pending.set(id, (msg) => {
        clearTimeout(timer);
        if (msg.error) rejectReq(new PackError(`${method} failed: ${JSON.stringify(msg.error)}`));
        else resolveReq(msg.result);
      });
      child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
    });
  try {
    const early = exited.then((code) => {
      if (noise) throw new PackError(`the bundled server wrote a non-JSON-RPC line to stdout: ${noise.slice(0, 300)}`);
      throw new PackError(`the bundled server exited (code ${code}) during the start-up check; stderr:\n${stderr}`);
    });
    const session = (async () => {
      const init = await request("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "switchboard-pack", version: "1" } });
      child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n");
      const { tools } = await request("tools/list", {});
      const served = tools.map((t) => t.name).sort();
      const listed = (manifest.tools ?? []).map((t) => t.name).sort();
      if (JSON.stringify(served) !== JSON.stringify(listed)) {
        throw new PackError(`manifest.json lists tools [${listed.join(", ")}] but the server serves [${served.join(", ")}]`);
      }
      const routed = await request("tools/call", { name: "route_task", arguments: { prompt: "fix this stack trace" } });
      if (routed.isError || !routed.structuredContent?.model) throw new PackError(`route_task failed in the bundled server: ${JSON.stringify(routed)}`);
      return { server: init.serverInfo, tools: served.length, model: routed.structuredContent.model };
    })();
    const result = await Promise.race([session, early]);
    early.catch(() => undefined);
    log(`start-up check: ${result.server.name} ${result.server.version} serves ${result.tools} tools; route_task -> ${result.model}`);
  } finally {
    child.stdin.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
    await exited;
    clearTimeout(timer);
    rmSync(scratch, { recursive: true, force: true });
  }
}

function mcpbCli() {
  // Its exports map hides package.json: resolve the entry, then walk up to the package root.
  const require = createRequire(join(ROOT, "package.json"));
  let dir;
  try {
    dir = dirname(require.resolve("@anthropic-ai/mcpb"));
  } catch {
    throw new PackError("@anthropic-ai/mcpb is not installed: run `npm install` (it is a devDependency)");
  }
  while (!existsSync(join(dir, "package.json")) || readJson(join(dir, "package.json")).name !== "@anthropic-ai/mcpb") {
    const up = dirname(dir);
    if (up === dir) throw new PackError("cannot find the @anthropic-ai/mcpb package root");
    dir = up;
  }
  const { bin } = readJson(join(dir, "package.json"));
  return join(dir, typeof bin === "string" ? bin : bin.mcpb);
}

async function main() {
  const unknown = argv.filter((a, i) => !["--out", "--keep-stage", "--skip-smoke"].includes(a) && argv[i - 1] !== "--out");
  if (unknown.length) throw new PackError(`unknown argument ${unknown[0]}; options: --out FILE, --keep-stage, --skip-smoke`);
  const { pkg, manifest } = checkInputs();
  await checkClassifierSnapshot();
  const stageDir = mkdtempSync(join(tmpdir(), "switchboard-mcpb-"));
  const unpackDir = mkdtempSync(join(tmpdir(), "switchboard-mcpb-unpacked-"));
  if (argv.includes("--out") && !OUT_ARG) throw new PackError("--out needs a file path");
  const out = OUT_ARG ? resolve(OUT_ARG) : join(ROOT, "bundle", `${manifest.name}-${pkg.version}.mcpb`);
  const outDir = dirname(out);
  const mcpb = mcpbCli();
  try {
    log(`staging in ${stageDir}`);
    stage(stageDir);
    log("installing production dependencies (npm ci --omit=dev --ignore-scripts)");
    run("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: stageDir });
    checkProductionDeps(stageDir);

    mkdirSync(outDir, { recursive: true });
    rmSync(out, { force: true });
    // cwd = the stage: mcpb prints archive paths relative to its working directory.
    run(process.execPath, [mcpb, "pack", stageDir, out], { cwd: stageDir, shell: false });

    const zip = readFileSync(out);
    const entries = listZipEntries(zip);
    for (const must of ["manifest.json", "dist/cli.js", "dist/classifier.bin", "config/providers.yaml", "node_modules/@modelcontextprotocol/sdk/package.json"]) {
      if (!entries.includes(must)) throw new PackError(`the bundle lacks ${must}`);
    }
    const devOnly = entries.filter((e) => FORBIDDEN_PACKAGES.some((p) => e.startsWith(`node_modules/${p}/`)));
    if (devOnly.length) throw new PackError(`the bundle holds dev-only files, e.g. ${devOnly[0]}`);

    if (SKIP_SMOKE) {
      log("start-up check skipped (--skip-smoke)");
    } else {
      // Check what users get: the archive itself, unpacked where no other node_modules is in reach.
      run(process.execPath, [mcpb, "unpack", out, unpackDir], { cwd: unpackDir, shell: false, stdio: ["ignore", "ignore", "inherit"] });
      await smokeTest(unpackDir, manifest);
    }
    log(`bundle: ${relative(ROOT, out)}  ${formatBytes(zip.length)}  ${entries.length} files`);
  } catch (err) {
    rmSync(out, { force: true }); // never leave a bundle that failed its checks
    throw err;
  } finally {
    if (KEEP_STAGE) log(`stage kept at ${stageDir}`);
    else rmSync(stageDir, { recursive: true, force: true });
    rmSync(unpackDir, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main().catch((err) => {
    console.error(`[pack] ${err instanceof PackError ? err.message : (err?.stack ?? String(err))}`);
    process.exit(1);
  });
}
