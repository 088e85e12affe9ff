import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../config/load.js";

/** Exactly tokenized prefix; past it the count is extrapolated from the prefix's ratio. */
const EXACT_CHARS = 2000;

/**
 * The o200k vocabulary as a flat hash table, written by the build (scripts/pretrain.mjs) from
 * gpt-tokenizer's own ranks. Reading it takes milliseconds and a few MB, where importing
 * gpt-tokenizer takes about half a second and some 60 MB: servers start and route without it.
 */
export const TOKEN_TABLE = join(PACKAGE_ROOT, "dist", "o200k.bin");

const MAGIC = 0x31544253; // "SBT1"

interface Header {
  /** gpt-tokenizer's version the table came from; another installed version means a rebuild. */
  source: string;
  /** The pre-tokenization pattern (flags gu). */
  pattern: string;
  entries: number;
  tableSize: number;
  bytes: number;
}

/** Counts tokens of a text; the same counts as gpt-tokenizer's o200k `countTokens` for plain text. */
export interface TokenCounter {
  count(text: string): number;
  readonly source: "table" | "gpt-tokenizer";
}

/** FNV-1a over bytes[start, end). */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Writes the table file's bytes from a rank list (index = rank; a string is its UTF-8 bytes, an
 * array its raw bytes). `findable(bytes, rank)` drops entries the reference tokenizer could never
 * look up, so both count alike.
 */
export function buildTokenTable(
  ranks: ReadonlyArray<string | number[]>,
  meta: { source: string; pattern: string },
  findable: (bytes: Uint8Array, rank: number) => boolean = () => true,
): Buffer {
  const enc = new TextEncoder();
  const pieces = ranks.map((v) => (typeof v === "string" ? enc.encode(v) : Uint8Array.from(v)));
  const n = pieces.length;
  let tableSize = 1;
  while (tableSize < n * 2.5) tableSize <<= 1;
  const offsets = new Uint32Array(n + 1);
  let total = 0;
  for (let r = 0; r < n; r++) {
    offsets[r] = total;
    total += pieces[r]!.length;
  }
  offsets[n] = total;
  const bytes = new Uint8Array(total);
  pieces.forEach((p, r) => bytes.set(p, offsets[r]));
  const table = new Int32Array(tableSize).fill(-1);
  const mask = tableSize - 1;
  for (let r = 0; r < n; r++) {
    const p = pieces[r]!;
    if (!findable(p, r)) continue;
    let slot = hashBytes(p, 0, p.length) & mask;
    while (table[slot] !== -1) slot = (slot + 1) & mask;
    table[slot] = r;
  }
  const header: Header = { ...meta, entries: n, tableSize, bytes: total };
  let head = Buffer.from(JSON.stringify(header), "utf8");
  head = Buffer.concat([head, Buffer.alloc((4 - ((8 + head.length) % 4)) % 4, 0x20)]);
  const pre = Buffer.alloc(8);
  pre.writeUInt32LE(MAGIC, 0);
  pre.writeUInt32LE(head.length, 4);
  return Buffer.concat([pre, head, Buffer.from(offsets.buffer), Buffer.from(table.buffer), Buffer.from(bytes.buffer)]);
}

