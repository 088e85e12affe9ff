import { mkdirSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { basename, extname, isAbsolute, join, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { lookup } from "node:dns/promises";
import { BlockList, isIP, isIPv6 } from "node:net";
import { randomBytes } from "node:crypto";
import type { SwitchboardConfig } from "../config/schema.js";
import { invalidRequest, SwitchboardError } from "../errors.js";

export type InputRef = { kind: "url"; url: string } | { kind: "file"; path: string; bytes: number; name: string; mimeType: string };

const MIME: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".gif": "image/gif",
  ".mp3": "audio/mpeg",
  ".wav": "audio/wav",
  ".m4a": "audio/mp4",
  ".ogg": "audio/ogg",
  ".flac": "audio/flac",
  ".webm": "audio/webm",
  ".mp4": "video/mp4",
  ".pcm": "audio/L16",
  ".ulaw": "audio/basic",
};
const EXT = Object.fromEntries(Object.entries(MIME).map(([e, m]) => [m, e]));

export const mimeOf = (name: string) => MIME[extname(name).toLowerCase()] ?? "application/octet-stream";
export const extOf = (mime: string) => EXT[mime.split(";")[0]!.trim()] ?? ".bin";

function expand(dir: string): string {
  const d = dir.replace(/^\$TMPDIR(?=\/|$)/, tmpdir()).replace(/^~(?=\/|$)/, homedir());
  return resolve(d);
}

/**
 * An input given as an http(s) URL, or as a local path inside one of the allowed folders.
 * Symlinks are resolved before the check, so a link cannot lead outside them.
 */
export function resolveInput(value: string, field: string, cfg: SwitchboardConfig, remote = false): InputRef {
  const v = value.trim();
  if (/^[a-z][a-z0-9+.-]*:/i.test(v) && !/^[a-z]:[\\/]/i.test(v)) {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      throw invalidRequest(`${field} is not a valid URL`, "pass an http(s) URL or a path to a local file.", { field });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw invalidRequest(`${field} uses the ${url.protocol} scheme, which is not accepted`, "pass an http(s) URL or a path to a local file inside an allowed folder.", { field, validValues: ["http", "https", "local path"] });
    }
    return { kind: "url", url: url.href };
  }
  if (remote && !cfg.files.remoteCallers.localFiles) {
    // A network caller naming a path would read this machine's files, not its own.
    throw invalidRequest(`${field}: local paths are not accepted from callers over the network`, "pass an http(s) URL the provider can fetch; an operator who shares files with callers can set files.remoteCallers.localFiles: true.", { field, validValues: ["http", "https"] });
  }
  const dirs = cfg.files.allowedInputDirs.map((d) => expand(d));
  const candidate = isAbsolute(v) ? v : resolve(v);
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    throw invalidRequest(`${field}: no file at ${candidate}`, "check the path; relative paths are resolved from the server's working folder.", { field });
  }
  const realDirs = dirs.map((d) => {
    try {
      return realpathSync(d);
    } catch {
      return d;
    }
  });
  if (!realDirs.some((d) => real === d || real.startsWith(d.endsWith(sep) ? d : d + sep))) {
    throw invalidRequest(`${field}: ${candidate} is outside the folders Switchboard may read`, `move the file into one of: ${realDirs.join(", ")} (files.allowedInputDirs in the config).`, { field, validValues: realDirs });
  }
  const st = statSync(real);
  if (!st.isFile()) throw invalidRequest(`${field}: ${candidate} is not a file`, "pass a path to a file.", { field });
  if (st.size > cfg.files.maxFileBytes) {
    throw invalidRequest(`${field}: the file is ${st.size} bytes, over the ${cfg.files.maxFileBytes}-byte limit`, "use a smaller file or raise files.maxFileBytes.", { field });
  }
  return { kind: "file", path: real, bytes: st.size, name: basename(real), mimeType: mimeOf(real) };
}

export async function readInput(ref: Extract<InputRef, { kind: "file" }>): Promise<Buffer> {
  return readFile(ref.path);
}

