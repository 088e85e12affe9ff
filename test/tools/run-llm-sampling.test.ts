// run_llm through the MCP client's own model (sampling/createMessage) when Switchboard has no
// working provider, and the error when neither keys nor sampling are there.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CreateMessageRequest, CreateMessageResult } from "@modelcontextprotocol/sdk/types.js";
import { PROMPT, fakeEnv, nameOf, startFakes, startHarness, type Fakes, type Harness } from "./run-llm-helpers.js";

let fakes: Fakes;
const sampled: CreateMessageRequest[] = [];
let reply: (req: CreateMessageRequest) => CreateMessageResult;

const answer = (text: string, model = "client-model-x"): CreateMessageResult => ({ model, role: "assistant", content: { type: "text", text }, stopReason: "endTurn" });

beforeAll(async () => {
  fakes = await startFakes();
});
afterAll(async () => {
  await fakes.close();
});
beforeEach(() => {
  fakes.reset();
  sampled.length = 0;
  reply = () => answer("Lima, from the client's model.");
});

const sampling = (req: CreateMessageRequest) => {
  sampled.push(req);
  return reply(req);
};

describe("run_llm: sampling with no keys", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: {}, sampling });
  });
  afterAll(() => h.close());

  it("answers through the client's model, asking for the routed model by name", async () => {
    const out = await h.ok({ prompt: PROMPT, system: "Be brief.", maxOutputTokens: 300 });

    expect(out.text).toBe("Lima, from the client's model.");
    expect(out.model).toBe("sampling:client-model-x");
    expect(out.model.startsWith("sampling:")).toBe(true);
    expect(out.provider).toBe("sampling");
    expect(out.finishReason).toBe("stop");
    expect(out.costUsd).toBe(0);
    // Every catalog model is skipped for lack of keys, then the client answers.
    expect(out.attempts.at(-1)).toMatchObject({ model: "sampling:client", provider: "sampling", outcome: "ok" });
    expect(out.attempts.slice(0, -1).every((a) => a.outcome === "skipped" && a.errorCode === "no_provider_configured")).toBe(true);
    expect(out.attempts[0]!.model).toBe(out.decision.routedModel);

    expect(sampled).toHaveLength(1);
    const params = sampled[0]!.params;
    expect(params.modelPreferences?.hints).toContainEqual({ name: nameOf(out.decision.routedModel) });
    expect(params.modelPreferences?.hints?.[0]).toEqual({ name: nameOf(out.decision.routedModel) });
    expect(params.messages).toEqual([{ role: "user", content: { type: "text", text: PROMPT } }]);
    expect(params.systemPrompt).toBe("Be brief.");
    expect(params.maxTokens).toBe(300);
    for (const k of ["costPriority", "speedPriority", "intelligencePriority"] as const) {
      expect(params.modelPreferences?.[k]).toBeGreaterThanOrEqual(0);
      expect(params.modelPreferences?.[k]).toBeLessThanOrEqual(1);
    }
    expect(fakes.openai.requests.length + fakes.anthropic.requests.length).toBe(0);
  });

  it("passes the caller's hints and priorities through after the routed model", async () => {
    const out = await h.ok({
      prompt: PROMPT,
      model: "anthropic:claude-haiku-4-5",
      modelPreferences: { hints: [{ name: "claude" }], costPriority: 0.9, speedPriority: 0.1, intelligencePriority: 0.4 },
    });
    expect(out.decision.routedModel).toBe("anthropic:claude-haiku-4-5");
    const prefs = sampled[0]!.params.modelPreferences;
    expect(prefs?.hints).toEqual([{ name: "claude-haiku-4-5" }, { name: "claude" }]);
    expect(prefs).toMatchObject({ costPriority: 0.9, speedPriority: 0.1, intelligencePriority: 0.4 });
  });

  it("streams the sampled answer as progress when asked", async () => {
    const long = "x".repeat(450);
    reply = () => answer(long);
    const seen: number[] = [];
    const out = await h.ok({ prompt: PROMPT }, { onprogress: (p) => void seen.push(p.progress) });
    expect(out.text).toBe(long);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.at(-1)).toBe(long.length);
  });

  it("maps a client that stops at maxTokens to finishReason length", async () => {
    reply = () => ({ ...answer("cut"), stopReason: "maxTokens" });
    // Nothing stronger can be called (no keys), so the client's answer stands.
    const out = await h.ok({ prompt: PROMPT });
    expect(out.finishReason).toBe("length");
    expect(out.text).toBe("cut");
  });

  it("returns a structured error when the client's sampling fails", async () => {
    reply = () => {
      throw new Error("user declined the sampling request");
    };
    const err = await h.fail({ prompt: PROMPT });
    expect(err.code).toBe("provider_unavailable");
    expect(err.attempts!.at(-1)).toMatchObject({ model: "sampling:client", outcome: "error" });
    expect(err.attempts!.at(-1)!.message).toMatch(/declined/);
  });
});

describe("run_llm: sampling as the last resort", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: fakeEnv({ openai: fakes.openai.url, anthropic: fakes.anthropic.url }), sampling });
  });
  afterAll(() => h.close());

  it("is not used while a provider answers", async () => {
    const out = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
    expect(out.model).toBe("openai:gpt-4.1-mini");
    expect(sampled).toHaveLength(0);
  });

  it("answers after every provider fails", async () => {
    for (let i = 0; i < 40; i++) {
      fakes.openai.enqueue({ fault: { kind: "status", status: 503 } });
      fakes.anthropic.enqueue({ fault: { kind: "status", status: 503 } });
    }
    const out = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
    expect(out.model).toBe("sampling:client-model-x");
    expect(out.attempts.at(-1)).toMatchObject({ model: "sampling:client", outcome: "ok" });
    const failed = out.attempts.slice(0, -1);
    expect(failed.length).toBeGreaterThan(2);
    expect(failed.every((a) => a.outcome === "error" && a.errorCode === "provider_unavailable")).toBe(true);
    expect(new Set(failed.map((a) => a.provider))).toEqual(new Set(["openai", "anthropic"]));
    expect(sampled).toHaveLength(1);
  });
});

describe("run_llm: neither keys nor sampling", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: {} });
  });
  afterAll(() => h.close());

  it("returns no_provider_configured naming the env vars and sampling", async () => {
    const err = await h.fail({ prompt: PROMPT });
    expect(err.code).toBe("no_provider_configured");
    expect(err.retryable).toBe(false);
    expect(err.hint).toMatch(/OPENAI_API_KEY/);
    expect(err.hint).toMatch(/sampling/);
    expect(err.attempts!.some((a) => a.model.startsWith("sampling:"))).toBe(false);
  });
});
