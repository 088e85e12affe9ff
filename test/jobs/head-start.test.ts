// A named model's request leaves before the decision (jobs/head-start.ts): what the caller gets is
// unchanged (the decision first, then every piece in order), and a request the decision, the
// budget or the router would not have sent is never sent or is aborted before any of it is used.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import YAML from "yaml";
import { SwitchboardError } from "../../src/errors.js";
import { runLlmPipeline, type LlmJob } from "../../src/jobs/llm-pipeline.js";
import type { CallOptions, ChatRequest, ChatResult, LlmAdapter } from "../../src/providers/types.js";
import type { Decision } from "../../src/routing/types.js";
import { Runtime } from "../../src/runtime.js";

const NAMED = "openai:gpt-4.1-mini";
const OTHER = "openai:gpt-4.1-nano";

interface Harness {
  runtime: Runtime;
  /** What happened, in order: "route", "chat <model>", "abort <model>". */
  log: string[];
}

/**
 * A runtime with an in-memory store (budgets on) whose OpenAI adapter answers at once: it hands
 * over "Li", "ma" while it is called (before any decision could exist), then resolves.
 */
function harness(tenants: Record<string, unknown> = {}): Harness {
  const overlayFile = join(mkdtempSync(join(tmpdir(), "sb-head-start-")), "overlay.yaml");
  writeFileSync(overlayFile, YAML.stringify({ tenants }));
  const runtime = new Runtime({ overlayFile, store: { dataDir: ":memory:" }, env: { OPENAI_API_KEY: "sk-test" } });
  const log: string[] = [];
  const adapter: LlmAdapter = {
    provider: "openai",
    chat(req: ChatRequest, opts: CallOptions): Promise<ChatResult> {
      log.push(`chat ${req.model}`);
      opts.signal.addEventListener("abort", () => log.push(`abort ${req.model}`), { once: true });
      opts.onDelta?.("Li");
      opts.onDelta?.("ma");
      return new Promise((resolve, reject) => {
        opts.signal.addEventListener("abort", () => reject(opts.signal.reason), { once: true });
        setImmediate(() =>
          resolve({ text: "Lima", toolCalls: [], finishReason: "stop", usage: { inputTokens: 10, outputTokens: 2, cachedInputTokens: 0 } } as ChatResult),
        );
      });
    },
  };
  runtime.providers.adapter = (p: string) => (p === "openai" ? adapter : undefined);
  const route = runtime.route.bind(runtime);
  runtime.route = (input, extra) => {
    log.push("route");
    return route(input, extra);
  };
  return { runtime, log };
}

const job = (model: string | undefined, tenant?: string, prompt = "What is the capital of Peru?"): LlmJob => ({
  route: { prompt, ...(model ? { model } : {}), ...(tenant ? { tenant } : {}) },
  call: { messages: [{ role: "user", content: prompt }], maxOutputTokens: 64 },
});

/** Runs a streamed call, noting the decision and each piece as the caller sees them. */
async function stream(h: Harness, j: LlmJob, signal = new AbortController().signal) {
  const seen: string[] = [];
  const run = await runLlmPipeline(h.runtime, undefined, j, {
    signal,
    onDecision: (d: Decision) => seen.push(`decision ${d.model}`),
    onText: (piece: string, model: string) => seen.push(`text ${piece} from ${model}`),
  });
  return { run, seen };
}

// One runtime (its store takes seconds to open); each test puts back what it replaced.
let shared: Harness | undefined;
const restore: Array<() => void> = [];
const start = () => {
  shared ??= harness({ tight: { budget: { dailyUsd: 0.5 } } });
  const { runtime } = shared;
  const route = runtime.route;
  restore.push(() => void (runtime.route = route));
  shared.log.length = 0;
  return shared;
};
afterEach(() => {
  for (const r of restore.splice(0)) r();
});
afterAll(async () => {
  await shared?.runtime.close();
});

