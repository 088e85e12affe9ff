import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { createServer } from "../../src/server.js";
import { Runtime } from "../../src/runtime.js";
import { startOpenAIFake, type FakeServer } from "../fakes/openai-fake.js";
import { startAnthropicFake } from "../fakes/anthropic-fake.js";

let openai: FakeServer;
let anthropic: FakeServer;
let client: Client;

beforeAll(async () => {
  openai = await startOpenAIFake();
  anthropic = await startAnthropicFake();
  const runtime = new Runtime({ env: { OPENAI_API_KEY: "sk-openai-SECRET-1", ANTHROPIC_API_KEY: "sk-ant-SECRET-2", OPENAI_BASE_URL: openai.url, ANTHROPIC_BASE_URL: anthropic.url } });
  const { server } = createServer({ runtime });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  client = new Client({ name: "smoke", version: "1" });
  await client.connect(b);
});
afterAll(async () => {
  await client.close();
  await openai.close();
  await anthropic.close();
});

describe("run_llm smoke", () => {
  it("answers through the routed provider", async () => {
    const res = await client.callTool({ name: "run_llm", arguments: { prompt: "What is the capital of Peru?" } });
    expect(res.isError).toBeFalsy();
    const out = res.structuredContent as { text: string; model: string; attempts: unknown[] };
    expect(out.text).toContain("fake answer");
    expect(out.attempts.length).toBeGreaterThan(0);
  });

  it("fails over when the primary provider is down", async () => {
    openai.enqueue({ fault: { kind: "status", status: 503 } }, { fault: { kind: "status", status: 503 } }, { fault: { kind: "status", status: 503 } });
    const res = await client.callTool({ name: "run_llm", arguments: { prompt: "What is the capital of Peru?", model: "openai:gpt-4.1-mini" } });
    const out = res.structuredContent as { model: string; attempts: Array<{ outcome: string; model: string }> };
    expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
    expect(out.attempts.some((a) => a.outcome === "error")).toBe(true);
    expect(JSON.stringify(res)).not.toContain("SECRET");
    if (process.env.SHOW) console.error(JSON.stringify(out, null, 1));
  });
});
