import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ajv } from "ajv";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult, ListToolsResult } from "@modelcontextprotocol/sdk/types.js";
import { createServer } from "../../src/server.js";
import { Runtime } from "../../src/runtime.js";
import { TOOLS } from "../../src/tools/index.js";
import { decisionSchema } from "../../src/routing/decision-schema.js";

/** Every agent carries tools/list in its context: the whole result stays under this. */
const LIST_BUDGET_BYTES = 16 * 1024;
const DOCS = "switchboard://docs/tools/";

let runtime: Runtime;
let client: Client;
let closeServer: () => Promise<void>;
let list: ListToolsResult;

beforeAll(async () => {
  runtime = new Runtime({ env: {} });
  // The bench's echo tool is on, as in `serve --bench-echo`, and left out of the measure.
  const { server } = createServer({ runtime, benchEcho: true });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  client = new Client({ name: "footprint-test", version: "1.0.0" });
  await client.connect(clientSide);
  closeServer = () => server.close();
  list = await client.listTools();
});

afterAll(async () => {
  await client?.close();
  await closeServer?.();
  runtime?.close();
});

interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
}

describe("tools/list footprint", () => {
  it(`stays within ${LIST_BUDGET_BYTES / 1024} KB for Switchboard's own tools, modes enum included`, () => {
    const own = list.tools.filter((t) => t.name !== "echo");
    expect(own.map((t) => t.name)).toEqual(TOOLS.map((t) => t.name));
    const bytes = Buffer.byteLength(JSON.stringify({ ...list, tools: own }));
    const perTool = own.map((t) => `${t.name} ${Buffer.byteLength(JSON.stringify(t))}`).join(", ");
    expect(bytes, `tools/list is ${bytes} bytes: ${perTool}`).toBeLessThanOrEqual(LIST_BUDGET_BYTES);
    // The modes are listed as an enum (from the config in force).
    const mode = (list.tools.find((t) => t.name === "route_task")!.inputSchema.properties as Record<string, Schema>).mode!;
    expect(mode.enum).toEqual(Object.keys(runtime.config.modes));
  });

  it("gives every tool a title, a description that says what it is for, and an input and output schema", () => {
    for (const t of list.tools.filter((t) => t.name !== "echo")) {
      expect(t.title, t.name).toBeTruthy();
      expect(t.description?.length ?? 0, `description of ${t.name}`).toBeGreaterThan(60);
      expect(t.inputSchema.type, t.name).toBe("object");
      expect(t.inputSchema.additionalProperties, t.name).toBe(false);
      expect(t.outputSchema?.type, t.name).toBe("object");
      // Nothing that says nothing: no draft URL, no safe-integer bounds, no tasks block.
      const text = JSON.stringify(t);
      expect(text, t.name).not.toContain("$schema");
      expect(text, t.name).not.toContain(String(Number.MAX_SAFE_INTEGER));
      expect(t.execution, t.name).toBeUndefined();
    }
  });

  it("types every top-level output field, and leaves nested fields to the docs resource", () => {
    for (const t of list.tools.filter((t) => t.name !== "echo")) {
      for (const [k, p] of Object.entries((t.outputSchema?.properties ?? {}) as Record<string, Schema>)) {
        expect(p.type ?? (p as { anyOf?: unknown }).anyOf, `${t.name}.${k}`).toBeTruthy();
        expect(p.properties, `${t.name}.${k}`).toBeUndefined();
      }
    }
  });

  it("lists run_llm's routing arguments by type and enum, pointing to route_task for their descriptions", () => {
    const run = list.tools.find((t) => t.name === "run_llm")!;
    const route = list.tools.find((t) => t.name === "route_task")!;
    expect(run.description).toContain("route_task");
    const runProps = run.inputSchema.properties as Record<string, Schema>;
    const routeProps = route.inputSchema.properties as Record<string, Schema>;
    for (const [k, p] of Object.entries(routeProps)) {
      expect(runProps[k]?.type, k).toBe(p.type);
      expect(runProps[k]?.enum, k).toEqual(p.enum);
    }
    expect(runProps.responseFormat?.description).toBeTruthy();
  });
});

describe("tool docs resource", () => {
  async function docs(name: string) {
    const res = await client.readResource({ uri: DOCS + name });
    const c = res.contents[0]!;
    if (!("text" in c)) throw new Error("no text");
    expect(c.mimeType).toBe("application/json");
    return JSON.parse(c.text) as { name: string; description: string; inputSchema: Schema; outputSchema: Schema; error?: string; validValues?: string[] };
  }

  it("lists one resource per tool", async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((r) => r.uri).filter((u) => u.startsWith(DOCS));
    expect(uris).toEqual(TOOLS.map((t) => DOCS + t.name));
  });

  it("serves route_task's full schemas: which output fields are always there, nested fields, descriptions", async () => {
    const d = await docs("route_task");
    expect(d.name).toBe("route_task");
    const out = d.outputSchema;
    for (const key of ["model", "provider", "job", "action", "tier", "reason", "fallbacks", "alternatives", "estimate", "tools"]) {
      expect(out.required, key).toContain(key);
    }
    // Task type, complexity and cost tier describe LLM jobs only: a voiceover decision has none.
    for (const key of ["taskType", "complexity", "costTier"]) expect(out.required).not.toContain(key);
    expect(out.properties!.fallbacks!.items!.properties).toHaveProperty("provider");
    expect(out.properties!.action!.properties!.tool!.description).toBeTruthy();
    expect(d.inputSchema.properties!.modelPreferences!.properties).toHaveProperty("hints");
  });

  it("gives run_llm's shared arguments their descriptions there", async () => {
    const d = await docs("run_llm");
    expect(d.inputSchema.properties!.prompt!.description).toBeTruthy();
    expect(d.inputSchema.properties!.messages!.items!.properties).toHaveProperty("role");
  });

  it("answers an unknown tool with the valid names", async () => {
    const d = await docs("no_such_tool");
    expect(d.error).toContain("no_such_tool");
    expect(d.validValues).toEqual(TOOLS.map((t) => t.name));
  });

  it("route_task results match both the listed and the full output schema", async () => {
    const full = await docs("route_task");
    const ajv = new Ajv({ strict: false });
    const listed = ajv.compile(list.tools.find((t) => t.name === "route_task")!.outputSchema!);
    const complete = ajv.compile(full.outputSchema);
    for (const prompt of ["Write a Python function that reverses a linked list.", "Remove the background from https://example.com/cat.png", "Read this aloud as a voiceover: hello there"]) {
      const res = (await client.callTool({ name: "route_task", arguments: { prompt } })) as CallToolResult;
      expect(res.isError).toBeFalsy();
      expect(listed(res.structuredContent), JSON.stringify(listed.errors)).toBe(true);
      expect(complete(res.structuredContent), JSON.stringify(complete.errors)).toBe(true);
      // The SDK no longer parses results with the zod shape; the shape still holds.
      expect(decisionSchema.strict().safeParse(res.structuredContent).success).toBe(true);
    }
  });
});
