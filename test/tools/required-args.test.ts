import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createServer } from "../../src/server.js";
import { Runtime } from "../../src/runtime.js";

let client: Client;
beforeAll(async () => {
  const { server } = createServer({ runtime: new Runtime({ env: { ELEVENLABS_API_KEY: "xi-test", OPENAI_API_KEY: "sk-test" } }) });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  client = new Client({ name: "args", version: "1" });
  await client.connect(b);
});
afterAll(() => client.close());

const errorOf = async (name: string, args: Record<string, unknown>) => {
  const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
  expect(r.isError).toBe(true);
  return (JSON.parse((r.content[0] as { text: string }).text) as { error: Record<string, unknown> }).error;
};

describe("required arguments", () => {
  it.each([
    ["research", {}, "question"],
    ["generative_fill", { image: "https://example.org/a.png", prompt: "a cat" }, "mask"],
    ["voiceover", {}, "text"],
    ["transcribe", {}, "audio"],
    ["remove_background", {}, "image"],
    ["record_feedback", {}, "requestId"],
  ])("%s without its required argument gets a structured error naming it", async (tool, args, field) => {
    const e = await errorOf(tool, args);
    expect(e).toMatchObject({ code: "invalid_request", field, retryable: false });
    expect(e.message).toBe(`${field} is required`);
  });

  it("lists which arguments are required", async () => {
    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === "generative_fill")!.inputSchema.required).toEqual(["image", "mask", "prompt"]);
    expect(tools.find((t) => t.name === "route_task")!.inputSchema.required).toBeUndefined();
  });
});

describe("voiceover model", () => {
  it("refuses a service that is not a voice model, listing the voice models", async () => {
    const e = await errorOf("voiceover", { text: "hello", model: "openai:whisper-1" });
    expect(e).toMatchObject({ code: "invalid_request", field: "model" });
    expect(e.validValues).toEqual(expect.arrayContaining(["elevenlabs:eleven_multilingual_v2"]));
    expect(e.validValues).not.toContain("openai:whisper-1");
  });
});
