import type { Complexity, SwitchboardConfig, TaskType } from "../config/schema.js";

/**
 * A length the prompt asks for ("a 5,000-word essay", "two pages", "in three bullets", "en 200
 * palabras") as an output-token estimate. One precompiled regex pass over the prompt; a length that
 * describes the input ("this 2,000-word article", "the following 3 pages") is skipped.
 */

/** Tokens per unit. Words in languages other than English take more tokens each. */
const WORD = 1.35;
const WORD_OTHER = 1.7;
const PER_UNIT = {
  word: WORD,
  page: 500 * WORD,
  paragraph: 120 * WORD,
  sentence: 20 * WORD,
  line: 12,
  bullet: 20,
  character: 0.25,
  token: 1,
  haiku: 25,
  limerick: 50,
  tweet: 70,
  sonnet: 160,
} as const;
type Unit = keyof typeof PER_UNIT;

/** An answer is never estimated below this (a one-word answer still has some wrapping). */
const FLOOR = 16;

const NUMBER_WORDS: Record<string, number> = {
  a: 1, an: 1, one: 1, single: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, fifteen: 15, twenty: 20, thirty: 30, forty: 40, fifty: 50, hundred: 100, thousand: 1000,
  couple: 2, few: 3, several: 4,
  // es, fr, de
  un: 1, una: 1, uno: 1, dos: 2, tres: 3, cuatro: 4, cinco: 5, diez: 10,
  une: 1, deux: 2, trois: 3, quatre: 4, cinq: 5, dix: 10,
  ein: 1, eine: 1, einen: 1, zwei: 2, drei: 3, vier: 4, "fünf": 5, zehn: 10,
};
const MULTIPLIERS: Record<string, number> = { hundred: 100, thousand: 1000, cien: 100, mil: 1000, cent: 100, mille: 1000, hundert: 100, tausend: 1000 };

/** Unit words, each mapped to its unit; `other` marks non-English words (more tokens per word). */
const UNIT_WORDS: Array<[RegExp, Unit, boolean]> = [
  [/^words?$/, "word", false],
  [/^(palabras?|mots?|w(ö|oe)rter(n)?|worte?|parole|palavras?)$/, "word", true],
  [/^pages?$/, "page", false],
  [/^(p[áa]ginas?|seiten?)$/, "page", true],
  [/^paragraphs?$/, "paragraph", false],
  [/^(p[áa]rrafos?|paragraphes?|abs[äa]tze|absatz)$/, "paragraph", true],
  [/^sentences?$/, "sentence", false],
  [/^(oraci(ones|[óo]n)|frases?|phrases?|s[äa]tze|satz)$/, "sentence", true],
  [/^lines?$/, "line", false],
  [/^(l[íi]neas?|lignes?|zeilen?)$/, "line", true],
  [/^(bullets?|bullet[\s-]*points?|puces?|vi[ñn]etas?|stichpunkte?n?)$/, "bullet", false],
  [/^(char(acter)?s|caracteres|caract[èe]res|zeichen)$/, "character", false],
  [/^tokens?$/, "token", false],
  [/^haikus?$/, "haiku", false],
  [/^limericks?$/, "limerick", false],
  [/^tweets?$/, "tweet", false],
  [/^sonnets?$/, "sonnet", false],
];

const NUM_WORD_ALT = Object.keys(NUMBER_WORDS)
  .sort((a, b) => b.length - a.length)
  .join("|");
