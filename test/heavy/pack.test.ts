import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { inflateRawSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Runs the real `npm run pack` (npm ci of the production dependencies, mcpb pack, start-up check of
 * the unpacked bundle) into a temp folder, then reads the archive. About 45-60 s here, most of it
 * npm ci from the local cache; set SWITCHBOARD_SKIP_PACK_TEST=1 to skip it. Needs a built dist/.
 */
const ROOT = resolve(import.meta.dirname, "..", "..");
const SKIP = ["1", "true", "yes"].includes((process.env.SWITCHBOARD_SKIP_PACK_TEST ?? "").toLowerCase());
if (SKIP) console.warn("[pack] SWITCHBOARD_SKIP_PACK_TEST is set: skipping the bundle test (it runs npm ci and mcpb pack, ~1 min)");

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  localOffset: number;
}

/** The central directory of a zip (the .mcpb format), read without dependencies. */
function zipEntries(buf: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip: no end-of-central-directory record");
  const count = buf.readUInt16LE(eocd + 10);
  let off = buf.readUInt32LE(eocd + 16);
  const out: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(off) !== 0x02014b50) throw new Error(`bad central directory entry ${i}`);
    const nameLen = buf.readUInt16LE(off + 28);
    out.push({
      name: buf.toString("utf8", off + 46, off + 46 + nameLen),
      method: buf.readUInt16LE(off + 10),
      compressedSize: buf.readUInt32LE(off + 20),
      localOffset: buf.readUInt32LE(off + 42),
    });
    off += 46 + nameLen + buf.readUInt16LE(off + 30) + buf.readUInt16LE(off + 32);
  }
  return out;
}

function zipRead(buf: Buffer, e: ZipEntry): Buffer {
  const start = e.localOffset + 30 + buf.readUInt16LE(e.localOffset + 26) + buf.readUInt16LE(e.localOffset + 28);
  const data = buf.subarray(start, start + e.compressedSize);
  if (e.method === 0) return Buffer.from(data);
  if (e.method === 8) return inflateRawSync(data);
  throw new Error(`${e.name}: unsupported compression method ${e.method}`);
}

describe.skipIf(SKIP)("npm run pack", () => {
  let outDir = "";
  let out = "";
  let zip: Buffer;
  let entries: ZipEntry[];
  let names: string[];
  let log = "";

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), "switchboard-pack-test-"));
    out = join(outDir, "switchboard.mcpb");
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const res = spawnSync(npm, ["run", "pack", "--", "--out", out], {
      cwd: ROOT,
      encoding: "utf8",
      shell: process.platform === "win32",
      maxBuffer: 64 * 1024 * 1024,
      timeout: 240_000,
    });
    log = `${res.stdout ?? ""}\n${res.stderr ?? ""}`;
    if (res.status !== 0) throw new Error(`npm run pack exited with ${res.status ?? res.signal}:\n${log.slice(-4000)}`);
    zip = readFileSync(out);
    entries = zipEntries(zip);
    names = entries.map((e) => e.name);
  }, 300_000);

  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it("passed its own checks and reports size and file count", () => {
    expect(log).toContain("start-up check: switchboard");
    expect(log).toMatch(/bundle: .*\d+(\.\d+)? [kM]?B {2}\d+ files/);
    expect(existsSync(out)).toBe(true);
  });

  it("holds the manifest, the built server, the config and the MCP SDK", () => {
    for (const name of ["manifest.json", "package.json", "README.md", "dist/cli.js", "dist/server.js", "dist/classifier.bin", "config/providers.yaml"]) {
      expect(names, name).toContain(name);
    }
    expect(names.some((n) => n.startsWith("config/examples/"))).toBe(true);
    expect(names.some((n) => n.startsWith("node_modules/@modelcontextprotocol/sdk/"))).toBe(true);
  });

  it("ships the repository's manifest unchanged", () => {
    const entry = entries.find((e) => e.name === "manifest.json")!;
    expect(JSON.parse(zipRead(zip, entry).toString("utf8"))).toEqual(JSON.parse(readFileSync(join(ROOT, "manifest.json"), "utf8")));
  });

  it("leaves out dev dependencies, source maps and sources", () => {
    for (const dev of ["vitest", "typescript", "eslint", "playwright-core", "@anthropic-ai/mcpb", "@modelcontextprotocol/conformance"]) {
      expect(names.filter((n) => n.startsWith(`node_modules/${dev}/`)), dev).toEqual([]);
    }
    expect(names.filter((n) => n.endsWith(".map"))).toEqual([]);
    expect(names.filter((n) => /^(src|test|bench)\//.test(n))).toEqual([]);
    expect(names).not.toContain("package-lock.json");
  });
});
