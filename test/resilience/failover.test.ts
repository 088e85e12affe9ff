// runChain's ordering, with in-memory fake calls (no network): retries, breakers, typed
// fallbacks, deadlines, cancellation, escalation and the errors when everything is spent.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { SwitchboardConfig } from "../../src/config/schema.js";
import { SwitchboardError, type ErrorCode } from "../../src/errors.js";
import { ProviderFailure } from "../../src/providers/errors.js";
import { BreakerBoard } from "../../src/resilience/breakers.js";
import { runChain, type Attempt, type ChainResult, type ChainTarget } from "../../src/resilience/failover.js";

interface Answer {
  text: string;
  finishReason?: string;
}

/** What a fake call does on one try: answer, hang until aborted, throw, or anything else. */
type Step = "ok" | "hang" | Error | Answer | ((signal: AbortSignal) => Promise<Answer>);

const BASE = loadConfig({ env: {} }).config;

/** The shipped config with no backoff delays, so retries run at once. */
function config(failover: Partial<SwitchboardConfig["router"]["failover"]> = {}): SwitchboardConfig {
  return { ...BASE, router: { ...BASE.router, failover: { ...BASE.router.failover, initialDelayMs: 0, maxDelayMs: 0, ...failover } } };
}

const fail = (code: ErrorCode, retryable = false, retryAfterMs?: number) => new ProviderFailure(code, `${code} from the fake`, retryable, undefined, retryAfterMs);

/** A call that follows a script per model (then answers), and records which models it was sent to. */
function fakeCall(script: Record<string, Step[]>) {
  const calls: string[] = [];
  const call = async (id: string, signal: AbortSignal): Promise<Answer> => {
    calls.push(id);
    const step = script[id]?.shift() ?? "ok";
    if (step === "ok") return { text: `answer from ${id}` };
    if (step === "hang") {
      return new Promise((_, reject) => signal.addEventListener("abort", () => reject(Object.assign(new Error("aborted"), { name: "AbortError" }))));
    }
    if (step instanceof Error) throw step;
    if (typeof step === "function") return step(signal);
    return step;
  };
  return { calls, call };
}

interface Setup extends Partial<Omit<ChainTarget<Answer>, "call">> {
  script?: Record<string, Step[]>;
  cfg?: SwitchboardConfig;
  board?: BreakerBoard;
  signal?: AbortSignal;
  attemptTimeoutMs?: number;
  deadlineAt?: number;
  interactive?: boolean;
  samplingPossible?: boolean;
  now?: () => number;
}

/** Runs the chain; resolves with its result or its SwitchboardError, and the models called. */
async function chain(candidates: string[], s: Setup = {}): Promise<{ out?: ChainResult<Answer>; err?: SwitchboardError; calls: string[] }> {
  const cfg = s.cfg ?? config();
  const { calls, call } = fakeCall(s.script ?? {});
  try {
    const out = await runChain<Answer>(candidates, {
      cfg,
      board: s.board ?? new BreakerBoard(cfg.router.failover.breaker),
      signal: s.signal ?? new AbortController().signal,
      limits: { attemptTimeoutMs: s.attemptTimeoutMs ?? 2000, deadlineAt: s.deadlineAt ?? Date.now() + 10_000, interactive: s.interactive ?? false },
      target: {
        callable: s.callable ?? (() => true),
        call,
        ...(s.eligible ? { eligible: s.eligible } : {}),
        ...(s.check ? { check: s.check } : {}),
        ...(s.escalate ? { escalate: s.escalate } : {}),
      },
      reporting: { secrets: ["sk-test-secret"], keyHint: (p) => `${p.toUpperCase()}_API_KEY`, samplingPossible: s.samplingPossible ?? false },
      ...(s.now ? { now: s.now } : {}),
    });
    return { out, calls };
  } catch (err) {
    if (!(err instanceof SwitchboardError)) throw err;
    return { err, calls };
  }
}

const shape = (attempts: Attempt[] | unknown[] | undefined) => (attempts as Attempt[]).map((a) => [a.model, a.outcome, a.errorCode]);