/** A counter over a table file's bytes; undefined when they are not a table of `source`. */
export function tableCounter(file: Uint8Array, source?: string): TokenCounter | undefined {
  // Typed views need 4-byte alignment; a pooled Buffer may not have it.
  const buf = file.byteOffset % 4 === 0 ? file : new Uint8Array(file);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 8 || dv.getUint32(0, true) !== MAGIC) return undefined;
  const headLen = dv.getUint32(4, true);
  let h: Header;
  try {
    h = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headLen))) as Header;
  } catch {
    return undefined;
  }
  if (source !== undefined && h.source !== source) return undefined;
  let at = buf.byteOffset + 8 + headLen;
  if (8 + headLen + (h.entries + 1) * 4 + h.tableSize * 4 + h.bytes !== buf.byteLength) return undefined;
  const offsets = new Uint32Array(buf.buffer, at, h.entries + 1);
  at += (h.entries + 1) * 4;
  const table = new Int32Array(buf.buffer, at, h.tableSize);
  at += h.tableSize * 4;
  const vocab = new Uint8Array(buf.buffer, at, h.bytes);
  const mask = h.tableSize - 1;
  const split = new RegExp(h.pattern, "gu");
  const enc = new TextEncoder();
  let scratch = new Uint8Array(4096);
  let starts = new Int32Array(1024);
  let pairRanks = new Float64Array(1024);

  const rank = (p: Uint8Array, start: number, end: number): number => {
    const len = end - start;
    let slot = hashBytes(p, start, end) & mask;
    for (;;) {
      const r = table[slot]!;
      if (r === -1) return Infinity;
      const o = offsets[r]!;
      if (offsets[r + 1]! - o === len) {
        let i = 0;
        while (i < len && vocab[o + i] === p[start + i]) i++;
        if (i === len) return r;
      }
      slot = (slot + 1) & mask;
    }
  };

  /** Byte-pair merging, lowest rank first, as tiktoken does; returns the number of parts. */
  const merge = (p: Uint8Array, len: number): number => {
    if (starts.length < len + 1) {
      starts = new Int32Array(len + 1);
      pairRanks = new Float64Array(len + 1);
    }
    let parts = len + 1; // starts[0..len]; pairRanks[i] ranks parts i and i+1 together
    for (let i = 0; i <= len; i++) {
      starts[i] = i;
      pairRanks[i] = i < len - 1 ? rank(p, i, i + 2) : Infinity;
    }
    const pairAt = (i: number): number => (i + 2 < parts ? rank(p, starts[i]!, starts[i + 2]!) : Infinity);
    for (;;) {
      let low = Infinity;
      let at = -1;
      for (let i = 0; i < parts - 1; i++) {
        if (pairRanks[i]! < low) {
          low = pairRanks[i]!;
          at = i;
        }
      }
      if (at < 0) break;
      // Parts at and at+1 become one: drop start at+1.
      starts.copyWithin(at + 1, at + 2, parts);
      pairRanks.copyWithin(at + 1, at + 2, parts);
      parts--;
      pairRanks[at] = pairAt(at);
      if (at > 0) pairRanks[at - 1] = pairAt(at - 1);
    }
    return parts - 1;
  };

  return {
    source: "table",
    count(text: string): number {
      let n = 0;
      for (const [piece] of text.matchAll(split)) {
        if (scratch.length < piece.length * 3) scratch = new Uint8Array(piece.length * 3);
        const len = enc.encodeInto(piece, scratch).written;
        n += rank(scratch, 0, len) !== Infinity ? 1 : merge(scratch, len);
      }
      return n;
    },
  };
}

const require = createRequire(import.meta.url);

/** The installed gpt-tokenizer's version: the table must come from it. */
export function tokenizerVersion(): string {
  return `gpt-tokenizer@${(require("gpt-tokenizer/package.json") as { version: string }).version}`;
}

/** gpt-tokenizer itself, loaded synchronously: the fallback when the build's table is missing or stale. */
function referenceCounter(): TokenCounter {
  const { countTokens } = require("gpt-tokenizer/cjs/encoding/o200k_base") as { countTokens: (t: string, o?: object) => number };
  // Special-token text in a prompt is plain text to a chat API: counted, never refused.
  return { source: "gpt-tokenizer", count: (t) => countTokens(t, { disallowedSpecial: new Set() }) };
}

let counter: TokenCounter | undefined;

// The table is read off the main thread while the server starts; the first count takes it from
// there, or reads it itself when it comes first.
let prefetched: Buffer | undefined;
readFile(TOKEN_TABLE).then(
  (b) => void (prefetched = b),
  () => undefined,
);

/** The counter in use, loaded on first use: the build's table when it matches, else gpt-tokenizer. */
export function tokenCounter(): TokenCounter {
  if (counter) return counter;
  if (prefetched || existsSync(TOKEN_TABLE)) {
    try {
      counter = tableCounter(prefetched ?? readFileSync(TOKEN_TABLE), tokenizerVersion());
      prefetched = undefined;
    } catch {
      // A damaged table is only a lost shortcut.
    }
  }
  counter ??= referenceCounter();
  return counter;
}

/**
 * Input token estimate with a real BPE tokenizer (o200k, the encoding of current OpenAI
 * models; other vendors' tokenizers land within about 10-20% of it on English and code).
 * Long texts are tokenized on a prefix and scaled, which keeps a decision under a millisecond.
 */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  const c = tokenCounter();
  if (text.length <= EXACT_CHARS) return c.count(text);
  const head = c.count(text.slice(0, EXACT_CHARS));
  return Math.ceil((head / EXACT_CHARS) * text.length);
}

/** Per-message framing overhead of chat formats (role markers, separators). */
export const MESSAGE_OVERHEAD_TOKENS = 4;

/** Typical token cost of attachments when the caller gives no count. */
export const ATTACHMENT_TOKENS = { image: 1100, audio: 0, video: 0, document: 3000 } as const;
