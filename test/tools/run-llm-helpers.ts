// Shared harness for the run_llm suites: provider fakes, a Runtime with fast failover timings,
// an MCP client over an in-memory transport, and typed views of run_llm's result and error.
import { createServer as createTcpServer, connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { expect } from "vitest";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, CreateMessageRequest, CreateMessageResult } from "@modelcontextprotocol/sdk/types.js";
import type { Runtime } from "../../src/runtime.js";
import { deepMerge } from "../../src/config/load.js";
import { modelName } from "../../src/config/catalog.js";
import { BreakerBoard } from "../../src/resilience/breakers.js";
import { expectNoSecrets as expectNoSecretsIn, startMcpHarness } from "../helpers/mcp-harness.js";
import { startOpenAIFake, type FakeServer, type RecordedRequest } from "../fakes/openai-fake.js";
import { startAnthropicFake } from "../fakes/anthropic-fake.js";

export type { FakeServer, RecordedRequest };

/** Distinctive keys: one shaped like an OpenAI key, one that no key pattern would catch. */
export const KEYS = { openai: "sk-test-SECRETKEY-123", anthropic: "ant-test-SECRETKEY-456" } as const;
export const SECRETS = [KEYS.openai, KEYS.anthropic, "SECRETKEY"];

/** Shrunk timings so failures resolve in milliseconds. */
export const FAST_OVERLAY = {
  router: {
    failover: {
      maxAttemptsPerModel: 2,
      initialDelayMs: 1,
      maxDelayMs: 5,
      maxRetryAfterMs: 2000,
      breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60000 },
    },
    latencyClasses: { interactive: { attemptTimeoutMs: 300, deadlineMs: 5000 } },
  },
};

export const PROMPT = "What is the capital of Peru?";

export interface Attempt {
  model: string;
  provider: string;
  outcome: "ok" | "error" | "skipped" | "escalated";
  errorCode?: string;
  message?: string;
  latencyMs: number;
}

export interface RunOutput {
  text: string;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  model: string;
  provider: string;
  finishReason: string;
  decision: {
    requestId: string;
    mode: string;
    taskType: string;
    complexity: string;
    costTier: string;
    tier: string;
    confidence: number;
    reason: string;
    tools: string[];
    mcpTools: string[];
    routedModel: string;
  };
  attempts: Attempt[];
  escalated: boolean;
  usage: { inputTokens: number; outputTokens: number; cachedInputTokens: number };
  costUsd: number;
  latencyMs: number;
}

export interface ErrorBody {
  code: string;
  message: string;
  hint?: string;
  retryable: boolean;
  provider?: string;
  model?: string;
  attempts?: Attempt[];
}