const MINI = "openai:gpt-4.1-mini";
const NANO = "openai:gpt-4.1-nano";
const HAIKU = "anthropic:claude-haiku-4-5";
const SONNET = "anthropic:claude-sonnet-4-5";
const DEEPSEEK = "deepseek:deepseek-chat";
const FLASH = "openrouter:google/gemini-2.5-flash";

describe("runChain: one model", () => {
  it("returns the primary's answer when it answers", async () => {
    const { out, calls } = await chain([MINI, HAIKU]);
    expect(out).toMatchObject({ model: MINI, result: { text: `answer from ${MINI}` }, escalated: false });
    expect(out!.problem).toBeUndefined();
    expect(shape(out!.attempts)).toEqual([[MINI, "ok", undefined]]);
    expect(out!.attempts[0]).toMatchObject({ provider: "openai" });
    expect(calls).toEqual([MINI]);
  });

  it("tries each model once even when the chain names it twice", async () => {
    const { err, calls } = await chain([MINI, MINI, HAIKU, MINI], { cfg: config({ maxAttemptsPerModel: 1 }), script: { [MINI]: [fail("invalid_request")], [HAIKU]: [fail("invalid_request")] } });
    expect(calls).toEqual([MINI, HAIKU]);
    expect(err!.body.code).toBe("invalid_request");
  });

  it("retries the same model after a retryable failure, then takes its answer", async () => {
    const { out, calls } = await chain([MINI, HAIKU], { script: { [MINI]: [fail("provider_unavailable", true)] } });
    expect(shape(out!.attempts)).toEqual([
      [MINI, "error", "provider_unavailable"],
      [MINI, "ok", undefined],
    ]);
    expect(out!.model).toBe(MINI);
    expect(calls).toEqual([MINI, MINI]);
  });

  it("tries one model at most maxAttemptsPerModel times, then moves on", async () => {
    const { out, calls } = await chain([MINI, HAIKU], { cfg: config({ maxAttemptsPerModel: 3 }), script: { [MINI]: [fail("timeout", true), fail("timeout", true), fail("timeout", true)] } });
    expect(calls).toEqual([MINI, MINI, MINI, HAIKU]);
    expect(out!.model).toBe(HAIKU);
  });

  it("waits out a Retry-After that fits the deadline", async () => {
    const t0 = Date.now();
    const { out, calls } = await chain([MINI, HAIKU], { script: { [MINI]: [fail("rate_limited", true, 60)] } });
    expect(calls).toEqual([MINI, MINI]);
    expect(out!.model).toBe(MINI);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(50);
  });

  it("moves on instead of waiting when Retry-After is longer than maxRetryAfterMs or than what is left of the deadline", async () => {
    const long = await chain([MINI, HAIKU], { cfg: config({ maxRetryAfterMs: 1000 }), script: { [MINI]: [fail("rate_limited", true, 5000)] } });
    expect(long.calls).toEqual([MINI, HAIKU]);
    expect(shape(long.out!.attempts)).toEqual([
      [MINI, "error", "rate_limited"],
      [HAIKU, "ok", undefined],
    ]);

    const t0 = Date.now();
    const late = await chain([MINI, HAIKU], { deadlineAt: Date.now() + 300, script: { [MINI]: [fail("rate_limited", true, 2000)] } });
    expect(late.calls).toEqual([MINI, HAIKU]);
    expect(Date.now() - t0).toBeLessThan(250);
  });

  it("sends a non-retryable 4xx straight to the next model, its message mapped and scrubbed", async () => {
    const bad = Object.assign(new Error("bad tools schema for key sk-test-secret"), { status: 400 });
    const { out, calls } = await chain([MINI, HAIKU, NANO], { script: { [MINI]: [bad] } });
    expect(calls).toEqual([MINI, HAIKU]);
    expect(shape(out!.attempts)).toEqual([
      [MINI, "error", "invalid_request"],
      [HAIKU, "ok", undefined],
    ]);
    expect(out!.attempts[0]!.message).toMatch(/^openai refused the request \(400\)/);
    expect(out!.attempts[0]!.message).not.toContain("sk-test-secret");
  });

  it("counts a completion stopped by the content filter as a failure of that model", async () => {
    const { out } = await chain([MINI, DEEPSEEK], { script: { [MINI]: [{ text: "", finishReason: "content_filter" }] } });
    expect(out!.attempts[0]).toMatchObject({ model: MINI, outcome: "error", errorCode: "content_filtered", message: "openai's content filter stopped the answer" });
    expect(out!.model).toBe(BASE.router.failover.contentFiltered[0]);
  });
});

