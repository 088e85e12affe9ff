import { describe, expect, it, beforeAll } from "vitest";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import ranks from "gpt-tokenizer/bpeRanks/o200k_base";
import { O200K_TOKEN_SPLIT_REGEX } from "gpt-tokenizer/encodingParams/constants";
import { GptEncoding } from "gpt-tokenizer/GptEncoding";
import { loadConfig } from "../../src/config/load.js";
import { buildTokenTable, estimateTokens, tableCounter, tokenCounter, tokenizerVersion, type TokenCounter } from "../../src/routing/tokens.js";

const reference = (text: string) => countTokens(text, { disallowedSpecial: new Set() });

describe("o200k token table", () => {
  let table: Buffer;
  let counter: TokenCounter;
  beforeAll(() => {
    const core = (GptEncoding.getEncodingApi("o200k_base", () => ranks) as unknown as { bytePairEncodingCoreProcessor: { getBpeRankFromBytes(b: Uint8Array): number | undefined } }).bytePairEncodingCoreProcessor;
    table = buildTokenTable(ranks, { source: tokenizerVersion(), pattern: O200K_TOKEN_SPLIT_REGEX.source }, (b, r) => core.getBpeRankFromBytes(b) === r);
    counter = tableCounter(table, tokenizerVersion())!;
  }, 60000);

  it("counts every shipped example prompt exactly as gpt-tokenizer does", () => {
    const texts = Object.values(loadConfig({ env: {} }).config.tasks).flatMap((t) => t.examples);
    expect(texts.length).toBeGreaterThan(1000);
    const wrong = texts.filter((t) => counter.count(t) !== reference(t));
    expect(wrong).toEqual([]);
  });

  it("agrees on code, numbers, whitespace runs, scripts, emoji and odd bytes", () => {
    const texts = [
      "",
      "a",
      "    def f(x):\n\t\treturn x**2  # square\r\n\r\n",
      "1234567890 3.14159 -42 1e10 0xDEADBEEF",
      "naïve café crème brûlée — ÄÖÜäöüß",
      "東京で会いましょう。我爱北京天安门。안녕하세요",
      "مرحبا بالعالم שלום עולם नमस्ते दुनिया",
      "🤖🚀👩‍👩‍👧‍👦 🇫🇷 ✔︎",
      "x\u0000y\u0007z \ud800 lone surrogate",
      "<|endoftext|> and <|im_start|> are plain text in a prompt",
      " ".repeat(300) + "\n".repeat(50) + "tail",
      "supercalifragilisticexpialidocious".repeat(20),
      "I'm can't WE'LL they've SHE'D",
    ];
    for (const t of texts) expect(counter.count(t), JSON.stringify(t.slice(0, 40))).toBe(reference(t));
  });

  it("refuses a table built from another gpt-tokenizer version, or no table at all", () => {
    expect(tableCounter(table, "gpt-tokenizer@0.0.0")).toBeUndefined();
    expect(tableCounter(new Uint8Array(64))).toBeUndefined();
    expect(tableCounter(table.subarray(0, table.length - 4))).toBeUndefined();
  });

  it("estimateTokens counts exactly up to 2000 characters, and never refuses special-token text", () => {
    const t = "Write a Python function that reverses a linked list. <|endoftext|>";
    expect(estimateTokens(t)).toBe(reference(t));
    expect(["table", "gpt-tokenizer"]).toContain(tokenCounter().source);
    const long = "The council met on Tuesday to discuss the budget. ".repeat(100);
    expect(estimateTokens(long)).toBe(Math.ceil((reference(long.slice(0, 2000)) / 2000) * long.length));
  });
});