export function outputDir(cfg: SwitchboardConfig, env: NodeJS.ProcessEnv = process.env): string {
  const dir = expand(env.SWITCHBOARD_OUTPUT_DIR?.trim() || cfg.files.outputDir);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface SavedFile {
  path: string;
  uri: string;
  mimeType: string;
  bytes: number;
  /** Where the provider served it, when it came from a URL. */
  sourceUrl?: string;
}

/** Writes a result under the output folder with a name that cannot collide or escape it. */
export function saveOutput(cfg: SwitchboardConfig, data: Buffer, opts: { job: string; mimeType: string; sourceUrl?: string; env?: NodeJS.ProcessEnv }): SavedFile {
  const dir = outputDir(cfg, opts.env);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const name = `${opts.job.replace(/[^a-z0-9_-]/gi, "_")}-${stamp}-${randomBytes(3).toString("hex")}${extOf(opts.mimeType)}`;
  const path = join(dir, name);
  writeFileSync(path, data);
  return { path, uri: pathToFileURL(path).href, mimeType: opts.mimeType, bytes: data.length, ...(opts.sourceUrl ? { sourceUrl: opts.sourceUrl } : {}) };
}

/** Downloads a file (a provider's output or an input URL) with a size cap enforced while reading. */
/**
 * Downloads a file with a size cap. With `checkHop` (a network caller's URL), redirects are
 * followed by hand and every hop is checked, so a public URL cannot redirect into the
 * operator's network.
 */
export async function download(url: string, cfg: SwitchboardConfig, signal: AbortSignal, checkHop?: (url: string) => Promise<void>): Promise<{ data: Buffer; mimeType: string }> {
  const tooBig = () => new SwitchboardError({ code: "invalid_request", message: `the file at ${new URL(url).host} is over the ${cfg.files.maxFileBytes}-byte limit`, hint: "raise files.maxFileBytes to accept larger files.", retryable: false });
  let res = await fetch(url, { signal, redirect: checkHop ? "manual" : "follow" });
  for (let hops = 0; checkHop && res.status >= 300 && res.status < 400 && res.headers.get("location"); hops++) {
    if (hops >= 5) throw invalidRequest(`${new URL(url).host} redirected more than 5 times`, "pass the file's final URL.");
    const next = new URL(res.headers.get("location")!, url).href;
    await res.body?.cancel().catch(() => undefined);
    await checkHop(next);
    res = await fetch(next, { signal, redirect: "manual" });
  }
  if (!res.ok) throw new SwitchboardError({ code: "provider_unavailable", message: `downloading ${new URL(url).host}${new URL(url).pathname} failed with ${res.status}`, hint: "check the URL is reachable; a provider's result may have expired.", retryable: true });
  if (Number(res.headers.get("content-length") ?? 0) > cfg.files.maxFileBytes) throw tooBig();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += (chunk as Uint8Array).length;
    if (size > cfg.files.maxFileBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw tooBig();
    }
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  const type = res.headers.get("content-type")?.split(";")[0]?.trim();
  return { data: Buffer.concat(chunks), mimeType: type && type !== "application/octet-stream" ? type : mimeOf(new URL(url).pathname) };
}

/** IPv4 ranges a network caller may not reach through this server (private, loopback, link-local, special). */
const V4_BLOCKED = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, and 255.255.255.255 broadcast
] as const) {
  V4_BLOCKED.addSubnet(net, bits, "ipv4");
}

/** IPv6 ranges refused outright (the ranges that embed an IPv4 address are checked by it instead). */
const V6_BLOCKED = new BlockList();
for (const [net, bits] of [
  ["64:ff9b:1::", 48], // local-use NAT64
  ["100::", 64], // discard
  ["2001::", 32], // Teredo
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated, still routed by some stacks)
  ["ff00::", 8], // multicast
] as const) {
  V6_BLOCKED.addSubnet(net, bits, "ipv6");
}