export interface Fakes {
  openai: FakeServer;
  anthropic: FakeServer;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakes(): Promise<Fakes> {
  const [openai, anthropic] = await Promise.all([startOpenAIFake(), startAnthropicFake()]);
  return {
    openai,
    anthropic,
    reset: () => {
      openai.reset();
      anthropic.reset();
    },
    close: async () => {
      await Promise.all([openai.close(), anthropic.close()]);
    },
  };
}

/** The env a Runtime gets: both keys and base URLs pointing at the fakes (or other URLs). */
export function fakeEnv(urls: { openai: string; anthropic: string }): NodeJS.ProcessEnv {
  return { OPENAI_API_KEY: KEYS.openai, ANTHROPIC_API_KEY: KEYS.anthropic, OPENAI_BASE_URL: urls.openai, ANTHROPIC_BASE_URL: urls.anthropic };
}

export interface HarnessOptions {
  env: NodeJS.ProcessEnv;
  /** Laid over FAST_OVERLAY (objects merge, arrays replace). */
  overlay?: Record<string, unknown>;
  /** When set, the client declares sampling and answers sampling/createMessage with this. */
  sampling?: (req: CreateMessageRequest) => CreateMessageResult | Promise<CreateMessageResult>;
}

export interface RunOutcome {
  res: CallToolResult;
  /** structuredContent when the call succeeded. */
  out: RunOutput;
  /** The structured error when isError. */
  err: ErrorBody;
}

export interface Harness {
  client: Client;
  runtime: Runtime;
  /** Calls run_llm; asserts no key appears anywhere in the result. */
  run(args: Record<string, unknown>, opts?: RequestOptions, meta?: Record<string, unknown>): Promise<RunOutcome>;
  /** Like run, but expects success and returns structuredContent. */
  ok(args: Record<string, unknown>, opts?: RequestOptions): Promise<RunOutput>;
  /** Like run, but expects isError and returns the error body. */
  fail(args: Record<string, unknown>, opts?: RequestOptions): Promise<ErrorBody>;
  readStatus(): Promise<StatusDoc>;
  /**
   * Gives the Runtime a fresh BreakerBoard (every circuit closed), so one Runtime can serve many
   * tests without one test's failures opening circuits in the next (a Runtime takes ~250 ms to build).
   */
  resetBreakers(): void;
  close(): Promise<void>;
}

export interface StatusDoc {
  configVersion: string;
  providers: Array<{ name: string; configured: boolean; keyEnv: string | null; baseUrl: string; breakers: Array<{ id: string; state: string; openings: number }> }>;
}

export function expectNoSecrets(value: unknown): void {
  expectNoSecretsIn(value, SECRETS);
}

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const mcp = await startMcpHarness({
    env: opts.env,
    overlay: deepMerge(FAST_OVERLAY, opts.overlay ?? {}),
    secrets: SECRETS,
    sampling: opts.sampling,
    clientName: "run-llm-tests",
    prefix: "switchboard-run-llm-",
  });
  const { client, runtime } = mcp;

  const run: Harness["run"] = (args, reqOpts, meta) => mcp.call<RunOutput>("run_llm", args, reqOpts, meta);

  return {
    client,
    runtime,
    run,
    ok: async (args, reqOpts) => {
      const { res, out } = await run(args, reqOpts);
      expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
      return out;
    },
    fail: async (args, reqOpts) => {
      const { res, err } = await run(args, reqOpts);
      expect(res.isError, JSON.stringify(res.structuredContent)).toBe(true);
      return err;
    },
    readStatus: async () => {
      const r = await client.readResource({ uri: "switchboard://status" });
      expectNoSecrets(r);
      const c = r.contents[0] as { text: string };
      return JSON.parse(c.text) as StatusDoc;
    },
    resetBreakers: () => {
      Object.assign(runtime, { breakers: new BreakerBoard(runtime.config.router.failover.breaker) });
    },
    close: () => mcp.close(),
  };
}

/** Requests a fake received for one model (the provider's own name, e.g. "gpt-4.1-mini"). */
export function requestsFor(fake: FakeServer, model: string): RecordedRequest[] {
  return fake.requests.filter((r) => r.body?.model === model);
}

/** "openai:gpt-4.1-mini" -> "gpt-4.1-mini" */
export const nameOf = modelName;

/**
 * A TCP pass-through in front of a fake, so a test can watch the client side of a provider
 * connection close (the fakes do not expose their sockets).
 */
export interface TcpProxy {
  url: string;
  /** The connection that last sent bytes (the one carrying the latest request): resolves when it closes. */
  lastActiveClosed(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  let lastActive: Promise<void> | undefined;
  const server = createTcpServer((inbound) => {
    sockets.add(inbound);
    const closed = new Promise<void>((resolve) => inbound.once("close", () => resolve()));
    const outbound = connect(Number(t.port), t.hostname);
    inbound.on("data", () => void (lastActive = closed));
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on("error", () => outbound.destroy());
    outbound.on("error", () => inbound.destroy());
    inbound.on("close", () => {
      sockets.delete(inbound);
      outbound.destroy();
    });
    outbound.on("close", () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${t.protocol}//127.0.0.1:${port}${t.pathname === "/" ? "" : t.pathname}`,
    lastActiveClosed: () => lastActive ?? Promise.reject(new Error("no connection has carried a request yet")),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
