import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { createServer } from "../../src/server.js";
import { Runtime } from "../../src/runtime.js";
import { COMPLEXITIES, COST_TIERS, TASK_TYPES } from "../../src/config/schema.js";
import { zodToError } from "../../src/tools/define-tool.js";
import { routingInput } from "../../src/tools/routing-input.js";

const SECRET = "SECRET123";
const MODELS_URI = "switchboard://config/models";
const TABLE_URI = "switchboard://config/routing-table";

let runtime: Runtime;
let client: Client;
let closeServer: () => Promise<void>;
/** Every text the server sent back, so the secret check covers all of it. */
const seen: string[] = [];

interface ErrorPayload {
  error: { code: string; message: string; hint: string; retryable: boolean; field?: string; validValues?: string[] };
}

async function call(args: Record<string, unknown>): Promise<CallToolResult> {
  const res = (await client.callTool({ name: "route_task", arguments: args })) as CallToolResult;
  seen.push(JSON.stringify(res));
  return res;
}

function textOf(res: CallToolResult): string {
  const first = res.content[0];
  if (!first || first.type !== "text") throw new Error(`expected a text content block, got ${JSON.stringify(first)}`);
  return first.text;
}

/** Asserts the structured error shape shared by every bad input, and returns the body. */
async function expectInvalid(args: Record<string, unknown>): Promise<ErrorPayload["error"]> {
  const res = await call(args);
  expect(res.isError).toBe(true);
  expect(res.structuredContent).toBeUndefined();
  const body = JSON.parse(textOf(res)) as ErrorPayload;
  expect(body.error.code).toBe("invalid_request");
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(typeof body.error.hint).toBe("string");
  expect(body.error.hint.length).toBeGreaterThan(0);
  expect(body.error.retryable).toBe(false);
  return body.error;
}

async function readText(uri: string): Promise<{ mimeType?: string; text: string }> {
  const res = await client.readResource({ uri });
  seen.push(JSON.stringify(res));
  expect(res.contents).toHaveLength(1);
  const c = res.contents[0]!;
  expect(c.uri).toBe(uri);
  if (!("text" in c) || typeof c.text !== "string") throw new Error(`resource ${uri} has no text`);
  return { mimeType: c.mimeType, text: c.text };
}

beforeAll(async () => {
  runtime = new Runtime({ env: { OPENAI_API_KEY: `sk-test-${SECRET}` } });
  const { server } = createServer({ runtime });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  client = new Client({ name: "route-task-test", version: "1.0.0" });
  await client.connect(clientSide);
  closeServer = () => server.close();
});

afterAll(async () => {
  await client?.close();
  await closeServer?.();
  runtime?.close();
});

describe("tools/list", () => {
  let tool: Tool;

  beforeAll(async () => {
    const list = await client.listTools();
    seen.push(JSON.stringify(list));
    const found = list.tools.find((t) => t.name === "route_task");
    if (!found) throw new Error(`route_task not listed; tools: ${list.tools.map((t) => t.name).join(", ")}`);
    tool = found;
  });

  it("declares route_task as read-only and closed-world", () => {
    // Destructive and idempotent hints are meaningful only for tools that modify: not listed for read-only ones.
    expect(tool.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: false });
    expect(tool.annotations?.destructiveHint).not.toBe(true);
    expect(tool.description?.length ?? 0).toBeGreaterThan(20);
    expect(tool.title ?? tool.annotations?.title).toBeTruthy();
  });

  it("lists an input schema whose properties are all described", () => {
    const schema = tool.inputSchema as { type: string; properties: Record<string, { description?: string; type?: string; enum?: string[] }> };
    expect(schema.type).toBe("object");
    const props = schema.properties;
    for (const key of ["prompt", "messages", "mode", "taskType", "model", "tenant", "contextTokens", "maxOutputTokens", "attachments", "modelPreferences"]) {
      expect(props, `property ${key}`).toHaveProperty(key);
    }
    for (const [key, p] of Object.entries(props)) {
      expect(typeof p.description, `description of ${key}`).toBe("string");
      expect(p.description!.length, `description of ${key}`).toBeGreaterThan(5);
    }
    expect(props.prompt!.type).toBe("string");
    expect(props.mode!.type).toBe("string");
    expect(props.contextTokens!.type).toBe("integer");
    expect(props.taskType!.enum).toEqual([...TASK_TYPES]);
    expect(props.taskType!.enum).toHaveLength(13);
  });

  it("lists an output schema for the decision: its top-level fields and their types", () => {
    const out = tool.outputSchema as { type: string; properties: Record<string, { type?: string }>; required?: string[] } | undefined;
    expect(out).toBeDefined();
    expect(out!.type).toBe("object");
    for (const key of ["model", "provider", "job", "action", "tier", "reason", "fallbacks", "alternatives", "estimate", "tools", "taskType", "complexity", "costTier"]) {
      expect(out!.properties, `output property ${key}`).toHaveProperty(key);
    }
    expect(out!.properties.fallbacks!.type).toBe("array");
    expect(out!.properties.action!.type).toBe("object");
    // Which fields are always there (not taskType, complexity, costTier: LLM jobs only) is in the
    // full schema at switchboard://docs/tools/route_task (test/tools/footprint.test.ts).
  });
});