describe("runChain: typed fallbacks", () => {
  it("after a context-length error, goes to a larger window, even outside the chain, cheapest input first", async () => {
    // Haiku has 200k; deepseek-chat (128k) is smaller and dropped. Of the larger windows, gpt-4.1-nano is the cheapest.
    const { out, calls } = await chain([HAIKU, DEEPSEEK], { script: { [HAIKU]: [fail("context_length_exceeded")] } });
    expect(shape(out!.attempts)).toEqual([
      [HAIKU, "error", "context_length_exceeded"],
      [NANO, "ok", undefined],
    ]);
    expect(calls).toEqual([HAIKU, NANO]);
  });

  it("keeps the chain's own larger-window models first, and keeps going up in window size", async () => {
    const gpt5 = "openai:gpt-5";
    const { out, calls } = await chain([HAIKU, DEEPSEEK, gpt5], {
      script: { [HAIKU]: [fail("context_length_exceeded")], [gpt5]: [fail("context_length_exceeded")], [NANO]: [fail("context_length_exceeded")] },
    });
    // gpt-5 (400k, in the chain) before nano (1,047,576, cheapest outside it); then only Gemini's 1,048,576 is larger, Flash the cheaper.
    expect(calls).toEqual([HAIKU, gpt5, NANO, FLASH]);
    expect(out!.model).toBe(FLASH);
  });

  it("brings in only tenant-eligible, callable models with a larger window", async () => {
    const eligibleOnly = await chain([HAIKU], { eligible: (id) => !id.startsWith("openai:"), script: { [HAIKU]: [fail("context_length_exceeded")] } });
    expect(eligibleOnly.calls).toEqual([HAIKU, FLASH]);

    const callableOnly = await chain([HAIKU], { callable: (id) => !id.startsWith("openai:") && !id.startsWith("openrouter:") && !id.startsWith("google:"), script: { [HAIKU]: [fail("context_length_exceeded")] } });
    expect(callableOnly.calls).toEqual([HAIKU]);
    expect(callableOnly.err!.body).toMatchObject({ code: "context_length_exceeded", retryable: false, model: HAIKU, provider: "anthropic" });
    expect(callableOnly.err!.body.hint).toMatch(/shorten the input/);
  });

  it("after a content filter, goes to router.failover.contentFiltered first, in order", async () => {
    const [first, second] = BASE.router.failover.contentFiltered;
    expect(first).toBe(SONNET);
    const { out, calls } = await chain([MINI, DEEPSEEK], { script: { [MINI]: [fail("content_filtered")], [SONNET]: [fail("content_filtered")] } });
    expect(calls).toEqual([MINI, first, second]);
    expect(shape(out!.attempts)).toEqual([
      [MINI, "error", "content_filtered"],
      [first, "error", "content_filtered"],
      [second, "ok", undefined],
    ]);
  });

  it("leaves out content-filter alternatives the tenant may not use", async () => {
    const { calls } = await chain([MINI, DEEPSEEK], { eligible: (id) => !id.startsWith("anthropic:"), script: { [MINI]: [fail("content_filtered")] } });
    expect(calls).toEqual([MINI, "openai:gpt-4.1"]);
  });

  it("after a timeout on an interactive call, tries the fastest remaining model first", async () => {
    const slow = "openai:gpt-5";
    const rest = ["openai:o3", HAIKU, NANO];
    const interactive = await chain([slow, ...rest], { interactive: true, attemptTimeoutMs: 30, script: { [slow]: ["hang", "hang"] } });
    expect(shape(interactive.out!.attempts)).toEqual([
      [slow, "error", "timeout"],
      [slow, "error", "timeout"],
      [NANO, "ok", undefined],
    ]);
    expect(interactive.out!.attempts[0]!.message).toBe("openai did not answer in time");

    // In the background, the chain's own order stands.
    const background = await chain([slow, ...rest], { interactive: false, attemptTimeoutMs: 30, script: { [slow]: ["hang", "hang"] } });
    expect(background.out!.model).toBe("openai:o3");
  });
});

