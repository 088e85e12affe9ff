// The rules the adapters and the compatible APIs' notes share: a reasoning request as OpenAI's
// reasoning_effort and Anthropic's thinking budget, when Anthropic must not be sent thinking, and
// which cache breakpoints are kept under Anthropic's limit of four. Then the Anthropic request
// body those rules build.
import { describe, expect, it } from "vitest";
import { anthropicBody } from "../../src/providers/anthropic-request.js";
import { breakpointTaker, countBreakpoints } from "../../src/providers/cache-hints.js";
import { anthropicThinking, effortOf, lastToolTurnLacksThinking } from "../../src/providers/reasoning.js";
import type { ChatRequest, LlmMessage } from "../../src/providers/types.js";

const user = (content: string): LlmMessage => ({ role: "user", content });
const call = { id: "c1", name: "f", arguments: "{}" };
const thought = { type: "thinking" as const, thinking: "t", signature: "s" };

describe("effortOf: OpenAI's reasoning_effort", () => {
  it("takes the effort asked for, else the budget's band, else medium", () => {
    expect(effortOf({ effort: "minimal", budgetTokens: 30000 }, ["minimal", "low", "medium", "high"])).toBe("minimal");
    expect([1024, 4095, 4096, 16383, 16384].map((budgetTokens) => effortOf({ budgetTokens }))).toEqual(["low", "low", "medium", "medium", "high"]);
    expect(effortOf({})).toBe("medium");
  });

  it("sends an effort the model does not take as the nearest it does, the next stronger first", () => {
    // Most reasoning models take low, medium and high only.
    expect(effortOf({ effort: "minimal" })).toBe("low");
    expect(effortOf({ effort: "high" }, ["minimal", "low", "medium"])).toBe("medium");
    expect(effortOf({ effort: "low" }, ["medium", "high"])).toBe("medium");
  });
});

describe("anthropicThinking: Anthropic's budget", () => {
  const req = (over: Partial<ChatRequest>) => ({ messages: [user("hi")], maxOutputTokens: 4000, maxOutputCeiling: 64000, ...over });

  it("maps an effort to its budget, and leaves max_tokens alone when the budget fits below it", () => {
    expect(anthropicThinking(req({ reasoning: { effort: "low" } }))).toEqual({ budgetTokens: 2048, maxTokens: 4000 });
    expect(anthropicThinking(req({ reasoning: {}, maxOutputTokens: 10000 }))).toEqual({ budgetTokens: 8192, maxTokens: 10000 });
    expect(anthropicThinking(req({ reasoning: { effort: "high" } }))).toEqual({ budgetTokens: 24576, maxTokens: 28576 });
    expect(anthropicThinking(req({}))).toBeUndefined();
  });

  it("raises max_tokens by the budget within the model's ceiling, then keeps the budget below it", () => {
    expect(anthropicThinking(req({ reasoning: { budgetTokens: 60000 } }))).toEqual({ budgetTokens: 60000, maxTokens: 64000 });
    expect(anthropicThinking(req({ reasoning: { budgetTokens: 70000 } }))).toEqual({ budgetTokens: 63999, maxTokens: 64000 });
    expect(anthropicThinking(req({ reasoning: { budgetTokens: 10 } }))).toEqual({ budgetTokens: 1024, maxTokens: 4000 });
  });

  it("sends none when the ceiling leaves no room for 1024 tokens, or the last tool-use turn has no thinking", () => {
    expect(anthropicThinking(req({ reasoning: {}, maxOutputTokens: 1000, maxOutputCeiling: 1024 }))).toHaveProperty("skipped");
    const history = [user("q"), { role: "assistant" as const, content: "", toolCalls: [call] }, { role: "tool" as const, content: "r", toolCallId: "c1" }];
    expect(anthropicThinking(req({ reasoning: {}, messages: history }))).toEqual({ skipped: expect.stringContaining("no thinking block") });
  });
});

describe("lastToolTurnLacksThinking", () => {
  it("reads consecutive assistant messages as one turn, and only the last turn with tool calls", () => {
    const split: LlmMessage[] = [user("q"), { role: "assistant", content: "", thinking: [thought] }, { role: "assistant", content: "", toolCalls: [call] }, { role: "tool", content: "r", toolCallId: "c1" }];
    expect(lastToolTurnLacksThinking(split)).toBe(false);
    const older: LlmMessage[] = [user("q"), { role: "assistant", content: "", toolCalls: [call], thinking: [thought] }, user("r"), { role: "assistant", content: "", toolCalls: [call] }, user("r")];
    expect(lastToolTurnLacksThinking(older)).toBe(true);
    expect(lastToolTurnLacksThinking([user("q"), { role: "assistant", content: "plain" }, user("more")])).toBe(false);
  });
});

describe("cache breakpoints", () => {
  it("keeps the last four in reading order (tools, system, messages); system-role messages carry none", () => {
    const req = {
      tools: [{ name: "a", parameters: {}, cache: {} }, { name: "b", parameters: {}, cache: { ttl: "1h" as const } }],
      systemBlocks: [{ text: "s", cache: {} }],
      messages: [{ role: "system" as const, content: "x", cache: {} }, { ...user("m1"), cache: {} }, { ...user("m2"), cache: { ttl: "5m" as const } }],
    };
    expect(countBreakpoints(req)).toBe(5);
    const take = breakpointTaker(req);
    expect([{}, { ttl: "1h" as const }, {}, undefined, {}, { ttl: "5m" as const }].map((h) => take(h))).toEqual([undefined, { ttl: "1h" }, {}, undefined, {}, { ttl: "5m" }]);
  });
});

describe("anthropicBody", () => {
  const base: ChatRequest = { model: "claude-x", maxOutputTokens: 1000, messages: [user("hi")] };

  it("sends the system as blocks only when one carries a breakpoint, and a turn's breakpoint on its last block, never on thinking", () => {
    expect(anthropicBody({ ...base, system: "a\n\nb" }).system).toBe("a\n\nb");
    const body = anthropicBody({
      ...base,
      system: "a\n\nb",
      systemBlocks: [{ text: "a", cache: {} }, { text: "b" }],
      messages: [user("q"), { role: "assistant", content: "", thinking: [thought], toolCalls: [call], cache: { ttl: "1h" } }, { role: "tool", content: "r", toolCallId: "c1" }],
    });
    expect(body.system).toEqual([{ type: "text", text: "a", cache_control: { type: "ephemeral" } }, { type: "text", text: "b" }]);
    expect(body.messages[1]!.content).toEqual([
      { type: "thinking", thinking: "t", signature: "s" },
      { type: "tool_use", id: "c1", name: "f", input: {}, cache_control: { type: "ephemeral", ttl: "1h" } },
    ]);
  });

  it("adds thinking only with reasoning, raising max_tokens for its budget", () => {
    expect(anthropicBody(base)).not.toHaveProperty("thinking");
    const body = anthropicBody({ ...base, reasoning: { budgetTokens: 2000 }, maxOutputCeiling: 64000 });
    expect(body.thinking).toEqual({ type: "enabled", budget_tokens: 2000 });
    expect(body.max_tokens).toBe(3000);
  });
});