// Digits ("5000", "5,000", "5.000", "5k") or a number word ("two", "a few", "a couple of").
const NUM = String.raw`(?:\d{1,3}(?:[,.\u00a0\u202f]\d{3})+|\d+(?:\.\d+)?\s?k\b|\d+(?:\.\d+)?|(?:a\s+)?(?:${NUM_WORD_ALT})(?:\s+of)?)`;
const MULT = Object.keys(MULTIPLIERS).join("|");
const UNIT = String.raw`bullet[\s-]*points?|bullets?|w(?:ö|oe)rter(?:n)?|worte?|words?|palabras?|palavras?|parole|mots?|p[áa]ginas?|seiten?|pages?(?![\s-]*(?:web\s*)?(?:site|app|application|website)s?\b)|p[áa]rrafos?|paragraphes?|paragraphs?|abs[äa]tze|absatz|sentences?|oraciones|oraci[óo]n|frases?|phrases?|s[äa]tze|satz|lines?|l[íi]neas?|lignes?|zeilen?|puces?|vi[ñn]etas?|stichpunkte?n?|characters|chars|caracteres|caract[èe]res|zeichen|tokens?|haikus?|limericks?|tweets?|sonnets?`;
/** Words before a number that make it describe the input, not ask for an output. */
const INPUT_REF = String.raw`this|these|that|those|the|following|attached|above|below|previous|first|last|next|my|our|your|his|her|their|its|is|are|was|were|ce|cet|cette|ces|este|esta|estos|estas|diese[nmrs]?`;
const ADJ = String.raw`(?:(?:short|brief|long|concise|detailed|full|complete|single|simple|quick)[\s-]+)?`;

const LENGTH_RE = new RegExp(
  String.raw`(?<![\p{L}\d])(?:(?<ref>${INPUT_REF})\s+)?(?<n>${NUM})(?:[\s-]+(?<nx>${MULT}))?(?:\s*(?:-|–|to|or|and|a|à|bis|o|ou|oder)\s*(?<m>${NUM})(?:[\s-]+(?<mx>${MULT}))?)?(?<sep>[\s-]+)${ADJ}(?<unit>${UNIT})(?![\p{L}])`,
  "giu",
);
/**
 * LENGTH_RE's unit as it must stand in a match: after a space or dash (its separator or adjective
 * ends so), not followed by a letter. Most prompts have no such word; for them this one cheap scan
 * replaces LENGTH_RE's, which tries a number at nearly every word ("a" is one).
 */
const UNIT_WORD_RE = new RegExp(String.raw`(?<=[\s-])(?:${UNIT})(?![\p{L}])`, "iu");

/**
 * A length counts only where the prompt asks for it: after a word that asks ("write", "in", "under",
 * "max", "of", "give me"), or opening a sentence. Lengths that tell a story ("she stopped at a page",
 * "type 40 pages in 5 minutes") are left alone. Units that also name things ("two lines intersect")
 * do not count at a sentence's start.
 */
const AMBIGUOUS = new Set<Unit>(["line", "sentence", "character", "token"]);
const ASKING = new Set(
  (
    "in into within under below max maximum most least than to about around approximately approx roughly exactly only just it " +
    "write give use list provide answer reply respond summarize summarise explain describe compose draft produce generate create need want me us " +
    "en de con máximo menos escribe escribir dans moins écris écrivez rédige mit maximal höchstens unter schreibe schreib"
  ).split(" "),
);
/** "of" / "de" ask for a length only after a piece of writing ("an essay of 500 words", not "consists of two lines"). */
const OF = new Set(["of", "de"]);
const WRITING = new Set(
  (
    "essay article story poem summary response answer reply text report letter post blog speech description paper review piece length limit total range " +
    "ensayo artículo texto resumen respuesta historia poema carta essai texte résumé réponse histoire poème lettre aufsatz bericht"
  ).split(" "),
);
const ARTICLES = new Set(["a", "an", "un", "une", "una", "ein", "eine", "einen"]);
const BEFORE_RE = /([\p{L}]+)([^\p{L}]*)$/u;

/** The word that leads into a length phrase (articles skipped), or undefined at a sentence's start. */
function leadWord(text: string, at: number): { word: string; at: number } | undefined {
  let before = text.slice(Math.max(0, at - 40), at);
  const offset = Math.max(0, at - 40);
  for (;;) {
    const m = BEFORE_RE.exec(before);
    if (!m || /[.!?:;\n]/.test(m[2]!)) return undefined;
    const word = m[1]!.toLowerCase();
    if (!ARTICLES.has(word)) return { word, at: offset + m.index };
    before = before.slice(0, m.index);
  }
}

