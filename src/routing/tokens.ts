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
 *
 * Layout: the header, then `tableSize` slots of two int32 each, then the vocabulary's bytes. A
 * slot holds an entry's rank and byte length (`rank | length << 18`, -1 when empty) and either its
 * bytes themselves (up to 4, packed little-endian) or where they start in the vocabulary. A lookup
 * reads one slot (one cache line) for a short piece and the bytes besides for a longer one, and a
 * slot of another length is passed over without reading anything else: counting is bound by those
 * memory reads, not by arithmetic.
 */
export const TOKEN_TABLE = join(PACKAGE_ROOT, "dist", "o200k.bin");

const MAGIC = 0x32544253; // "SBT2"
const RANK_BITS = 18;
const RANK_MASK = (1 << RANK_BITS) - 1;
/** Pieces up to this many bytes are kept in their slot. */
const INLINE_BYTES = 4;

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
  if (n > RANK_MASK + 1 || pieces.some((p) => p.length >= 1 << (31 - RANK_BITS))) throw new Error("token table: too many ranks or too long a piece for its slots");
  // A load of at most 0.8: linear probing stays within a line or two, in half the memory of 0.4.
  let tableSize = 1;
  while (tableSize < n * 1.25) tableSize <<= 1;
  let total = 0;
  const offsets = pieces.map((p) => (total += p.length) - p.length);
  const bytes = new Uint8Array(total);
  pieces.forEach((p, r) => bytes.set(p, offsets[r]));
  const slots = new Int32Array(tableSize * 2).fill(-1);
  const mask = tableSize - 1;
  for (let r = 0; r < n; r++) {
    const p = pieces[r]!;
    if (!findable(p, r)) continue;
    let slot = hashBytes(p, 0, p.length) & mask;
    while (slots[2 * slot] !== -1) slot = (slot + 1) & mask;
    slots[2 * slot] = r | (p.length << RANK_BITS);
    slots[2 * slot + 1] = p.length <= INLINE_BYTES ? packBytes(p, 0, p.length) : offsets[r]!;
  }
  const header: Header = { ...meta, entries: n, tableSize, bytes: total };
  let head = Buffer.from(JSON.stringify(header), "utf8");
  head = Buffer.concat([head, Buffer.alloc((4 - ((8 + head.length) % 4)) % 4, 0x20)]);
  const pre = Buffer.alloc(8);
  pre.writeUInt32LE(MAGIC, 0);
  pre.writeUInt32LE(head.length, 4);
  return Buffer.concat([pre, head, Buffer.from(slots.buffer), Buffer.from(bytes.buffer)]);
}

/** Up to four bytes as one int32, the first in the low byte. */
function packBytes(bytes: Uint8Array, start: number, end: number): number {
  let v = 0;
  for (let i = end - 1; i >= start; i--) v = (v << 8) | bytes[i]!;
  return v;
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
  const at = buf.byteOffset + 8 + headLen;
  if (8 + headLen + h.tableSize * 8 + h.bytes !== buf.byteLength) return undefined;
  const slots = new Int32Array(buf.buffer, at, h.tableSize * 2);
  const vocab = new Uint8Array(buf.buffer, at + h.tableSize * 8, h.bytes);
  const mask = h.tableSize - 1;
  const split = new RegExp(h.pattern, "gu");
  const enc = new TextEncoder();
  let scratch = new Uint8Array(4096);
  let starts = new Int32Array(1024);
  let pairRanks = new Float64Array(1024);

  /** The rank of bytes p[start, end), or Infinity when they are not a token. */
  const rank = (p: Uint8Array, start: number, end: number): number => {
    const len = end - start;
    const inline = len <= INLINE_BYTES;
    const packed = inline ? packBytes(p, start, end) : 0;
    for (let slot = hashBytes(p, start, end) & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[2 * slot]!;
      if (entry === -1) return Infinity;
      if (entry >>> RANK_BITS !== len) continue;
      const b = slots[2 * slot + 1]!;
      if (inline) {
        if (b === packed) return entry & RANK_MASK;
        continue;
      }
      let i = 0;
      while (i < len && vocab[b + i] === p[start + i]) i++;
      if (i === len) return entry & RANK_MASK;
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
      // The pieces from one global match, not matchAll's match objects (no piece is empty, so the same pieces).
      const pieces = text.match(split) ?? [];
      for (const piece of pieces) {
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

/**
 * What a PDF costs a model that reads it: Anthropic and OpenAI both give the model each page's
 * text and an image of the page, about 1,500-3,000 tokens a page by Anthropic's account. Pages
 * are counted from the file's page objects (`/Type /Page`); a file that keeps them in compressed
 * object streams shows none, and is sized at a page per 50 KB instead.
 */
export function pdfTokens(base64: string): number {
  const bytes = Buffer.from(base64, "base64");
  return Math.max(1, pageObjects(bytes) || Math.round(bytes.length / 50_000)) * PDF_PAGE_TOKENS;
}
const PDF_PAGE_TOKENS = 2_250;

/** `/Type /Page` (not `/Pages`) in a PDF's bytes, scanned in place: a copy as text would double a 30 MB file. */
function pageObjects(bytes: Buffer): number {
  let pages = 0;
  for (let at = bytes.indexOf("/Type"); at >= 0; at = bytes.indexOf("/Type", at + 5)) {
    let i = at + 5;
    while (i < bytes.length && PDF_SPACE.has(bytes[i]!)) i++;
    if (bytes.toString("latin1", i, i + 5) === "/Page" && !/[a-zA-Z]/.test(String.fromCharCode(bytes[i + 5] ?? 0))) pages++;
  }
  return pages;
}
/** PDF white-space characters: NUL, tab, line feed, form feed, carriage return, space. */
const PDF_SPACE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
