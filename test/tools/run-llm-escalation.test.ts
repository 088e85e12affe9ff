// run_llm's typed fallbacks and escalation: a context-length error moves to a larger window, a
// content filter to the configured alternative, and an answer that fails a visible check
// (not the requested JSON, empty, cut at the token limit, refused) to a stronger model.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { modelName, taskCapability, tierRank } from "../../src/config/catalog.js";
import { fakeEnv, requestsFor, startFakes, type Fakes } from "../helpers/llm-fakes.js";
import { PROMPT, startRunLlmHarness, type RunLlmHarness, type RunOutput } from "../helpers/run-llm.js";

let fakes: Fakes;
let h: RunLlmHarness;
/** A tenant whose policy pins the models every fallback and escalation must stay within. */
const ALLOWED = ["openai:gpt-4.1-mini", "openai:gpt-4.1-nano", "anthropic:claude-haiku-4-5"];

beforeAll(async () => {
  fakes = await startFakes();
  h = await startRunLlmHarness({
    env: fakeEnv({ openai: fakes.openai.url, anthropic: fakes.anthropic.url }),
    overlay: { tenants: { restricted: { allowedModels: ALLOWED } } },
  });
});
afterAll(async () => {
  await h.close();
  await fakes.close();
});
beforeEach(() => {
  fakes.reset();
  h.resetBreakers();
});

const shape = (attempts: RunOutput["attempts"]) => attempts.map((a) => [a.model, a.outcome, a.errorCode]);

/**
 * The answered model is clearly more capable at the task than `from` (by the task's weights
 * without speed: stronger means better, not faster), and not of a lower tier.
 */
function expectStronger(out: RunOutput, from: string): void {
  const models = h.runtime.config.models;
  const { speed: _speed, ...weights } = h.runtime.config.tasks[out.decision.taskType as keyof typeof h.runtime.config.tasks].weights;
  expect(out.model).not.toBe(from);
  expect(taskCapability(models[out.model]!, weights)).toBeGreaterThan(taskCapability(models[from]!, weights) + 3);
  expect(tierRank(models[out.model]!.tier)).toBeGreaterThanOrEqual(tierRank(models[from]!.tier));
}

