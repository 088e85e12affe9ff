// Switchboard's HTTP server with the LLM provider fakes behind it, tokens for three tenants and an
// admin, and a store in memory (budgets on): what the OpenAI- and Anthropic-compatible endpoint
// tests drive with the official SDKs.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, afterEach, beforeAll } from "vitest";
import OpenAI from "openai";
import YAML from "yaml";
import { deepMerge } from "../../src/config/load.js";
import { startHttpServer, type HttpServerHandle } from "../../src/http/http-server.js";
import { Runtime } from "../../src/runtime.js";
import type { CallRecord } from "../../src/store/telemetry.js";
import { captureLogger } from "./capture-logger.js";
import { fakeEnv, startFakes, type Fakes } from "./llm-fakes.js";
import { RUN_LLM_OVERLAY } from "./run-llm.js";

/** `capped` has a ceiling no call fits under; `limited` may make two LLM calls a minute. */
export const TOKENS = { default: "tok-default-1234567890", acme: "tok-acme-1234567890", capped: "tok-capped-1234567890", limited: "tok-limited-1234567890", admin: "tok-admin-1234567890" };

export interface CompatServer {
  fakes: Fakes;
  runtime: Runtime;
  handle: HttpServerHandle;
  /** Every call record since the last reset. */
  records: CallRecord[];
  reset(): void;
  close(): Promise<void>;
}

export async function startCompatServer(overlay: Record<string, unknown> = {}): Promise<CompatServer> {
  const fakes = await startFakes();
  const dir = mkdtempSync(join(tmpdir(), "sb-compat-"));
  const overlayFile = join(dir, "overlay.yaml");
  writeFileSync(overlayFile, YAML.stringify(deepMerge(deepMerge(RUN_LLM_OVERLAY, { tenants: { capped: { budget: { dailyUsd: 0.0000001 } }, limited: { rateLimits: { requestsPerMinute: 2 } } } }), overlay)));
  const runtime = new Runtime({
    overlayFile,
    store: { dataDir: ":memory:" },
    env: {
      ...fakeEnv({ openai: fakes.openai.url, anthropic: fakes.anthropic.url }),
      SWITCHBOARD_TOKENS: `default=${TOKENS.default},acme=${TOKENS.acme},capped=${TOKENS.capped},limited=${TOKENS.limited}`,
      SWITCHBOARD_ADMIN_TOKEN: TOKENS.admin,
    },
  });
  const records: CallRecord[] = [];
  runtime.onCall((r) => records.push(r));
  const handle = await startHttpServer({ runtime, port: 0, log: captureLogger().log });
  return {
    fakes,
    runtime,
    handle,
    records,
    reset: () => {
      fakes.reset();
      records.length = 0;
    },
    close: async () => {
      await handle.close();
      await runtime.close();
      await fakes.close();
    },
  };
}

/** The official SDKs pointed at the server, with a tenant's token (the default tenant's unless named). */
export function sdkClients(server: CompatServer, token: string = TOKENS.default): { anthropic: Anthropic; openai: OpenAI } {
  return {
    anthropic: new Anthropic({ apiKey: token, baseURL: server.handle.url, maxRetries: 0 }),
    openai: new OpenAI({ apiKey: token, baseURL: `${server.handle.url}/v1`, maxRetries: 0 }),
  };
}

/**
 * One compatible server for a test file: started before its tests, reset after each, closed after
 * the last; with the official SDK clients pointed at it.
 */
export function useCompatServer(): { server: () => CompatServer; openai: () => OpenAI; anthropic: () => Anthropic } {
  let server: CompatServer | undefined;
  beforeAll(async () => {
    server = await startCompatServer();
  }, 60_000);
  afterEach(() => server?.reset());
  afterAll(() => server?.close());
  const started = (): CompatServer => {
    if (!server) throw new Error("the compatible server has not started (use it inside a test)");
    return server;
  };
  return { server: started, openai: () => sdkClients(started()).openai, anthropic: () => sdkClients(started()).anthropic };
}
