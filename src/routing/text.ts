/**
 * Text helpers shared by signal detection and the classifier.
 * Long prompts are read through a window (head and tail): the instruction of a prompt sits
 * at its start or its end, and a bounded window keeps decisions fast whatever the size.
 */

const HEAD_CHARS = 2000;
const TAIL_CHARS = 600;

export function window(text: string): string {
  if (text.length <= HEAD_CHARS + TAIL_CHARS) return text;
  return text.slice(0, HEAD_CHARS) + "\n…\n" + text.slice(-TAIL_CHARS);
}

// Letters of scripts written without spaces are taken one character at a time.
const TOKEN_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{L}\p{M}]+(?:'[\p{L}]+)?|\d+(?:[.,]\d+)*|[^\s\p{L}\p{N}]/gu;

/** Lower-cased word tokens; numbers fold to one token so the model learns "a number", not which. */
export function tokenize(text: string): string[] {
  // One global match returns the tokens themselves, where matchAll built a match object for each
  // (the pattern never matches empty, so both give the same tokens).
  const out = text.toLowerCase().match(TOKEN_RE) ?? [];
  for (let i = 0; i < out.length; i++) {
    const c = out[i]!.charCodeAt(0);
    if (c >= 48 && c <= 57) out[i] = "<num>";
  }
  return out;
}

/** Character-level counts in one pass, without allocating (decisions must stay sub-millisecond). */
export interface CharCounts {
  /** Runs of letters or digits (scripts without spaces count per character). */
  words: number;
  letters: number;
  /** Runs of digits, so "3.5" and "1,000" count once. */
  numbers: number;
  questionMarks: number;
  mathSymbols: number;
}

const MATH_SYMBOLS = new Set([..."=+-*/^×÷√∑∫≤≥≠π"].map((c) => c.codePointAt(0)!));
/** MATH_SYMBOLS' ASCII members as a table, so most characters skip the Set lookup. */
const MATH_ASCII = Uint8Array.from({ length: 128 }, (_, c) => (MATH_SYMBOLS.has(c) ? 1 : 0));

export function countChars(text: string): CharCounts {
  let words = 0;
  let letters = 0;
  let numbers = 0;
  let questionMarks = 0;
  let mathSymbols = 0;
  let inWord = false;
  let inNumber = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 48 && c <= 57;
    const asciiLetter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    // Non-ASCII letters: everything from Latin-1 letters up, except general punctuation and CJK punctuation.
    const wide = c >= 0xc0 && !(c >= 0x2000 && c <= 0x206f) && !(c >= 0x3000 && c <= 0x303f) && c !== 0xd7 && c !== 0xf7;
    const cjk = (c >= 0x3040 && c <= 0x30ff) || (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af);
    if (asciiLetter || wide) letters++;
    if (cjk) {
      words++;
      inWord = false;
    } else if (asciiLetter || wide || digit || (inWord && (c === 39 || c === 95))) {
      if (!inWord) words++;
      inWord = true;
    } else inWord = false;
    if (digit) {
      if (!inNumber) numbers++;
      inNumber = true;
    } else if (!(inNumber && (c === 46 || c === 44) && i + 1 < text.length && text.charCodeAt(i + 1) >= 48 && text.charCodeAt(i + 1) <= 57)) {
      inNumber = false;
    }
    if (c === 63) questionMarks++;
    else if (c < 128 ? MATH_ASCII[c] === 1 : MATH_SYMBOLS.has(c)) mathSymbols++;
  }
  return { words, letters, numbers, questionMarks, mathSymbols };
}

export function wordCount(text: string): number {
  return countChars(text).words;
}

/** The share of letters outside the Latin script, and the dominant non-Latin script if any. */
export function scriptProfile(text: string): { nonLatinRatio: number; script: string | null } {
  const sample = text.length > 4000 ? text.slice(0, 4000) : text;
  let latin = 0;
  const counts: Record<string, number> = {};
  // UTF-16 units rather than code points (`for...of` makes a string per character): scriptOf names
  // only BMP ranges outside the surrogates, so a surrogate unit and an astral code point both count nowhere.
  for (let i = 0; i < sample.length; i++) {
    const cp = sample.charCodeAt(i);
    if (cp < 0x80) {
      if ((cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122)) latin++;
      continue;
    }
    const s = scriptOf(cp);
    if (s === "latin") latin++;
    else if (s) counts[s] = (counts[s] ?? 0) + 1;
  }
  const other = Object.values(counts).reduce((a, b) => a + b, 0);
  const total = latin + other;
  if (total === 0) return { nonLatinRatio: 0, script: null };
  const top = Object.entries(counts).sort((a, b) => b[1] - a[1])[0];
  return { nonLatinRatio: other / total, script: top ? top[0] : null };
}

function scriptOf(cp: number): string | null {
  if (cp <= 0x024f) return cp >= 0xc0 ? "latin" : null;
  if (cp >= 0x0370 && cp <= 0x03ff) return "greek";
  if (cp >= 0x0400 && cp <= 0x04ff) return "cyrillic";
  if (cp >= 0x0590 && cp <= 0x05ff) return "hebrew";
  if (cp >= 0x0600 && cp <= 0x06ff) return "arabic";
  if (cp >= 0x0900 && cp <= 0x0dff) return "indic";
  if (cp >= 0x0e00 && cp <= 0x0e7f) return "thai";
  if (cp >= 0x1e00 && cp <= 0x1eff) return "latin";
  if (cp >= 0x3040 && cp <= 0x30ff) return "japanese";
  if (cp >= 0x4e00 && cp <= 0x9fff) return "han";
  if (cp >= 0xac00 && cp <= 0xd7af) return "hangul";
  return null;
}