describe("run_llm: context length", () => {
  it("moves to a model with a larger context window after a context-length error", async () => {
    const small = "anthropic:claude-haiku-4-5";
    fakes.anthropic.enqueue({ model: modelName(small), fault: { kind: "context-length" } });
    const out = await h.ok({ prompt: PROMPT, model: small });

    expect(out.attempts[0]).toMatchObject({ model: small, outcome: "error", errorCode: "context_length_exceeded" });
    expect(out.attempts[1]).toMatchObject({ outcome: "ok" });
    const models = h.runtime.config.models;
    expect(models[out.attempts[1]!.model]!.contextWindow).toBeGreaterThan(models[small]!.contextWindow);
    expect(out.model).toBe(out.attempts[1]!.model);
    // Not retried on the same model: the input will not shrink by itself.
    expect(requestsFor(fakes.anthropic, modelName(small))).toHaveLength(1);
  });

  it("returns context_length_exceeded when no callable model has a larger window", async () => {
    // gpt-4.1-mini's window is the largest among the configured providers' models.
    fakes.openai.enqueue({ model: "gpt-4.1-mini", fault: { kind: "context-length" } });
    const err = await h.fail({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
    expect(err).toMatchObject({ code: "context_length_exceeded", retryable: false, model: "openai:gpt-4.1-mini", provider: "openai" });
    expect(err.hint).toMatch(/shorten|larger context/);
    expect(err.attempts!.map((a) => [a.model, a.errorCode])).toEqual([["openai:gpt-4.1-mini", "context_length_exceeded"]]);
    expect(fakes.anthropic.requests).toHaveLength(0);
  });
});

describe("run_llm: content filters and refusals", () => {
  it("moves to router.failover.contentFiltered after OpenAI's content filter", async () => {
    const alt = h.runtime.config.router.failover.contentFiltered;
    fakes.openai.enqueue({ model: "gpt-4.1-mini", fault: { kind: "content-filter" } });
    const out = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });

    expect(shape(out.attempts)).toEqual([
      ["openai:gpt-4.1-mini", "error", "content_filtered"],
      [alt[0], "ok", undefined],
    ]);
    expect(out.model).toBe(alt[0]);
    expect(out.text).toContain(`fake answer from ${modelName(alt[0]!)}`);
    expect(requestsFor(fakes.openai, "gpt-4.1-mini")).toHaveLength(1);
  });

  it("moves on to the next configured alternative when the first is filtered too", async () => {
    const alt = h.runtime.config.router.failover.contentFiltered;
    expect(alt.length).toBeGreaterThanOrEqual(2);
    fakes.openai.enqueue({ model: "gpt-4.1-mini", fault: { kind: "content-filter" } });
    // The Anthropic alternative (claude-sonnet-4-5) refuses; the refusal is escalated, so script the next one cleanly.
    const first = alt[0]!;
    const fake = first.startsWith("anthropic:") ? fakes.anthropic : fakes.openai;
    fake.enqueue({ model: modelName(first), fault: { kind: "status", status: 400, message: "Output blocked by content filtering policy" } });
    const out = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
    expect(shape(out.attempts)).toEqual([
      ["openai:gpt-4.1-mini", "error", "content_filtered"],
      [first, "error", "content_filtered"],
      [alt[1], "ok", undefined],
    ]);
  });

  it("returns content_filtered when every model filters the request", async () => {
    for (let i = 0; i < 20; i++) {
      fakes.openai.enqueue({ fault: { kind: "content-filter" } });
      fakes.anthropic.enqueue({ fault: { kind: "status", status: 400, message: "Request flagged by our content policy" } });
    }
    const err = await h.fail({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
    expect(err.code).toBe("content_filtered");
    expect(err.retryable).toBe(false);
    expect(err.hint).toMatch(/rephrase/);
    expect(err.attempts!.every((a) => a.errorCode === "content_filtered")).toBe(true);
    // Each model tried once: a filtered request is never retried on the same model.
    const models = err.attempts!.map((a) => a.model);
    expect(new Set(models).size).toBe(models.length);
  });

  it("escalates an Anthropic refusal to a stronger model", async () => {
    const primary = "anthropic:claude-haiku-4-5";
    fakes.anthropic.enqueue({ model: modelName(primary), fault: { kind: "content-filter" } });
    const out = await h.ok({ prompt: PROMPT, model: primary });

    expect(out.attempts[0]).toMatchObject({ model: primary, outcome: "escalated" });
    expect(out.attempts[0]!.message).toMatch(/refused/);
    expect(out.attempts[1]).toMatchObject({ outcome: "ok" });
    expect(out.escalated).toBe(true);
    expectStronger(out, primary);
    expect(out.text).toContain(`fake answer from ${modelName(out.model)}`);
  });

  it("escalates a plain-text refusal to a stronger model", async () => {
    fakes.openai.enqueue({ model: "gpt-4.1-mini", reply: { text: "I'm sorry, but I can't help with that." } });
    const out = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini", taskType: "reasoning" });
    expect(out.attempts[0]).toMatchObject({ model: "openai:gpt-4.1-mini", outcome: "escalated" });
    expect(out.escalated).toBe(true);
    expectStronger(out, "openai:gpt-4.1-mini");
    expect(out.text).not.toMatch(/sorry/i);
  });
});

describe("run_llm: escalation on a visible quality problem", () => {
  const PRIMARY = "openai:gpt-4.1-mini";
  const responseFormat = { type: "json_schema", schema: { type: "object", required: ["city"], properties: { city: { type: "string" } } } };
  const good = '{"city":"Lima"}';
  const ask = { prompt: "Which city is the capital of Peru? Answer as JSON.", model: PRIMARY, responseFormat };
  beforeEach(() => {
    // Whatever model the escalation picks answers with valid JSON.
    fakes.openai.setDefault({ text: good });
    fakes.anthropic.setDefault({ text: good });
  });

  it.each([
    ["prose instead of JSON", { text: "The capital of Peru is Lima." }, /not valid JSON/],
    ["JSON that misses the schema", { text: '{"country":"Peru"}' }, /does not match the requested schema/],
    ["an empty answer", { text: "" }, /empty/],
    ["an answer cut at the token limit", { text: '{"city":"Li', finishReason: "length" }, /output token limit/],
  ])("escalates %s to a stronger model", async (_what, reply, why) => {
    fakes.openai.enqueue({ model: modelName(PRIMARY), reply });
    const out = await h.ok(ask);

    expect(out.attempts.map((a) => a.outcome)).toEqual(["escalated", "ok"]);
    expect(out.attempts[0]!.model).toBe(PRIMARY);
    expect(out.attempts[0]!.message).toMatch(why);
    expect(out.attempts[0]!.message).toContain(`escalating to ${out.model}`);
    expect(out.escalated).toBe(true);
    expectStronger(out, PRIMARY);
    expect(JSON.parse(out.text)).toEqual({ city: "Lima" });
    expect(out.finishReason).toBe("stop");
  });

  it("sends the schema to the provider and strips a Markdown fence from a good answer", async () => {
    fakes.openai.enqueue({ model: modelName(PRIMARY), reply: { text: "```json\n" + good + "\n```" } });
    const out = await h.ok(ask);
    expect(out.escalated).toBe(false);
    expect(out.model).toBe(PRIMARY);
    expect(out.text).toBe(good);
    expect(requestsFor(fakes.openai, modelName(PRIMARY))[0]?.body.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "response", schema: responseFormat.schema },
    });
  });

  it("escalates only once, and keeps the first answer when the stronger model fails", async () => {
    fakes.openai.setDefault({ text: "still not json" });
    fakes.anthropic.setDefault({ text: "still not json" });
    fakes.openai.enqueue({ model: modelName(PRIMARY), reply: { text: "first answer, not json" } });
    const out = await h.ok(ask);
    // The stronger model's answer fails the check too, but there is no second escalation.
    expect(out.attempts.map((a) => a.outcome)).toEqual(["escalated", "ok"]);
    expect(out.text).toBe("still not json");

    fakes.reset();
    // Now everything after the first answer is down: the held first answer beats an error.
    fakes.openai.enqueue({ model: modelName(PRIMARY), reply: { text: "held answer" } });
    for (let i = 0; i < 20; i++) {
      fakes.openai.enqueue({ fault: { kind: "status", status: 503 } });
      fakes.anthropic.enqueue({ fault: { kind: "status", status: 503 } });
    }
    const held = await h.ok(ask);
    expect(held.text).toBe("held answer");
    expect(held.model).toBe(PRIMARY);
    expect(held.escalated).toBe(true);
    expect(held.attempts[0]).toMatchObject({ model: PRIMARY, outcome: "escalated" });
    expect(held.attempts[1]).toMatchObject({ model: out.model, outcome: "error", errorCode: "provider_unavailable" });
    expect(held.attempts.slice(1).every((a) => a.outcome !== "ok")).toBe(true);
  });
});

