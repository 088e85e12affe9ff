// The escalation reservation through run_llm: the first answer is reserved up front, the escalation
// only when it happens; when the escalation does not fit the ceiling, the first answer is returned
// with a warning rather than an error, and nothing stays reserved.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createServer } from "../../src/server.js";
import { Runtime } from "../../src/runtime.js";
import { modelName } from "../../src/config/catalog.js";
import { startOpenAIFake, type FakeServer } from "../fakes/openai-fake.js";

const PRIMARY = "openai:gpt-4.1-mini";
const responseFormat = { type: "json_schema", schema: { type: "object", required: ["city"], properties: { city: { type: "string" } } } };

describe("run_llm: an escalation is reserved when it happens", () => {
  let openai: FakeServer;
  let runtime: Runtime;
  let client: Client;
  const RUN = randomUUID().slice(0, 8);
  // The first answer's worst case (1,000 output tokens on gpt-4.1-mini, about $0.0017) fits; an escalation to a stronger model does not.
  const T = { tight: `esc-tight-${RUN}`, roomy: `esc-roomy-${RUN}` };

  beforeAll(async () => {
    openai = await startOpenAIFake();
    const dir = mkdtempSync(join(tmpdir(), "sb-esc-"));
    writeFileSync(join(dir, "overlay.yaml"), `tenants:\n  ${T.tight}: { budget: { dailyUsd: 0.004 } }\n  ${T.roomy}: { budget: { dailyUsd: 10 } }\nbudgets:\n  waitMs: 0\n`);
    runtime = new Runtime({ overlayFile: join(dir, "overlay.yaml"), env: { OPENAI_API_KEY: "sk-esc-test", OPENAI_BASE_URL: openai.url }, store: { dataDir: ":memory:" } });
    await runtime.store!.db();
    const { server } = createServer({ runtime });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    client = new Client({ name: "esc-test", version: "1" });
    await client.connect(b);
  }, 60000);
  afterAll(async () => {
    await client.close();
    runtime.close();
    await openai.close();
  });

  async function run(tenant: string) {
    const r = (await client.callTool({ name: "run_llm", arguments: { prompt: "Which city is the capital of Peru? Answer as JSON.", model: PRIMARY, responseFormat, maxOutputTokens: 1000, tenant } })) as CallToolResult;
    return { r, out: r.structuredContent as { text: string; model: string; escalated: boolean; warnings: string[]; attempts: Array<{ model: string; outcome: string; errorCode?: string }> } };
  }

  it("returns the first answer with a warning when the escalation does not fit the ceiling", async () => {
    openai.reset();
    openai.setDefault({ text: '{"city":"Lima"}' });
    openai.enqueue({ model: modelName(PRIMARY), reply: { text: "The capital of Peru is Lima." } });
    const { r, out } = await run(T.tight);
    expect(r.isError).toBeFalsy();
    expect(out.model).toBe(PRIMARY);
    expect(out.text).toBe("The capital of Peru is Lima.");
    expect(out.attempts.map((a) => a.outcome)).toEqual(["escalated", "error"]);
    expect(out.attempts[1]).toMatchObject({ errorCode: "budget_exceeded" });
    expect(out.warnings.join(" ")).toMatch(/not escalated to .*ceiling/);
    // The stronger model was never called.
    expect(openai.requests).toHaveLength(1);
    const budgets = (await runtime.budgets())!;
    const c = budgets.ceilings(T.tight)[0]!;
    const spent = await budgets.spent(c.scope, c.period);
    expect(spent.reservedUsd).toBeCloseTo(0, 8);
    expect(spent.settledUsd).toBeGreaterThan(0);
  });

  it("escalates when the escalation fits, and settles both reservations", async () => {
    openai.reset();
    openai.setDefault({ text: '{"city":"Lima"}' });
    openai.enqueue({ model: modelName(PRIMARY), reply: { text: "The capital of Peru is Lima." } });
    const { r, out } = await run(T.roomy);
    expect(r.isError).toBeFalsy();
    expect(out.escalated).toBe(true);
    expect(out.model).not.toBe(PRIMARY);
    const budgets = (await runtime.budgets())!;
    const c = budgets.ceilings(T.roomy)[0]!;
    const spent = await budgets.spent(c.scope, c.period);
    expect(spent.reservedUsd).toBeCloseTo(0, 8);
    expect(spent.settledUsd).toBeGreaterThan(0);
  });
});