/** An IPv4 address in any form inet_aton takes (dotted, decimal, octal, hex, 1 to 4 parts), or undefined. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length < 1 || parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0x[0-9a-f]*$/i.test(p)) n = p.length > 2 ? parseInt(p.slice(2), 16) : 0;
    else if (/^0[0-7]+$/.test(p)) n = parseInt(p, 8);
    else if (/^(0|[1-9][0-9]*)$/.test(p)) n = Number(p);
    else return undefined;
    if (!Number.isFinite(n)) return undefined;
    nums.push(n);
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255) || last >= 2 ** (8 * (4 - nums.length))) return undefined;
  return nums.reduce((acc, n, i) => acc + n * 2 ** (8 * (3 - i)), 0) + last;
}

const v4String = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

/** Eight 16-bit groups of an IPv6 address (with an optional dotted IPv4 tail), or undefined. */
function parseIPv6(text: string): number[] | undefined {
  let t = text.replace(/%.*$/, ""); // a zone id ("fe80::1%eth0") does not change the address
  if (!isIPv6(t)) return undefined;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (tail) {
    const v4 = parseIPv4(tail[1]!)!;
    t = t.slice(0, -tail[1]!.length) + `${(Math.floor(v4 / 65536)).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const [head, rest] = t.includes("::") ? t.split("::") : [t, undefined];
  const a = head ? head.split(":") : [];
  const b = rest === undefined ? [] : rest ? rest.split(":") : [];
  const fill = rest === undefined ? 0 : 8 - a.length - b.length;
  const groups = [...a, ...Array<string>(fill).fill("0"), ...b].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * Whether an address (IPv4 in any inet_aton form, or IPv6) reaches a private, loopback,
 * link-local or special-purpose range, including through the IPv6 forms that embed an IPv4
 * address: IPv4-mapped and -compatible (::/96, ::ffff:0:0/96), NAT64 (64:ff9b::/96) and 6to4
 * (2002::/16). Anything that is not an IP address is refused too.
 */
export function isPrivateAddress(address: string): boolean {
  const host = address.trim().replace(/^\[|\]$/g, "");
  if (isIP(host) !== 6) {
    const v4 = parseIPv4(host);
    return v4 === undefined || V4_BLOCKED.check(v4String(v4), "ipv4");
  }
  const g = parseIPv6(host);
  if (!g) return true;
  const embedded = (hi: number, lo: number) => V4_BLOCKED.check(v4String(hi * 65536 + lo), "ipv4");
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  // ::/96 (unspecified, loopback, IPv4-compatible) and ::ffff:0:0/96 (IPv4-mapped), ::ffff:0:0:0/96 (SIIT)
  if (zeros(0, 5) && (g[5] === 0 || g[5] === 0xffff)) return embedded(g[6]!, g[7]!);
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return embedded(g[6]!, g[7]!);
  // NAT64 well-known prefix 64:ff9b::/96
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return embedded(g[6]!, g[7]!);
  // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD
  if (g[0] === 0x2002) return embedded(g[1]!, g[2]!);
  return V6_BLOCKED.check(g.map((x) => x.toString(16)).join(":"), "ipv6");
}

/**
 * Refuses a URL this server would fetch for a network caller when it points at loopback, private
 * or link-local addresses (server-side request forgery into the operator's network). Names are
 * resolved and every address checked; a name that re-resolves between this check and the fetch
 * is not covered.
 */
export async function assertPublicUrl(url: string, field: string, cfg: SwitchboardConfig): Promise<void> {
  if (cfg.files.remoteCallers.privateUrls) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    throw invalidRequest(`${field}: cannot resolve ${host}`, "check the URL's host name.", { field });
  }
  if (addresses.some(isPrivateAddress)) {
    throw invalidRequest(`${field}: ${host} is a loopback, private or link-local address, which callers over the network may not fetch through this server`, "pass a public URL; an operator can allow private URLs with files.remoteCallers.privateUrls: true.", { field });
  }
}