describe("runChain: breakers and credentials", () => {
  it("skips a model whose circuit is open without calling it", async () => {
    const cfg = config({ breaker: { consecutiveFailures: 1, halfOpenAfterMs: 60_000 } });
    const board = new BreakerBoard(cfg.router.failover.breaker);
    await board.get(MINI).execute(() => Promise.reject(fail("provider_unavailable", true))).catch(() => undefined);
    expect(board.isOpen(MINI)).toBe(true);

    const { out, calls } = await chain([MINI, HAIKU], { cfg, board });
    expect(calls).toEqual([HAIKU]);
    expect(out!.attempts).toEqual([
      { model: MINI, provider: "openai", outcome: "skipped", errorCode: "provider_unavailable", message: "circuit open after repeated failures", latencyMs: 0 },
      expect.objectContaining({ model: HAIKU, outcome: "ok" }),
    ]);
  });

  it("moves on when the circuit opens between tries of one model", async () => {
    const cfg = config({ breaker: { consecutiveFailures: 1, halfOpenAfterMs: 60_000 } });
    const board = new BreakerBoard(cfg.router.failover.breaker);
    const { out, calls } = await chain([MINI, HAIKU], { cfg, board, script: { [MINI]: [fail("provider_unavailable", true)] } });
    expect(calls).toEqual([MINI, HAIKU]);
    expect(shape(out!.attempts)).toEqual([
      [MINI, "error", "provider_unavailable"],
      [MINI, "skipped", "provider_unavailable"],
      [HAIKU, "ok", undefined],
    ]);
    expect(board.isOpen(MINI)).toBe(true);
  });

  it("a failure that says nothing about the model's health leaves its circuit closed", async () => {
    const cfg = config({ breaker: { consecutiveFailures: 1, halfOpenAfterMs: 60_000 } });
    const board = new BreakerBoard(cfg.router.failover.breaker);
    await chain([MINI, HAIKU], { cfg, board, script: { [MINI]: [fail("invalid_request")] } });
    expect(board.isOpen(MINI)).toBe(false);
  });

  it("skips models without credentials", async () => {
    const { out, calls } = await chain([MINI, HAIKU], { callable: (id) => id !== MINI });
    expect(calls).toEqual([HAIKU]);
    expect(out!.attempts[0]).toEqual({ model: MINI, provider: "openai", outcome: "skipped", errorCode: "no_provider_configured", message: "openai has no credentials here", latencyMs: 0 });
  });

  it("returns no_provider_configured with the keys to set when nothing in the chain was callable", async () => {
    const { err, calls } = await chain([MINI, NANO, HAIKU], { callable: () => false });
    expect(calls).toEqual([]);
    expect(err!.body).toMatchObject({
      code: "no_provider_configured",
      message: "no provider in the chain has credentials (openai, anthropic)",
      hint: "set OPENAI_API_KEY or ANTHROPIC_API_KEY in the server's environment.",
      retryable: false,
    });
    expect(shape(err!.body.attempts)).toEqual([
      [MINI, "skipped", "no_provider_configured"],
      [NANO, "skipped", "no_provider_configured"],
      [HAIKU, "skipped", "no_provider_configured"],
    ]);

    const sampling = await chain([MINI], { callable: () => false, samplingPossible: true });
    expect(sampling.err!.body.hint).toBe("set OPENAI_API_KEY in the server's environment, or call from an MCP client that supports sampling.");
  });

  it("reports the last real failure, not the missing keys, when something was called", async () => {
    const { err } = await chain([MINI, HAIKU], { callable: (id) => id === HAIKU, script: { [HAIKU]: [fail("auth_failed")] } });
    expect(err!.body).toMatchObject({ code: "auth_failed", retryable: false, model: HAIKU, provider: "anthropic", hint: "check ANTHROPIC_API_KEY: the provider rejected it." });
    expect(err!.body.message).toBe("every model in the chain failed (openai:gpt-4.1-mini: openai has no credentials here; anthropic:claude-haiku-4-5: auth_failed from the fake)");
  });
});

