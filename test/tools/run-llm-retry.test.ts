// run_llm retries and fallbacks for transient and permanent provider failures: what is retried on
// the same model, what moves down the chain at once, and that the SDKs never retry on their own.
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import type { Progress } from "@modelcontextprotocol/sdk/types.js";
import { modelName } from "../../src/config/catalog.js";
import { fakeEnv, requestsFor, startFakes, type Fakes } from "../helpers/llm-fakes.js";
import { PROMPT, startRunLlmHarness, type RunLlmHarness } from "../helpers/run-llm.js";

const PRIMARY = "openai:gpt-4.1-mini";
const P = modelName(PRIMARY);

let fakes: Fakes;
let h: RunLlmHarness;
let fallbacks: string[];

beforeAll(async () => {
  fakes = await startFakes();
  h = await startRunLlmHarness({ env: fakeEnv({ openai: fakes.openai.url, anthropic: fakes.anthropic.url }) });
  const decision = (await h.client.callTool({ name: "route_task", arguments: { prompt: PROMPT, model: PRIMARY } })).structuredContent as {
    fallbacks: Array<{ model: string }>;
  };
  fallbacks = decision.fallbacks.map((f) => f.model);
});
afterAll(async () => {
  await h.close();
  await fakes.close();
});
// Fresh breakers for every test: failures here must not leak into the next test's chain.
beforeEach(() => {
  fakes.reset();
  h.resetBreakers();
});

const call = (extra: Record<string, unknown> = {}) => h.ok({ prompt: PROMPT, model: PRIMARY, ...extra });
const shape = (attempts: Array<{ model: string; outcome: string; errorCode?: string }>) => attempts.map((a) => [a.model, a.outcome, a.errorCode]);

