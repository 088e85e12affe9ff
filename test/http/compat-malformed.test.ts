// What the fuzzed compatible-API requests found (test/heavy/fuzz-compat.test.ts), kept as plain
// tests: a part or item of a known type in the wrong shape is a 400 naming its field (it crashed
// the request, `internal`), a body that is not a JSON object is answered in the API's own error
// shape (it got a JSON-RPC error), and a request's own names in a note cannot overflow the
// response headers (a 100 KB tool name made the answer unreadable to the SDK).
import { describe, expect, it } from "vitest";
import type Anthropic from "@anthropic-ai/sdk";
import { TOKENS, useCompatServer } from "../helpers/compat-server.js";

const MINI = "openai:gpt-4.1-mini";

const { server, anthropic } = useCompatServer();

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${server().handle.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${TOKENS.default}`, "content-type": "application/json", ...headers }, body });

describe("malformed requests to the compatible APIs", () => {
  it("a chat part of a known type in the wrong shape is a 400 naming it", async () => {
    const res = await post("/v1/chat/completions", JSON.stringify({ model: MINI, messages: [{ role: "user", content: [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: null }] }] }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("messages.0.content.1.image_url");
    expect(server().records.map((r) => r.outcome)).toEqual(["invalid_request"]);
  });

  it("a Responses item of a known kind in the wrong shape is a 400 naming it", async () => {
    for (const [item, param] of [
      [{ type: "message", role: "user", content: 5 }, "input.0.content"],
      [{ type: "function_call", call_id: 7, name: "f", arguments: "{}" }, "input.0.call_id"],
    ] as const) {
      const res = await post("/v1/responses", JSON.stringify({ model: MINI, input: [item] }));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param);
    }
  });

  it("a body that is not a JSON object is refused in the API's own shape on every path", async () => {
    const counted = await post("/v1/messages/count_tokens", "true", { "anthropic-version": "2023-06-01" });
    expect(counted.status).toBe(400);
    expect(await counted.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error", code: "invalid_request", param: "body" } });
    // Through Express (a browser Origin), not the fast lane.
    const viaExpress = await post("/v1/chat/completions", "{not json", { origin: server().handle.url });
    expect(viaExpress.status).toBe(400);
    expect(await viaExpress.json()).toMatchObject({ error: { code: "invalid_request", param: "body", message: expect.stringMatching(/not valid JSON/) } });
  });

  it("keeps x-switchboard-notes within what a header can carry, whatever the request names", async () => {
    server().fakes.openai.setDefault({ text: "Done." });
    const huge = "web_search_".padEnd(100_000, "x");
    const { response } = await anthropic()
      .messages.create({ model: MINI, max_tokens: 100, tools: [{ type: "custom_tool", name: huge } as unknown as Anthropic.ToolUnion], messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    const notes = response.headers.get("x-switchboard-notes")!;
    expect(notes.startsWith("server tools dropped: web_search_xxx")).toBe(true);
    expect(notes.length).toBeLessThanOrEqual(2000);
  });
});
