// The "did you mean" helper and how errors quote what the caller sent.
import { describe, expect, it } from "vitest";
import { closest, shown, unknownValue } from "../src/errors.js";

const MODELS = ["openai:gpt-4.1-mini", "openai:gpt-4.1", "anthropic:claude-haiku-4-5", "google:gemini-2.5-pro"];

describe("closest", () => {
  it("finds a near miss, a unique prefix, and nothing for what is near nothing", () => {
    expect(closest("openai:gpt-4.1-mni", MODELS)).toBe("openai:gpt-4.1-mini");
    expect(closest("anthropic:", MODELS)).toBe("anthropic:claude-haiku-4-5");
    expect(closest("zzzz", MODELS)).toBeUndefined();
  });

  it("leaves out, without comparing them, values whose length alone puts them out of reach", () => {
    // Within reach: 19 letters against 19 (one typo); out of reach: a megabyte against ~20.
    expect(closest("openai:gpt-4.1-minx", MODELS)).toBe("openai:gpt-4.1-mini");
    expect(closest("x".repeat(1_000_000), MODELS)).toBeUndefined();
    expect(closest("openai:gpt-4.1-mini-with-a-long-tail-of-junk", MODELS)).toBeUndefined();
  });
});

describe("shown", () => {
  it("quotes a short value whole and a long one by its start and length", () => {
    expect(shown("gpt-4o")).toBe("gpt-4o");
    expect(shown("m".repeat(5000))).toBe(`${"m".repeat(100)}… (5,000 characters)`);
    expect(unknownValue("mode", "q".repeat(300), ["a"]).body.message).toBe(`unknown mode "${"q".repeat(100)}… (300 characters)"`);
  });
});