describe("runChain: deadline and cancellation", () => {
  it("returns timeout without calling anything when the deadline has passed", async () => {
    const { err, calls } = await chain([MINI, HAIKU], { deadlineAt: Date.now() - 1 });
    expect(calls).toEqual([]);
    expect(err!.body).toMatchObject({ code: "timeout", retryable: true, attempts: [] });
    expect(err!.body.hint).toMatch(/latency: background/);
  });

  it("stops before the next model once the deadline passes mid-chain", async () => {
    let clock = 1_000_000;
    const eatTheDeadline = async (): Promise<Answer> => {
      clock += 60_000;
      throw fail("provider_unavailable", true);
    };
    const { err, calls } = await chain([MINI, HAIKU], { now: () => clock, deadlineAt: clock + 10_000, script: { [MINI]: [eatTheDeadline] } });
    // No retry (its wait would not fit), and no next model.
    expect(calls).toEqual([MINI]);
    expect(err!.body.code).toBe("timeout");
    expect(shape(err!.body.attempts)).toEqual([[MINI, "error", "provider_unavailable"]]);
    expect(err!.body.message).toBe("every model in the chain failed (openai:gpt-4.1-mini: provider_unavailable from the fake)");
  });

  it("returns cancelled when the caller cancelled before the chain started", async () => {
    const ac = new AbortController();
    ac.abort();
    const { err, calls } = await chain([MINI], { signal: ac.signal });
    expect(calls).toEqual([]);
    expect(err!.body).toMatchObject({ code: "cancelled", message: "the request was cancelled by the caller", retryable: true, attempts: [] });
  });

  it("returns cancelled, without trying another model, when the caller cancels mid-call", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const { err, calls } = await chain([MINI, HAIKU], { signal: ac.signal, script: { [MINI]: ["hang"] } });
    expect(calls).toEqual([MINI]);
    expect(err!.body).toMatchObject({ code: "cancelled", retryable: true });
    expect(shape(err!.body.attempts)).toEqual([[MINI, "error", "cancelled"]]);
  });

  it("returns cancelled with the reason when the client declines (nothing aborted)", async () => {
    const declined = new ProviderFailure("cancelled", "the client declined the sampling request", false);
    const { err, calls } = await chain([MINI, HAIKU], { script: { [MINI]: [declined] } });
    expect(calls).toEqual([MINI]);
    expect(err!.body).toMatchObject({ code: "cancelled", message: "the client declined the sampling request", retryable: false });
    expect(err!.body.hint).toMatch(/client declined/);
  });
});

