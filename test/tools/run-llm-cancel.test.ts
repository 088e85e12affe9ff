// Cancelling a run_llm call from the MCP client aborts the provider request it is waiting on.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PROMPT, startFakes, startHarness, startTcpProxy, KEYS, type Fakes, type Harness, type TcpProxy } from "./run-llm-helpers.js";

let fakes: Fakes;
let openaiProxy: TcpProxy;
let anthropicProxy: TcpProxy;
let h: Harness;

/** Rejects if `p` has not settled within `ms`: turns "never" into a clear failure instead of a test timeout. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

beforeAll(async () => {
  fakes = await startFakes();
  openaiProxy = await startTcpProxy(fakes.openai.url);
  anthropicProxy = await startTcpProxy(fakes.anthropic.url);
  // Long attempt timeouts: only the caller's cancellation can end a hanging request here.
  h = await startHarness({
    env: { OPENAI_API_KEY: KEYS.openai, ANTHROPIC_API_KEY: KEYS.anthropic, OPENAI_BASE_URL: openaiProxy.url, ANTHROPIC_BASE_URL: anthropicProxy.url },
    overlay: { router: { latencyClasses: { interactive: { attemptTimeoutMs: 15000, deadlineMs: 20000 } } } },
  });
});
afterAll(async () => {
  await h.close();
  await openaiProxy.close();
  await anthropicProxy.close();
  await fakes.close();
});
beforeEach(() => fakes.reset());

describe("run_llm: cancellation", () => {
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
