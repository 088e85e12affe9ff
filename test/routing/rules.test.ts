import { describe, expect, it } from "vitest";
import { applyRules } from "../../src/routing/rules.js";
import { detectSignals } from "../../src/routing/signals.js";

const rule = (text: string) => applyRules(text, detectSignals(text));

describe("applyRules: debugging", () => {
  it("code plus a traceback is debugging", () => {
    const text = [
      "```python",
      "def average(xs):",
      "    total = sum(xs)",
      "    return total / len(xs)",
      "```",
      "Traceback (most recent call last):",
      '  File "stats.py", line 9, in <module>',
      "    print(average([]))",
      "ZeroDivisionError: division by zero",
    ].join("\n");
    expect(rule(text)).toMatchObject({ taskType: "debugging" });
    expect(rule(text)!.confidence).toBeGreaterThan(0.8);
    expect(rule(text)!.rule).toMatch(/stack trace|error/);
  });

  it('code plus "fix" is debugging', () => {
    const text = [
      "Please fix this, the counter never goes above one:",
      "```js",
      "let count = 0;",
      "function inc() {",
      "  let count = 0;",
      "  count++;",
      "  return count;",
      "}",
      "```",
    ].join("\n");
    expect(rule(text)?.taskType).toBe("debugging");
  });

  it("an error output with a question about it is debugging even without code", () => {
    const text = [
      "I keep getting this error when the page loads, what does it mean?",
      "TypeError: Cannot read properties of null (reading 'addEventListener')",
      "    at init (main.js:12:9)",
    ].join("\n");
    expect(rule(text)?.taskType).toBe("debugging");
  });
});

describe("applyRules: coding and code review", () => {
  it("a bare function stub with a docstring is coding", () => {
    const text = [
      "from typing import List",
      "import math",
      "",
      "",
      "def geometric_mean(values: List[float]) -> float:",
      '    """Return the geometric mean of the positive numbers in values.',
      "    >>> geometric_mean([1.0, 4.0])",
      "    2.0",
      '    """',
      "",
    ].join("\n");
    expect(rule(text)).toMatchObject({ taskType: "coding", rule: expect.stringMatching(/stub/) });
  });

  it('code plus "refactor" is code review', () => {
    const text = [
      "Refactor this so it is easier to read:",
      "```python",
      "def grade(s):",
      "    if s >= 90: return 'A'",
      "    else:",
      "        if s >= 80: return 'B'",
      "        else: return 'C'",
      "```",
    ].join("\n");
    expect(rule(text)?.taskType).toBe("code_review");
  });

  it("a review request with a reported bug is not code review", () => {
    const text = [
      "Review this code, it crashes with an exception on empty input:",
      "```python",
      "def first(xs):",
      "    x = xs[0]",
      "    return x",
      "```",
    ].join("\n");
    expect(rule(text)?.taskType).not.toBe("code_review");
  });
});

describe("applyRules: translation", () => {
  it('"Translate into French: ..." is translation', () => {
    const m = rule("Translate into French: Our office will be closed on Monday for the holiday.");
    expect(m).toMatchObject({ taskType: "translation" });
    expect(m!.confidence).toBeGreaterThan(0.8);
  });

  it("a request in Chinese to translate is translation", () => {
    expect(rule("请把下面这句话翻译成英文：明天我们去爬山。")?.taskType).toBe("translation");
  });

  it('"translate this Python to Java" is not a translation rule match', () => {
    expect(rule("translate this Python to Java")?.taskType).not.toBe("translation");
    expect(rule("Translate this Python function to Java:\n```python\ndef add(a, b):\n    return a + b\n```")?.taskType).not.toBe("translation");
  });

  it("translating to Roman numerals is not translation", () => {
    expect(rule("Translate 1994 into Roman numerals.")?.taskType).not.toBe("translation");
  });
});

describe("applyRules: summarization", () => {
  const passage = [
    "The town library reopened this week after an eighteen-month renovation that added a children's wing,",
    "a rooftop reading garden and a small recording studio that residents can book for free.",
    "Librarians say the studio has already been reserved for the next two months, mostly by teenagers",
    "recording podcasts and local musicians making demos. The renovation was paid for by a mix of state",
    "grants and a fundraising campaign that ran for three years, during which volunteers organised book",
    "sales, bake sales and a charity run. Some residents had objected to the cost, arguing that the money",
    "would have been better spent on repairing roads, but attendance at the reopening suggested that most",
    "of the town had come round to the idea. The head librarian said the next goal is to extend opening",
    "hours into the evening so that people who work during the day can use the new spaces as well.",
  ].join(" ");

  it("summarize plus a long passage is summarization", () => {
    expect(rule(`Summarize the following article in two sentences.\n\n${passage}`)?.taskType).toBe("summarization");
  });

  it("summarize with hardly any text to summarize is left to the classifier", () => {
    expect(rule("Summarize the plot of Hamlet.")).toBeNull();
  });
});

describe("applyRules: greetings and math", () => {
  it("a greeting is simple_qa", () => {
    expect(rule("Hello!")).toMatchObject({ taskType: "simple_qa", rule: "greeting" });
    expect(rule("good evening, how are you doing today?")?.taskType).toBe("simple_qa");
  });

  it('"(3+4)*2 =" is math', () => {
    expect(rule("(3+4)*2 =")).toMatchObject({ taskType: "math" });
    expect(rule("17 * 23 - 4")?.taskType).toBe("math");
  });
});

describe("applyRules: leaves the rest to the classifier", () => {
  it.each([
    "What are some good names for a golden retriever puppy?",
    "Is it better to rent or buy a house in a rising market? Discuss.",
  ])("%s matches no rule", (text) => {
    expect(rule(text)).toBeNull();
  });

  it("every match has a confidence in (0, 1] and a named rule", () => {
    for (const t of ["Hi", "(1+1)*3 =", "Translate into German: thank you very much"]) {
      const m = rule(t);
      expect(m).not.toBeNull();
      expect(m!.confidence).toBeGreaterThan(0);
      expect(m!.confidence).toBeLessThanOrEqual(1);
      expect(m!.rule.length).toBeGreaterThan(0);
    }
  });
});