describe("run_llm: retry on the same model", () => {
  it("retries a 429 with Retry-After 0 on the same model, with SDK retries off", async () => {
    fakes.openai.enqueue({ model: P, fault: { kind: "status", status: 429, retryAfter: 0 } });
    const out = await call();
    expect(shape(out.attempts)).toEqual([
      [PRIMARY, "error", "rate_limited"],
      [PRIMARY, "ok", undefined],
    ]);
    expect(out.model).toBe(PRIMARY);
    expect(out.attempts[0]!.message).toMatch(/rate limit/);
    // Exactly the two requests Switchboard made: the SDK added none of its own.
    expect(fakes.openai.requests).toHaveLength(2);
    expect(fakes.openai.requests.map((r) => r.headers["x-stainless-retry-count"])).toEqual(["0", "0"]);
    expect(fakes.anthropic.requests).toHaveLength(0);
  });

  it("retries an Anthropic 529 overload on the same model, with SDK retries off", async () => {
    fakes.anthropic.enqueue({ model: "claude-haiku-4-5", fault: { kind: "status", status: 529 } });
    const out = await h.ok({ prompt: PROMPT, model: "anthropic:claude-haiku-4-5" });
    expect(shape(out.attempts)).toEqual([
      ["anthropic:claude-haiku-4-5", "error", "provider_unavailable"],
      ["anthropic:claude-haiku-4-5", "ok", undefined],
    ]);
    expect(fakes.anthropic.requests.map((r) => r.headers["x-stainless-retry-count"])).toEqual(["0", "0"]);
    expect(fakes.openai.requests).toHaveLength(0);
  });

  it("honours a Retry-After that fits the budget before retrying the same model", async () => {
    fakes.openai.enqueue({ model: P, fault: { kind: "status", status: 429, retryAfter: 1 } });
    const out = await call();
    expect(shape(out.attempts)).toEqual([
      [PRIMARY, "error", "rate_limited"],
      [PRIMARY, "ok", undefined],
    ]);
    const [first, second] = requestsFor(fakes.openai, P);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it("moves to the next model at once when Retry-After exceeds maxRetryAfterMs", async () => {
    fakes.openai.enqueue({ model: P, fault: { kind: "status", status: 429, retryAfter: 30 } });
    const t0 = Date.now();
    const out = await call();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(shape(out.attempts)).toEqual([
      [PRIMARY, "error", "rate_limited"],
      [fallbacks[0], "ok", undefined],
    ]);
    expect(requestsFor(fakes.openai, P)).toHaveLength(1);
  });

  it("retries a timeout on the same model", async () => {
    fakes.openai.enqueue({ model: P, fault: { kind: "hang" } });
    const out = await call();
    expect(shape(out.attempts)).toEqual([
      [PRIMARY, "error", "timeout"],
      [PRIMARY, "ok", undefined],
    ]);
    expect(out.attempts[0]!.latencyMs).toBeGreaterThanOrEqual(250);
    expect(out.attempts[0]!.latencyMs).toBeLessThan(1500);
  });

  it("retries a connection reset as provider_unavailable", async () => {
    fakes.openai.enqueue({ model: P, fault: { kind: "reset" } });
    const out = await call();
    expect(shape(out.attempts)).toEqual([
      [PRIMARY, "error", "provider_unavailable"],
      [PRIMARY, "ok", undefined],
    ]);
    expect(out.attempts[0]!.message).toMatch(/openai/);
    expect(requestsFor(fakes.openai, P)).toHaveLength(2);
  });

  it("retries a malformed JSON body as provider_unavailable", async () => {
    fakes.openai.enqueue({ model: P, fault: { kind: "malformed" } });
    const out = await call();
    expect(shape(out.attempts)).toEqual([
      [PRIMARY, "error", "provider_unavailable"],
      [PRIMARY, "ok", undefined],
    ]);
  });

  it("retries a malformed Anthropic body as provider_unavailable", async () => {
    fakes.anthropic.enqueue({ model: "claude-haiku-4-5", fault: { kind: "malformed" } });
    const out = await h.ok({ prompt: PROMPT, model: "anthropic:claude-haiku-4-5" });
    expect(shape(out.attempts)).toEqual([
      ["anthropic:claude-haiku-4-5", "error", "provider_unavailable"],
      ["anthropic:claude-haiku-4-5", "ok", undefined],
    ]);
  });
});

describe("run_llm: fail over", () => {
  it.each([
    [500, 503],
    [503, 503],
  ])("fails over to another provider after %i then %i on the primary", async (a, b) => {
    fakes.openai.enqueue({ model: P, fault: { kind: "status", status: a } }, { model: P, fault: { kind: "status", status: b } });
    const out = await call();
    expect(shape(out.attempts)).toEqual([
      [PRIMARY, "error", "provider_unavailable"],
      [PRIMARY, "error", "provider_unavailable"],
      [fallbacks[0], "ok", undefined],
    ]);
    expect(out.attempts[0]!.message).toContain(String(a));
    expect(out.attempts[1]!.message).toContain(String(b));
    expect(out.provider).not.toBe("openai");
    expect(out.model).toBe(fallbacks[0]);
    expect(out.text).toContain(`fake answer from ${modelName(fallbacks[0]!)}`);
    expect(requestsFor(fakes.openai, P)).toHaveLength(2);
  });

  it.each([
    [400, "invalid_request"],
    [401, "auth_failed"],
    [403, "auth_failed"],
    [404, "invalid_request"],
  ])("never retries a %i on the same model (%s), and falls back", async (status, code) => {
    fakes.openai.enqueue({ model: P, fault: { kind: "status", status } });
    const out = await call();
    expect(shape(out.attempts)).toEqual([
      [PRIMARY, "error", code],
      [fallbacks[0], "ok", undefined],
    ]);
    expect(requestsFor(fakes.openai, P)).toHaveLength(1);
    expect(out.model).toBe(fallbacks[0]);
  });

  it("never retries an Anthropic 401 on the same model", async () => {
    fakes.anthropic.enqueue({ model: "claude-haiku-4-5", fault: { kind: "status", status: 401 } });
    const out = await h.ok({ prompt: PROMPT, model: "anthropic:claude-haiku-4-5" });
    expect(out.attempts[0]).toMatchObject({ model: "anthropic:claude-haiku-4-5", outcome: "error", errorCode: "auth_failed" });
    expect(out.attempts[1]).toMatchObject({ provider: "openai", outcome: "ok" });
    expect(requestsFor(fakes.anthropic, "claude-haiku-4-5")).toHaveLength(1);
  });

  it("falls back after two hangs, to the fastest remaining model, well inside the deadline", async () => {
    fakes.openai.enqueue({ model: P, fault: { kind: "hang" } }, { model: P, fault: { kind: "hang" } });
    const t0 = Date.now();
    const out = await call();
    const elapsed = Date.now() - t0;

    expect(shape(out.attempts)).toEqual([
      [PRIMARY, "error", "timeout"],
      [PRIMARY, "error", "timeout"],
      [expect.any(String), "ok", undefined],
    ]);
    // A person is waiting: after a timeout the fastest remaining fallback goes first.
    const models = h.runtime.config.models;
    const fastest = [...fallbacks].sort((x, y) => models[x]!.latencyMs - models[y]!.latencyMs)[0];
    expect(out.model).toBe(fastest);
    expect(out.model).not.toBe(PRIMARY);
    // Two 300 ms attempt timeouts and one quick answer: far below the 5 s deadline.
    expect(elapsed).toBeLessThan(2000);
    expect(out.latencyMs).toBeLessThan(2000);
  });

  it("falls back when an Anthropic primary hangs twice", async () => {
    fakes.anthropic.enqueue({ model: "claude-haiku-4-5", fault: { kind: "hang" } }, { model: "claude-haiku-4-5", fault: { kind: "hang" } });
    const out = await h.ok({ prompt: PROMPT, model: "anthropic:claude-haiku-4-5" });
    expect(out.attempts.slice(0, 2).map((a) => a.errorCode)).toEqual(["timeout", "timeout"]);
    expect(out.provider).toBe("openai");
  });

  it("falls back after two connection resets", async () => {
    fakes.openai.enqueue({ model: P, fault: { kind: "reset" } }, { model: P, fault: { kind: "reset" } });
    const out = await call();
    expect(shape(out.attempts)).toEqual([
      [PRIMARY, "error", "provider_unavailable"],
      [PRIMARY, "error", "provider_unavailable"],
      [fallbacks[0], "ok", undefined],
    ]);
  });
});

describe("run_llm: overall deadline", () => {
  it("stops at the deadline with a timeout error when every model hangs", async () => {
    const short = await startRunLlmHarness({
      env: fakeEnv({ openai: fakes.openai.url, anthropic: fakes.anthropic.url }),
      overlay: { router: { latencyClasses: { interactive: { attemptTimeoutMs: 300, deadlineMs: 1000 } } } },
    });
    onTestFinished(() => short.close());
    for (let i = 0; i < 20; i++) {
      fakes.openai.enqueue({ fault: { kind: "hang" } });
      fakes.anthropic.enqueue({ fault: { kind: "hang" } });
    }
    const t0 = Date.now();
    const err = await short.fail({ prompt: PROMPT, model: PRIMARY });
    const elapsed = Date.now() - t0;
    expect(err.code).toBe("timeout");
    expect(err.retryable).toBe(true);
    expect(err.hint).toMatch(/attemptTimeoutMs|background/);
    expect(err.attempts!.length).toBeGreaterThanOrEqual(3);
    expect(err.attempts!.every((a) => a.errorCode === "timeout")).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(1600);
  });
});

describe("run_llm: streams cut mid-answer", () => {
  const long = Array.from({ length: 40 }, (_, i) => `part ${i} of the complete streamed answer.`).join(" ");
  const progress: Progress[] = [];
  const streaming = { onprogress: (p: Progress) => void progress.push(p) };
  beforeEach(() => {
    progress.length = 0;
    fakes.openai.setDefault({ text: long, chunks: 20 });
    fakes.anthropic.setDefault({ text: long, chunks: 20 });
  });

  it("never returns the cut text: the retry's whole answer comes back", async () => {
    fakes.openai.enqueue({ model: P, fault: { kind: "stream-cut", afterChunks: 8 } });
    const out = await h.ok({ prompt: PROMPT, model: PRIMARY }, streaming);
    expect(fakes.openai.requests.every((r) => r.body.stream === true)).toBe(true);
    expect(shape(out.attempts)).toEqual([
      [PRIMARY, "error", "provider_unavailable"],
      [PRIMARY, "ok", undefined],
    ]);
    expect(out.text).toBe(long);
    expect(progress.length).toBeGreaterThan(1);
  });

  it("never returns the cut text: a fallback's whole answer comes back", async () => {
    fakes.openai.enqueue({ model: P, fault: { kind: "stream-cut", afterChunks: 8 } }, { model: P, fault: { kind: "stream-cut", afterChunks: 15 } });
    const out = await h.ok({ prompt: PROMPT, model: PRIMARY }, streaming);
    expect(shape(out.attempts)).toEqual([
      [PRIMARY, "error", "provider_unavailable"],
      [PRIMARY, "error", "provider_unavailable"],
      [fallbacks[0], "ok", undefined],
    ]);
    expect(out.text).toBe(long);
  });

  it("treats a stream cut after the last text chunk as a failure too", async () => {
    // role chunk + 20 text chunks + finish chunk: the text is all there, the stream is not.
    fakes.openai.enqueue({ model: P, fault: { kind: "stream-cut", afterChunks: 21 } }, { model: P, fault: { kind: "stream-cut", afterChunks: 21 } });
    fakes.anthropic.setDefault({ text: "the fallback's answer", chunks: 3 });
    const out = await h.ok({ prompt: PROMPT, model: PRIMARY }, streaming);
    expect(out.attempts.slice(0, 2).map((a) => a.errorCode)).toEqual(["provider_unavailable", "provider_unavailable"]);
    expect(out.text).toBe("the fallback's answer");
  });

  it("never returns a cut Anthropic stream", async () => {
    fakes.anthropic.enqueue({ model: "claude-haiku-4-5", fault: { kind: "stream-cut", afterChunks: 6 } });
    const out = await h.ok({ prompt: PROMPT, model: "anthropic:claude-haiku-4-5" }, streaming);
    expect(shape(out.attempts)).toEqual([
      ["anthropic:claude-haiku-4-5", "error", "provider_unavailable"],
      ["anthropic:claude-haiku-4-5", "ok", undefined],
    ]);
    expect(out.text).toBe(long);
  });

  it("treats malformed SSE frames as provider_unavailable", async () => {
    fakes.openai.enqueue({ model: P, fault: { kind: "malformed" } });
    const out = await h.ok({ prompt: PROMPT, model: PRIMARY }, streaming);
    expect(shape(out.attempts)).toEqual([
      [PRIMARY, "error", "provider_unavailable"],
      [PRIMARY, "ok", undefined],
    ]);
    expect(out.text).toBe(long);
  });
});