describe("a named model's request leaves before its decision", () => {
  it("sends first once the tenant's budget has shown room, and hands the caller the decision before any piece, every piece in order", async () => {
    const h = start();
    // The tenant's first call reserves before it sends: there is no room on record yet.
    await stream(h, job(NAMED));
    expect(h.log).toEqual(["route", `chat gpt-4.1-mini`]);
    expect(h.runtime.openedBudgets()!.lastRoom("default")).toBeGreaterThan(24);

    h.log.length = 0;
    const { run, seen } = await stream(h, job(NAMED));
    expect(h.log).toEqual([`chat gpt-4.1-mini`, "route"]);
    expect(seen).toEqual([`decision ${NAMED}`, `text Li from ${NAMED}`, `text ma from ${NAMED}`]);
    expect(run.result.text).toBe("Lima");
    expect(run.model).toBe(NAMED);
    expect(run.attempts).toEqual([expect.objectContaining({ model: NAMED, outcome: "ok" })]);
  });

  it("a whole answer likewise; a routed call (model auto) waits for its decision", async () => {
    const h = start();
    await stream(h, job(NAMED));
    h.log.length = 0;
    const whole = await runLlmPipeline(h.runtime, undefined, job(NAMED), { signal: new AbortController().signal });
    expect(h.log).toEqual([`chat gpt-4.1-mini`, "route"]);
    expect(whole.result.text).toBe("Lima");

    h.log.length = 0;
    await stream(h, job(undefined));
    expect(h.log[0]).toBe("route");
  });

  it("sends nothing for a request the router refuses, nor for a tenant whose budget had little room", async () => {
    const h = start();
    await stream(h, job(NAMED));
    h.log.length = 0;
    const empty = await stream(h, job(NAMED, undefined, "   ")).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(SwitchboardError);
    expect((empty as SwitchboardError).body).toMatchObject({ code: "invalid_request", field: "prompt" });
    expect(h.log).toEqual(["route"]);

    // $0.50 a day: a worst-case answer of the dearest model for this request does not fit twice.
    await stream(h, job(NAMED, "tight"));
    h.log.length = 0;
    await stream(h, job(NAMED, "tight"));
    expect(h.log).toEqual(["route", `chat gpt-4.1-mini`]);
  });

  it("aborts the early request when the budget refuses the call after all, and the caller gets the refusal, none of the answer", async () => {
    const h = start();
    await stream(h, job(NAMED));
    const ledger = h.runtime.openedBudgets()!;
    const reserve = ledger.reserve;
    restore.push(() => void (ledger.reserve = reserve));
    ledger.reserve = () => Promise.reject(new SwitchboardError({ code: "budget_exceeded", message: "the tenant default daily ceiling of $25 would be passed", hint: "retry tomorrow.", retryable: false }));
    h.log.length = 0;
    const seen: string[] = [];
    const err = await runLlmPipeline(h.runtime, undefined, job(NAMED), { signal: new AbortController().signal, onText: (p) => seen.push(p) }).catch((e: unknown) => e);
    expect((err as SwitchboardError).body.code).toBe("budget_exceeded");
    expect(h.log).toEqual([`chat gpt-4.1-mini`, "route", `abort gpt-4.1-mini`]);
    expect(seen).toEqual([]);
  });

  it("aborts the early request when the decision chose another model, and runs the decision's", async () => {
    const h = start();
    await stream(h, job(NAMED));
    const route = h.runtime.route.bind(h.runtime);
    h.runtime.route = (input, extra) => ({ ...route(input, extra), model: OTHER, fallbacks: [] });
    h.log.length = 0;
    const { run, seen } = await stream(h, job(NAMED));
    expect(h.log).toEqual([`chat gpt-4.1-mini`, "route", `abort gpt-4.1-mini`, `chat gpt-4.1-nano`]);
    expect(run.model).toBe(OTHER);
    expect(seen).toEqual([`decision ${OTHER}`, `text Li from ${OTHER}`, `text ma from ${OTHER}`]);
  });

  it("aborts the early request when the caller goes away before the decision", async () => {
    const h = start();
    await stream(h, job(NAMED));
    h.log.length = 0;
    const caller = new AbortController();
    const route = h.runtime.route.bind(h.runtime);
    h.runtime.route = (input, extra) => {
      caller.abort(new Error("client disconnected"));
      return route(input, extra);
    };
    const err = await stream(h, job(NAMED), caller.signal).catch((e: unknown) => e);
    expect((err as SwitchboardError).body.code).toBe("cancelled");
    expect(h.log).toEqual([`chat gpt-4.1-mini`, "route", `abort gpt-4.1-mini`]);
  });
});