describe("route_task decisions", () => {
  it("returns structuredContent with the decision, mirrored as JSON text", async () => {
    const res = await call({ prompt: "Write a Python function that reverses a linked list." });
    expect(res.isError).toBeFalsy();
    const d = res.structuredContent as Record<string, unknown>;
    expect(d).toBeDefined();
    expect(typeof d.model).toBe("string");
    expect(runtime.config.models).toHaveProperty(d.model as string);
    expect(typeof d.provider).toBe("string");
    expect((d.model as string).startsWith(`${d.provider as string}:`)).toBe(true);
    expect(TASK_TYPES).toContain(d.taskType);
    expect(["explicit", "signals", "classifier", "default"]).toContain(d.tier);
    expect(COST_TIERS).toContain(d.costTier);
    expect(COMPLEXITIES).toContain(d.complexity);
    expect(typeof d.reason).toBe("string");
    expect((d.reason as string).length).toBeGreaterThan(10);
    expect(Array.isArray(d.fallbacks)).toBe(true);
    for (const f of d.fallbacks as Array<{ model: string; provider: string }>) {
      expect(f.model).not.toBe(d.model);
      expect(f.model.startsWith(`${f.provider}:`)).toBe(true);
    }
    const est = d.estimate as { inputTokens: number; outputTokens: number; costUsd: number };
    expect(est.inputTokens).toBeGreaterThan(0);
    expect(est.outputTokens).toBeGreaterThan(0);
    expect(est.costUsd).toBeGreaterThanOrEqual(0);
    expect(Array.isArray(d.tools)).toBe(true);
    expect(JSON.parse(textOf(res))).toEqual(d);
  });

  it("honours an explicit mode, task type and model", async () => {
    const model = Object.keys(runtime.config.models)[0]!;
    const res = await call({ prompt: "Plan the rollout of our new billing system.", mode: "structured_planning", taskType: "planning", model });
    expect(res.isError).toBeFalsy();
    const d = res.structuredContent as Record<string, unknown>;
    expect(d.mode).toBe("structured_planning");
    expect(d.modeSource).toBe("explicit");
    expect(d.taskType).toBe("planning");
    expect(d.model).toBe(model);
    expect(d.tier).toBe("explicit");
    expect(d.tools).toEqual(expect.arrayContaining(runtime.config.modes.structured_planning!.tools));
  });

  it("keeps the caller's requestId", async () => {
    const res = await call({ prompt: "What is the capital of France?", requestId: "req-42" });
    expect(res.isError).toBeFalsy();
    expect((res.structuredContent as { requestId: string }).requestId).toBe("req-42");
  });
});