describe("run_llm: typed fallbacks respect the tenant's policy", () => {
  const tenant = "restricted";
  const allowed = (out: RunOutput) => out.attempts.forEach((a) => expect(ALLOWED).toContain(a.model));

  it("a context-length error moves to an allowed model with a larger window", async () => {
    fakes.anthropic.enqueue({ model: "claude-haiku-4-5", fault: { kind: "context-length" } });
    const out = await h.ok({ prompt: PROMPT, model: "anthropic:claude-haiku-4-5", tenant });
    const models = h.runtime.config.models;
    expect(out.attempts[0]).toMatchObject({ errorCode: "context_length_exceeded" });
    expect(models[out.model]!.contextWindow).toBeGreaterThan(models["anthropic:claude-haiku-4-5"]!.contextWindow);
    allowed(out);
  });

  it("a content filter skips router.failover.contentFiltered models the tenant may not use", async () => {
    expect(h.runtime.config.router.failover.contentFiltered.some((id) => !ALLOWED.includes(id))).toBe(true);
    fakes.openai.enqueue({ model: "gpt-4.1-mini", fault: { kind: "content-filter" } });
    const out = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini", tenant });
    expect(out.attempts[0]).toMatchObject({ errorCode: "content_filtered" });
    expect(out.attempts[1]).toMatchObject({ outcome: "ok" });
    allowed(out);
  });

  it("escalation picks a stronger model the tenant allows", async () => {
    fakes.openai.enqueue({ model: "gpt-4.1-nano", reply: { text: "Lima" } });
    fakes.openai.setDefault({ text: '{"city":"Lima"}' });
    fakes.anthropic.setDefault({ text: '{"city":"Lima"}' });
    const out = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-nano", tenant, responseFormat: { type: "json" } });
    expect(out.attempts.map((a) => a.outcome)).toEqual(["escalated", "ok"]);
    expect(out.escalated).toBe(true);
    expectStronger(out, "openai:gpt-4.1-nano");
    allowed(out);
    expect(JSON.parse(out.text)).toEqual({ city: "Lima" });
  });
});

describe("run_llm: answers that still fail their check", () => {
  const SCHEMA = { type: "object", required: ["city"], properties: { city: { type: "string" } } };

  it("returns the answer with a warning when no stronger model is allowed", async () => {
    // The restricted tenant's strongest model gets prose instead of JSON; nothing stronger is allowed.
    fakes.anthropic.enqueue({ model: "claude-haiku-4-5", reply: { text: "Lima, obviously." } });
    const out = await h.ok({ prompt: PROMPT, tenant: "restricted", model: "anthropic:claude-haiku-4-5", responseFormat: { type: "json_schema", schema: SCHEMA } });
    expect(out.escalated).toBe(false);
    expect((out as RunOutput & { warnings: string[] }).warnings).toEqual(["the answer is not valid JSON"]);
    expect(out.attempts.at(-1)!.message).toMatch(/not valid JSON.*no stronger model/);
  });

  it("treats escalation as one retry: if the stronger model fails, the first answer comes back flagged", async () => {
    fakes.openai.enqueue({ model: "gpt-4.1-mini", reply: { text: "not json" } });
    // Whatever the stronger model is, it fails once; later fallbacks would answer but must not be used.
    for (let i = 0; i < 4; i++) {
      fakes.openai.enqueue({ fault: { kind: "status", status: 400, message: "bad request" } });
      fakes.anthropic.enqueue({ fault: { kind: "status", status: 400, message: "bad request" } });
    }
    const out = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini", responseFormat: { type: "json_schema", schema: SCHEMA } });
    expect(out.model).toBe("openai:gpt-4.1-mini");
    expect(out.text).toBe("not json");
    expect((out as RunOutput & { warnings: string[] }).warnings).toEqual(["the answer is not valid JSON"]);
    expect(out.attempts.map((a) => a.outcome)).toEqual(["escalated", "error"]);
  });
});
