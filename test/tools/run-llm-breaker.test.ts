// run_llm's chain state within and across calls: circuit breakers, the structured error when every
// option is spent (providers down, no keys), and cancellation by the caller.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { modelName } from "../../src/config/catalog.js";
import { KEYS, fakeEnv, requestsFor, startFakes, type Fakes } from "../helpers/llm-fakes.js";
import { PROMPT, startRunLlmHarness, type RunLlmHarness } from "../helpers/run-llm.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";

const PRIMARY = "openai:gpt-4.1-mini";
const P = modelName(PRIMARY);

let fakes: Fakes;

beforeAll(async () => {
  fakes = await startFakes();
});
afterAll(async () => {
  await fakes.close();
});
beforeEach(() => fakes.reset());

/** Rejects if `p` has not settled within `ms`: turns "never" into a clear failure instead of a test timeout. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

const env = () => fakeEnv({ openai: fakes.openai.url, anthropic: fakes.anthropic.url });
const down = (n = 40) => {
  for (let i = 0; i < n; i++) {
    fakes.openai.enqueue({ fault: { kind: "status", status: 503 } });
    fakes.anthropic.enqueue({ fault: { kind: "status", status: 503 } });
  }
};

describe("run_llm: circuit breaker", () => {
  let h: RunLlmHarness;
  beforeAll(async () => {
    // Three consecutive failures open a circuit: it takes more than one call to get there.
    h = await startRunLlmHarness({ env: env(), overlay: { router: { failover: { breaker: { consecutiveFailures: 3 } } } } });
  });
  afterAll(() => h.close());

  it("opens the primary's circuit after failures across calls, then skips it at once", async () => {
    // Call 1: two 503s (both tries), the circuit is still closed, the fallback answers.
    fakes.openai.enqueue({ model: P, fault: { kind: "status", status: 503 } }, { model: P, fault: { kind: "status", status: 503 } });
    const first = await h.ok({ prompt: PROMPT, model: PRIMARY });
    expect(first.attempts.map((a) => [a.model, a.outcome])).toEqual([
      [PRIMARY, "error"],
      [PRIMARY, "error"],
      [first.model, "ok"],
    ]);
    let status = await h.readStatus();
    expect(status.providers.find((p) => p.name === "openai")!.breakers).toContainEqual({ id: PRIMARY, state: "closed", openings: 0 });

    // Call 2: the third 503 opens the circuit; the retry is refused by the breaker, not sent.
    fakes.openai.enqueue({ model: P, fault: { kind: "status", status: 503 } }, { model: P, fault: { kind: "status", status: 503 } });
    const second = await h.ok({ prompt: PROMPT, model: PRIMARY });
    expect(second.attempts[0]).toMatchObject({ model: PRIMARY, outcome: "error", errorCode: "provider_unavailable" });
    expect(second.attempts[1]).toMatchObject({ model: PRIMARY, outcome: "skipped", errorCode: "provider_unavailable" });
    expect(second.attempts[1]!.message).toMatch(/circuit/);
    expect(second.attempts.at(-1)!.outcome).toBe("ok");
    expect(requestsFor(fakes.openai, P)).toHaveLength(3);

    status = await h.readStatus();
    const openai = status.providers.find((p) => p.name === "openai")!;
    expect(openai.breakers).toContainEqual({ id: PRIMARY, state: "open", openings: 1 });
    expect(openai.configured).toBe(true);
    expect(openai.keyEnv).toBe("OPENAI_API_KEY");

    // Call 3: skipped without a request, and quickly.
    fakes.reset();
    const t0 = Date.now();
    const third = await h.ok({ prompt: PROMPT, model: PRIMARY });
    expect(Date.now() - t0).toBeLessThan(500);
    expect(third.attempts[0]).toEqual({ model: PRIMARY, provider: "openai", outcome: "skipped", errorCode: "provider_unavailable", message: expect.stringMatching(/circuit/), latencyMs: 0 });
    expect(third.attempts[1]).toMatchObject({ outcome: "ok" });
    expect(third.model).not.toBe(PRIMARY);
    expect(requestsFor(fakes.openai, P)).toHaveLength(0);
  });

  it("keeps other models' circuits closed", async () => {
    const status = await h.readStatus();
    const all = status.providers.flatMap((p) => p.breakers);
    expect(all.filter((b) => b.state === "open").map((b) => b.id)).toEqual([PRIMARY]);
    expect(all.length).toBeGreaterThan(1);
  });

  it("does not count a bad request against the model's health", async () => {
    const other = "anthropic:claude-haiku-4-5";
    for (let i = 0; i < 4; i++) {
      fakes.anthropic.enqueue({ model: modelName(other), fault: { kind: "status", status: 400 } });
      const out = await h.ok({ prompt: PROMPT, model: other });
      expect(out.attempts[0]).toMatchObject({ model: other, outcome: "error", errorCode: "invalid_request" });
    }
    const status = await h.readStatus();
    expect(status.providers.find((p) => p.name === "anthropic")!.breakers).toContainEqual({ id: other, state: "closed", openings: 0 });
  });
});

describe("run_llm: every provider down", () => {
  let h: RunLlmHarness;
  beforeAll(async () => {
    h = await startRunLlmHarness({ env: env() });
  });
  afterAll(() => h.close());

  it("returns provider_unavailable with every model in the attempts", async () => {
    const decision = (await h.client.callTool({ name: "route_task", arguments: { prompt: PROMPT, model: PRIMARY } })).structuredContent as {
      fallbacks: Array<{ model: string }>;
    };
    const chain = [PRIMARY, ...decision.fallbacks.map((f) => f.model)];
    down();
    const err = await h.fail({ prompt: PROMPT, model: PRIMARY });

    expect(err.code).toBe("provider_unavailable");
    expect(err.retryable).toBe(true);
    expect(err.hint).toMatch(/retry later|another provider/);
    expect(err.message).toMatch(/every model in the chain failed/);
    expect(new Set(err.attempts!.map((a) => a.model))).toEqual(new Set(chain));
    expect(err.attempts!.every((a) => a.outcome === "error" && a.errorCode === "provider_unavailable")).toBe(true);
    // Two tries per model, no more.
    for (const id of chain) expect(err.attempts!.filter((a) => a.model === id)).toHaveLength(2);
    expect(err.model).toBe(chain.at(-1));
    expect(fakes.openai.requests.length + fakes.anthropic.requests.length).toBe(chain.length * 2);
  });

  it("then skips the open circuits at once and still answers errors quickly", async () => {
    const t0 = Date.now();
    const err = await h.fail({ prompt: PROMPT, model: PRIMARY });
    expect(Date.now() - t0).toBeLessThan(500);
    expect(err.code).toBe("provider_unavailable");
    expect(err.retryable).toBe(true);
    expect(err.attempts!.every((a) => a.outcome === "skipped" && /circuit/.test(a.message ?? ""))).toBe(true);
    expect(fakes.openai.requests.length + fakes.anthropic.requests.length).toBe(0);
  });

  it("keeps serving: another model still answers and route_task still works", async () => {
    const out = await h.ok({ prompt: PROMPT, model: "anthropic:claude-sonnet-4-5" });
    expect(out.model).toBe("anthropic:claude-sonnet-4-5");
    expect(out.attempts).toHaveLength(1);
    const routed = await h.client.callTool({ name: "route_task", arguments: { prompt: PROMPT } });
    expect(routed.isError).toBeFalsy();
  });

  it("reports the last failure's retryability: auth failures everywhere are not retryable", async () => {
    const fresh = await startRunLlmHarness({ env: env() });
    try {
      for (let i = 0; i < 20; i++) {
        fakes.openai.enqueue({ fault: { kind: "status", status: 401 } });
        fakes.anthropic.enqueue({ fault: { kind: "status", status: 401 } });
      }
      const err = await fresh.fail({ prompt: PROMPT, model: PRIMARY });
      expect(err.code).toBe("auth_failed");
      expect(err.retryable).toBe(false);
      expect(err.hint).toMatch(/(OPENAI|ANTHROPIC)_API_KEY/);
      // Auth failures are never retried on the same model.
      const models = err.attempts!.map((a) => a.model);
      expect(new Set(models).size).toBe(models.length);
    } finally {
      await fresh.close();
    }
  });
});

describe("run_llm: no credentials", () => {
  let h: RunLlmHarness;
  beforeAll(async () => {
    h = await startRunLlmHarness({ env: {} });
  });
  afterAll(() => h.close());

  it("returns no_provider_configured naming the env vars, with every model skipped", async () => {
    const err = await h.fail({ prompt: PROMPT });
    expect(err.code).toBe("no_provider_configured");
    expect(err.retryable).toBe(false);
    expect(err.attempts!.length).toBeGreaterThan(1);
    expect(err.attempts!.every((a) => a.outcome === "skipped" && a.errorCode === "no_provider_configured")).toBe(true);
    const providers = [...new Set(err.attempts!.map((a) => a.provider))];
    for (const p of providers) {
      expect(err.message).toContain(p);
      expect(err.hint).toContain(h.runtime.config.providers[p]!.apiKeyEnv!);
    }
    expect(err.hint).toMatch(/OPENAI_API_KEY/);
    expect(err.hint).toMatch(/sampling/);
  });

  it("names the forced model's provider's env var", async () => {
    const err = await h.fail({ prompt: PROMPT, model: "anthropic:claude-haiku-4-5" });
    expect(err.code).toBe("no_provider_configured");
    expect(err.attempts![0]).toMatchObject({ model: "anthropic:claude-haiku-4-5", outcome: "skipped" });
    expect(err.hint).toContain("ANTHROPIC_API_KEY");
  });
});

describe("run_llm: cancellation", () => {
  let openaiProxy: TcpProxy;
  let anthropicProxy: TcpProxy;
  let h: RunLlmHarness;
  beforeAll(async () => {
    openaiProxy = await startTcpProxy(fakes.openai.url);
    anthropicProxy = await startTcpProxy(fakes.anthropic.url);
    // Long attempt timeouts: only the caller's cancellation can end a hanging request here.
    h = await startRunLlmHarness({
      env: { OPENAI_API_KEY: KEYS.openai, ANTHROPIC_API_KEY: KEYS.anthropic, OPENAI_BASE_URL: openaiProxy.url, ANTHROPIC_BASE_URL: anthropicProxy.url },
      overlay: { router: { latencyClasses: { interactive: { attemptTimeoutMs: 15000, deadlineMs: 20000 } } } },
    });
  });
  afterAll(async () => {
    await h.close();
    await openaiProxy.close();
    await anthropicProxy.close();
  });

  it.each([
    ["openai:gpt-4.1-mini", () => fakes.openai, () => openaiProxy, () => fakes.anthropic],
    ["anthropic:claude-haiku-4-5", () => fakes.anthropic, () => anthropicProxy, () => fakes.openai],
  ] as const)("aborting a call to a hanging %s rejects at once and closes the provider request", async (model, fake, proxy, other) => {
    fake().enqueue({ fault: { kind: "hang" } });
    const ac = new AbortController();
    const pending = h.client.callTool({ name: "run_llm", arguments: { prompt: PROMPT, model } }, undefined, { signal: ac.signal });
    const outcome = pending.then(
      () => "resolved",
      (e: unknown) => e,
    );

    await fake().waitForRequests(1);
    const requestSocketClosed = proxy().lastActiveClosed();
    let closedEarly = false;
    void requestSocketClosed.then(() => (closedEarly = true));
    const t0 = Date.now();
    expect(closedEarly).toBe(false);
    ac.abort();
    const err = await within(outcome, 500, "client rejection");
    expect(Date.now() - t0).toBeLessThan(500);
    expect(err).toBeInstanceOf(Error);

    // The server passed the cancellation down: the provider connection is torn down long before any timeout.
    await within(requestSocketClosed, 2000, "provider socket close");

    // The chain stopped: no fallback was called, and the server keeps answering.
    const res = await h.client.callTool({ name: "run_llm", arguments: { prompt: PROMPT, model } });
    expect(res.isError).toBeFalsy();
    expect(other().requests).toHaveLength(0);
    expect(fake().requests).toHaveLength(2);
  });
});