describe("route_task bad inputs", () => {
  it("refuses an empty prompt", async () => {
    const e = await expectInvalid({ prompt: "" });
    expect(e.field).toBe("prompt");
    expect(e.message).toMatch(/empty/i);
  });

  it("refuses an unknown mode and lists the valid modes", async () => {
    const e = await expectInvalid({ prompt: "Summarise this paragraph.", mode: "turbo_mode" });
    expect(e.field).toBe("mode");
    expect(e.message).toContain("turbo_mode");
    expect(e.validValues).toContain("realtime_assist");
    expect(e.validValues).toEqual(Object.keys(runtime.config.modes));
  });

  it("refuses an unknown taskType and lists the 13 task types", async () => {
    const e = await expectInvalid({ prompt: "Summarise this paragraph.", taskType: "poetry_slam" });
    expect(e.field).toBe("taskType");
    expect(e.validValues).toEqual([...TASK_TYPES]);
    expect(e.validValues).toHaveLength(13);
  });

  it("refuses a prompt of the wrong type", async () => {
    const e = await expectInvalid({ prompt: 42 });
    expect(e.field).toBe("prompt");
    expect(e.message).toMatch(/string/);
  });

  it("refuses contextTokens of the wrong type", async () => {
    const e = await expectInvalid({ prompt: "Summarise this paragraph.", contextTokens: "lots" });
    expect(e.field).toBe("contextTokens");
    expect(e.message).toMatch(/number/);
  });

  it("refuses a misspelled argument over MCP with a did-you-mean hint", async () => {
    const res = await call({ promt: "Summarise this paragraph." });
    expect(res.isError).toBe(true);
    const { error } = JSON.parse(textOf(res)) as ErrorPayload;
    expect(error.code).toBe("invalid_request");
    expect(error.field).toBe("promt");
    expect(error.hint).toContain('"prompt"');
  });

  it("lists the input schema as closed to unknown keys", async () => {
    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === "route_task")?.inputSchema.additionalProperties).toBe(false);
  });

  it("builds a did-you-mean error for an unknown argument key", () => {
    const parsed = z.strictObject(routingInput).safeParse({ promt: "Summarise this paragraph." });
    expect(parsed.success).toBe(false);
    const e = zodToError(parsed.error!, Object.keys(routingInput));
    expect(e.code).toBe("invalid_request");
    expect(e.retryable).toBe(false);
    expect(e.field).toBe("promt");
    expect(e.message).toContain("promt");
    expect(e.hint).toContain('"prompt"');
    expect(e.validValues).toContain("prompt");
  });

  it("refuses an unknown model and lists the catalog", async () => {
    const e = await expectInvalid({ prompt: "Summarise this paragraph.", model: "openai:gpt-99-ultra" });
    expect(e.field).toBe("model");
    expect(e.message).toContain("openai:gpt-99-ultra");
    expect(e.validValues).toEqual(Object.keys(runtime.config.models));
  });

  it("refuses an unknown tenant and lists the tenants", async () => {
    const e = await expectInvalid({ prompt: "Summarise this paragraph.", tenant: "no-such-tenant" });
    expect(e.field).toBe("tenant");
    expect(e.validValues).toEqual(Object.keys(runtime.config.tenants));
  });

  it("refuses a prompt longer than router.maxPromptChars", async () => {
    const max = runtime.config.router.maxPromptChars;
    expect(max).toBeGreaterThan(0);
    const e = await expectInvalid({ prompt: "a".repeat(max + 1) });
    expect(e.field).toBe("prompt");
    expect(e.message).toContain(max.toLocaleString("en"));
    expect(e.message).toContain((max + 1).toLocaleString("en"));
  });

  it("still answers a valid call after all those errors", async () => {
    const res = await call({ prompt: "Translate 'good morning' into Spanish." });
    expect(res.isError).toBeFalsy();
    const d = res.structuredContent as { model: string; taskType: string };
    expect(runtime.config.models).toHaveProperty(d.model);
    expect(TASK_TYPES).toContain(d.taskType);
  });
});

describe("config resources", () => {
  it("lists the routing table and the model catalog as JSON", async () => {
    const list = await client.listResources();
    seen.push(JSON.stringify(list));
    const byUri = new Map(list.resources.map((r) => [r.uri, r]));
    expect(byUri.get(TABLE_URI)?.mimeType).toBe("application/json");
    expect(byUri.get(MODELS_URI)?.mimeType).toBe("application/json");
  });

  it("serves the routing table with modes and task types", async () => {
    const { mimeType, text } = await readText(TABLE_URI);
    expect(mimeType).toBe("application/json");
    const table = JSON.parse(text) as { configVersion: string; modes: Record<string, unknown>; tasks: Record<string, { examples: unknown }> };
    expect(table.configVersion).toBe(runtime.configVersion);
    expect(Object.keys(table.modes)).toEqual(Object.keys(runtime.config.modes));
    expect(Object.keys(table.tasks).sort()).toEqual([...TASK_TYPES].sort());
    // Example prompts are summarised as a count, not dumped.
    for (const t of Object.values(table.tasks)) expect(typeof t.examples).toBe("number");
  });

  it("serves the catalog with configured flags and without key values", async () => {
    const { mimeType, text } = await readText(MODELS_URI);
    expect(mimeType).toBe("application/json");
    const cat = JSON.parse(text) as {
      providers: Record<string, { keyEnv: string | null; configured: boolean }>;
      models: Record<string, unknown>;
    };
    expect(Object.keys(cat.models)).toEqual(Object.keys(runtime.config.models));
    expect(Object.keys(cat.providers).length).toBeGreaterThan(0);
    expect(cat.providers.openai?.configured).toBe(true);
    for (const [name, p] of Object.entries(cat.providers)) {
      expect(typeof p.configured, `configured flag of ${name}`).toBe("boolean");
      // Only OPENAI_API_KEY is set in this runtime's env.
      if (p.keyEnv) expect(p.configured, `configured flag of ${name}`).toBe(p.keyEnv === "OPENAI_API_KEY");
    }
    expect(text).not.toContain(SECRET);
  });

  it("never leaks the API key through any tool or resource result", async () => {
    // Cover this test's own traffic too, so it holds even when run alone.
    seen.push(JSON.stringify(await client.listTools()));
    seen.push(JSON.stringify(await client.listResources()));
    await readText(MODELS_URI);
    await readText(TABLE_URI);
    const openaiModel = Object.keys(runtime.config.models).find((m) => m.startsWith("openai:"));
    const res = await call({ prompt: "Explain what a hash map is.", ...(openaiModel ? { model: openaiModel } : {}) });
    expect(res.isError).toBeFalsy();
    await call({ prompt: "Explain what a hash map is.", tenant: "nobody" });
    expect(seen.length).toBeGreaterThanOrEqual(6);
    for (const s of seen) expect(s).not.toContain(SECRET);
  });
});
