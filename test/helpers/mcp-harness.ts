// One MCP test harness for the tool suites: an overlay YAML in a temp folder, a Runtime and the
// Switchboard server on it, and an MCP client linked over an in-memory transport. Every tool call
// checks that no secret appears anywhere in the result and parses the structured error when isError.
// Suites for one tool bind it on top (see run-llm.ts); the provider fakes live in llm-fakes.ts and
// the fakes folder.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";
import { expect } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { CreateMessageRequestSchema, type CallToolResult, type CreateMessageRequest, type CreateMessageResult } from "@modelcontextprotocol/sdk/types.js";
import { deepMerge } from "../../src/config/load.js";
import type { ErrorBody as SwitchboardErrorBody } from "../../src/errors.js";
import type { Attempt } from "../../src/resilience/failover.js";
import { BreakerBoard } from "../../src/resilience/breakers.js";
import { createServer } from "../../src/server.js";
import { Runtime } from "../../src/runtime.js";

export type { Attempt };

/** A tool's structured error as the client reads it, with the attempts typed. */
export type ErrorBody = Omit<SwitchboardErrorBody, "attempts"> & { attempts?: Attempt[] };

/**
 * Shrunk failover timings and short job timeouts, so failures against loopback fakes resolve in
 * milliseconds. `toolOverlay` lays a suite's own settings over it.
 */
export const FAST_TOOL_OVERLAY = {
  router: {
    failover: {
      maxAttemptsPerModel: 2,
      initialDelayMs: 1,
      maxDelayMs: 5,
      maxRetryAfterMs: 500,
      breaker: { consecutiveFailures: 5, halfOpenAfterMs: 60000 },
    },
  },
  // No test waits for these to fire (the media timeout test sets its own): they are generous so a
  // loaded CI machine does not time out a healthy loopback call and retry it.
  jobSettings: {
    retrieval: { timeoutMs: 5000, maxSources: 5 },
    media: { timeoutMs: 2000, pollIntervalMs: 5 },
    voice: { timeoutMs: 5000 },
    transcription: { timeoutMs: 5000 },
  },
};

/** FAST_TOOL_OVERLAY with `over` laid on it (objects merge, arrays replace). */
export function toolOverlay(over: Record<string, unknown>): Record<string, unknown> {
  return deepMerge(FAST_TOOL_OVERLAY, over);
}

export interface ToolOutcome<O> {
  res: CallToolResult;
  /** structuredContent when the call succeeded. */
  out: O;
  /** The structured error when isError (undefined otherwise). */
  err: ErrorBody;
}

/** The switchboard://status resource, as far as the suites read it. */
export interface StatusDoc {
  configVersion: string;
  providers: Array<{ name: string; configured: boolean; keyEnv: string | null; baseUrl: string; breakers: Array<{ id: string; state: string; openings: number }> }>;
}

export interface McpHarness {
  client: Client;
  runtime: Runtime;
  /** The temp folder holding overlay.yaml; removed by close(). */
  dir: string;
  /** Calls a tool; asserts that no secret appears anywhere in the result. */
  call<O = Record<string, unknown>>(name: string, args: Record<string, unknown>, opts?: RequestOptions, meta?: Record<string, unknown>): Promise<ToolOutcome<O>>;
  /** Like call, but expects success and returns structuredContent. */
  callOk<O = Record<string, unknown>>(name: string, args: Record<string, unknown>, opts?: RequestOptions): Promise<O>;
  /** Like call, but expects isError and returns the error body. */
  callFail(name: string, args: Record<string, unknown>, opts?: RequestOptions): Promise<ErrorBody>;
  /** Reads switchboard://status; asserts that no secret appears in it. */
  readStatus(): Promise<StatusDoc>;
  /**
   * Gives the Runtime a fresh BreakerBoard (every circuit closed), so one Runtime can serve many
   * tests without one test's failures opening circuits in the next (a Runtime takes ~250 ms to build).
   */
  resetBreakers(): void;
  /** Closes the client, the server and the Runtime, and removes `dir`. */
  close(): Promise<void>;
}

export interface McpHarnessOptions {
  env: NodeJS.ProcessEnv;
  /** Written as overlay.yaml as given; a function gets the temp folder (for files.* paths inside it). */
  overlay?: Record<string, unknown> | ((dir: string) => Record<string, unknown>);
  /** Strings that must never appear in a result (API keys, tokens): checked on every call. */
  secrets: readonly string[];
  /** When set, the client declares sampling and answers sampling/createMessage with this. */
  sampling?: (req: CreateMessageRequest) => CreateMessageResult | Promise<CreateMessageResult>;
  /** The MCP client's name. */
  clientName?: string;
  /** Where the temp folder is made (default: the OS temp folder). */
  parentDir?: string;
  /** The temp folder's name prefix. */
  prefix?: string;
}

/** Fails the test when any of `secrets` appears in `value` (a string, or anything JSON can hold). */
export function expectNoSecrets(value: unknown, secrets: readonly string[]): void {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  for (const s of secrets) expect(text, `a secret leaked: ${s}`).not.toContain(s);
}

export async function startMcpHarness(opts: McpHarnessOptions): Promise<McpHarness> {
  // A harness with nothing to look for would let every leak through unnoticed.
  if (opts.secrets.length === 0) throw new Error("startMcpHarness: name at least one secret to check results for");
  const dir = mkdtempSync(join(opts.parentDir ?? tmpdir(), opts.prefix ?? "switchboard-mcp-"));
  const overlayFile = join(dir, "overlay.yaml");
  const overlay = typeof opts.overlay === "function" ? opts.overlay(dir) : (opts.overlay ?? {});
  writeFileSync(overlayFile, YAML.stringify(overlay));
  const runtime = new Runtime({ overlayFile, env: opts.env });
  const { server } = createServer({ runtime });
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const sampling = opts.sampling;
  const client = new Client({ name: opts.clientName ?? "switchboard-tests", version: "1" }, sampling ? { capabilities: { sampling: {} } } : {});
  if (sampling) client.setRequestHandler(CreateMessageRequestSchema, async (req) => sampling(req));
  await client.connect(clientSide);
  const call: McpHarness["call"] = async <O,>(name: string, args: Record<string, unknown>, reqOpts?: RequestOptions, meta?: Record<string, unknown>) => {
    const res = (await client.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) }, undefined, reqOpts)) as CallToolResult;
    expectNoSecrets(res, opts.secrets);
    const first = res.content[0];
    const err = res.isError && first?.type === "text" ? (JSON.parse(first.text) as { error: ErrorBody }).error : (undefined as unknown as ErrorBody);
    return { res, out: res.structuredContent as unknown as O, err };
  };
  return {
    client,
    runtime,
    dir,
    call,
    callOk: async <O,>(name: string, args: Record<string, unknown>, reqOpts?: RequestOptions) => {
      const { res, out } = await call<O>(name, args, reqOpts);
      expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
      return out;
    },
    callFail: async (name, args, reqOpts) => {
      const { res, err } = await call(name, args, reqOpts);
      expect(res.isError, JSON.stringify(res.structuredContent)).toBe(true);
      return err;
    },
    readStatus: async () => {
      const r = await client.readResource({ uri: "switchboard://status" });
      expectNoSecrets(r, opts.secrets);
      const c = r.contents[0] as { text: string };
      return JSON.parse(c.text) as StatusDoc;
    },
    resetBreakers: () => {
      Object.assign(runtime, { breakers: new BreakerBoard(runtime.config.router.failover.breaker) });
    },
    close: async () => {
      await client.close();
      await server.close();
      await runtime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