describe("runChain: escalation", () => {
  const EMPTY = "the answer was empty";
  /** Fails the answer of `weak` only. */
  const checkOf = (weak: string) => (r: Answer) => (r.text === `answer from ${weak}` ? EMPTY : null);

  it("escalates once to the model escalate() names, and returns its answer", async () => {
    const asked: string[] = [];
    const { out, calls } = await chain([NANO, MINI], {
      check: checkOf(NANO),
      escalate: (failed) => {
        asked.push(failed);
        return SONNET;
      },
    });
    expect(asked).toEqual([NANO]);
    expect(calls).toEqual([NANO, SONNET]);
    expect(out).toMatchObject({ model: SONNET, escalated: true });
    expect(out!.problem).toBeUndefined();
    expect(shape(out!.attempts)).toEqual([
      [NANO, "escalated", undefined],
      [SONNET, "ok", undefined],
    ]);
    expect(out!.attempts[0]!.message).toBe(`${EMPTY}; escalating to ${SONNET}`);
  });

  it("tells escalate() which models are usable: callable, eligible, circuit closed, not tried", async () => {
    const cfg = config({ breaker: { consecutiveFailures: 1, halfOpenAfterMs: 60_000 } });
    const board = new BreakerBoard(cfg.router.failover.breaker);
    await board.get("openai:o3").execute(() => Promise.reject(fail("timeout", true))).catch(() => undefined);
    let seen: Record<string, boolean> = {};
    await chain([NANO], {
      cfg,
      board,
      callable: (id) => id !== "openai:gpt-5",
      eligible: (id) => id !== "anthropic:claude-opus-4-5",
      check: checkOf(NANO),
      escalate: (_failed, usable) => {
        seen = Object.fromEntries([NANO, "openai:gpt-5", "anthropic:claude-opus-4-5", "openai:o3", SONNET].map((id) => [id, usable(id)]));
        return undefined;
      },
    });
    expect(seen).toEqual({ [NANO]: false, "openai:gpt-5": false, "anthropic:claude-opus-4-5": false, "openai:o3": false, [SONNET]: true });
  });

  it("keeps the first answer, with its problem, when the stronger model fails", async () => {
    const { out, calls } = await chain([NANO, MINI], { check: checkOf(NANO), escalate: () => SONNET, script: { [SONNET]: [fail("invalid_request")] } });
    // The escalation is one try: no fallback after the stronger model fails.
    expect(calls).toEqual([NANO, SONNET]);
    expect(out).toMatchObject({ model: NANO, result: { text: `answer from ${NANO}` }, escalated: true, problem: EMPTY });
    expect(shape(out!.attempts)).toEqual([
      [NANO, "escalated", undefined],
      [SONNET, "error", "invalid_request"],
    ]);
  });

  it("keeps the first answer when the stronger model is skipped", async () => {
    const { out, calls } = await chain([NANO], { callable: (id) => id !== SONNET, check: checkOf(NANO), escalate: () => SONNET });
    expect(calls).toEqual([NANO]);
    expect(out).toMatchObject({ model: NANO, escalated: true, problem: EMPTY });
    expect(shape(out!.attempts)).toEqual([
      [NANO, "escalated", undefined],
      [SONNET, "skipped", "no_provider_configured"],
    ]);
  });

  it("escalates only once: a stronger answer that also fails its check is returned as is", async () => {
    let asked = 0;
    const { out, calls } = await chain([NANO], {
      check: () => EMPTY,
      escalate: () => {
        asked++;
        return SONNET;
      },
    });
    expect(asked).toBe(1);
    expect(calls).toEqual([NANO, SONNET]);
    expect(out).toMatchObject({ model: SONNET, escalated: true, problem: EMPTY });
    expect(out!.attempts[1]!.message).toBe(`${EMPTY} (returned as is: no stronger model is available)`);
  });

  it("returns the answer as is when there is nothing to escalate to, or escalation is off", async () => {
    const none = await chain([NANO], { check: checkOf(NANO), escalate: () => undefined });
    expect(none.out).toMatchObject({ model: NANO, escalated: false, problem: EMPTY });
    expect(shape(none.out!.attempts)).toEqual([[NANO, "ok", undefined]]);
    expect(none.out!.attempts[0]!.message).toBe(`${EMPTY} (returned as is: no stronger model is available)`);

    const without = await chain([NANO], { check: checkOf(NANO) });
    expect(without.out).toMatchObject({ model: NANO, escalated: false, problem: EMPTY });

    let asked = false;
    const off = await chain([NANO], {
      cfg: config({ escalate: false }),
      check: checkOf(NANO),
      escalate: () => {
        asked = true;
        return SONNET;
      },
    });
    expect(asked).toBe(false);
    expect(off.calls).toEqual([NANO]);
    expect(off.out).toMatchObject({ model: NANO, escalated: false, problem: EMPTY });
  });
});