/** Whether the prompt asks for the length phrase that starts at `at` (see ASKING). */
function asked(text: string, at: number, unit: Unit): boolean {
  const lead = leadWord(text, at);
  if (!lead) return !AMBIGUOUS.has(unit);
  if (OF.has(lead.word)) {
    const noun = leadWord(text, lead.at);
    return noun !== undefined && WRITING.has(noun.word);
  }
  return ASKING.has(lead.word);
}

function numberOf(raw: string, mult: string | undefined): number {
  let s = raw.toLowerCase().replace(/^a\s+/, "").replace(/\s+of$/, "");
  let n: number;
  if (/\d/.test(s)) {
    const k = /k$/.test(s);
    s = s.replace(/\s?k$/, "");
    // Thousands separators: "5,000", "5.000" (a lone "1.5" stays a decimal).
    n = /^\d{1,3}([,.\u00a0\u202f]\d{3})+$/.test(s) ? Number(s.replace(/[,.\u00a0\u202f]/g, "")) : Number(s);
    if (k) n *= 1000;
  } else n = NUMBER_WORDS[s] ?? NaN;
  return mult ? n * MULTIPLIERS[mult.toLowerCase()]! : n;
}

/** Long prompts carry pasted material: only their head and tail are read for a length. */
const HEAD = 3000;
const TAIL = 1500;

export interface RequestedLength {
  /** The phrase as written, e.g. "5000-word". */
  phrase: string;
  outputTokens: number;
}

/**
 * The longest output length the text asks for, in tokens, capped at `maxTokens`; undefined when it
 * asks for none. Several phrases ("three paragraphs of about 100 words") take the largest.
 */
export function requestedLength(text: string, maxTokens: number): RequestedLength | undefined {
  if (text.length > HEAD + TAIL) return longest(longest(undefined, text.slice(0, HEAD), maxTokens), text.slice(-TAIL), maxTokens);
  return longest(undefined, text, maxTokens);
}

function longest(best: RequestedLength | undefined, text: string, maxTokens: number): RequestedLength | undefined {
  if (!UNIT_WORD_RE.test(text)) return best;
  LENGTH_RE.lastIndex = 0;
  for (let m = LENGTH_RE.exec(text); m; m = LENGTH_RE.exec(text)) {
    const g = m.groups!;
    if (g.ref) continue;
    const unitWord = g.unit!.toLowerCase();
    const [, unit, other] = UNIT_WORDS.find(([re]) => re.test(unitWord)) ?? [];
    if (!unit) continue;
    const n = Math.max(numberOf(g.n!, g.nx), g.m ? numberOf(g.m, g.mx) : 0);
    if (!Number.isFinite(n) || n <= 0) continue;
    // "a story with three characters" is not a length: characters count only as digits, 20 or more.
    if (unit === "character" && (!/\d/.test(g.n!) || n < 20)) continue;
    if (!asked(text, m.index, unit)) continue;
    const per = other ? (PER_UNIT[unit] * WORD_OTHER) / WORD : PER_UNIT[unit];
    const tokens = Math.min(maxTokens, Math.max(FLOOR, Math.round(n * per)));
    if (!best || tokens > best.outputTokens) best = { phrase: m[0].trim(), outputTokens: tokens };
  }
  return best;
}

const catalogMax = new WeakMap<SwitchboardConfig, number>();

/** Tasks whose answer is mostly code: a length the prompt gives is for the prose around it, so it only raises the estimate. */
const CODE_TASKS = new Set<TaskType>(["coding", "debugging", "code_review"]);

/**
 * An LLM answer's expected size when the caller gives no maxOutputTokens: the length the prompt asks
 * for (capped at the largest maxOutput in the catalog), else the task's typical size.
 */
export function outputEstimate(cfg: SwitchboardConfig, text: string, taskType: TaskType, complexity: Complexity): number {
  let max = catalogMax.get(cfg);
  if (max === undefined) {
    max = Math.max(...Object.values(cfg.models).map((m) => m.maxOutput));
    catalogMax.set(cfg, max);
  }
  const typical = cfg.tasks[taskType].outputTokens[complexity];
  const asked = requestedLength(text, max)?.outputTokens;
  if (asked === undefined) return typical;
  return CODE_TASKS.has(taskType) ? Math.max(asked, typical) : asked;
}
