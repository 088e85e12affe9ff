import { describe, expect, it } from "vitest";
import { JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { plainlyWellFormed } from "../../src/tools/define-tool.js";

/** The fast path may say "look closer" too often, never "fine" for a message the SDK would drop. */
describe("plainlyWellFormed: the schema-free fast path for ordinary JSON-RPC traffic", () => {
  const ordinary = [
    { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "route_task", arguments: { prompt: "hi" } } },
    { jsonrpc: "2.0", id: "a", method: "tools/list" },
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 3, result: {} },
    { jsonrpc: "2.0", id: 4, error: { code: -32601, message: "nope" } },
  ];
  const odd = [
    null, "x", 1, [], {},
    { jsonrpc: "1.0", id: 1, method: "x" },
    { jsonrpc: "2.0", id: 1, method: "tools/call", params: null },
    { jsonrpc: "2.0", id: 1, method: "tools/call", params: "s" },
    { jsonrpc: "2.0", id: 1, method: "tools/call", params: [1] },
    { jsonrpc: "2.0", id: null, method: "tools/call" },
    { jsonrpc: "2.0", id: 1, method: "x", extra: true },
    { jsonrpc: "2.0", id: 1, method: "x", params: { _meta: { progressToken: {} } } },
    { jsonrpc: "2.0", id: 1, result: {}, error: { code: 1, message: "m" } },
    { jsonrpc: "2.0", id: 1, result: 5 },
    { jsonrpc: "2.0", id: 1 },
  ];

  it("takes the ordinary shapes without the schema, and each really is valid", () => {
    for (const m of ordinary) {
      expect(plainlyWellFormed(m), JSON.stringify(m)).toBe(true);
      expect(JSONRPCMessageSchema.safeParse(m).success).toBe(true);
    }
  });

  it("leaves every odd shape to the full schema check", () => {
    for (const m of odd) expect(plainlyWellFormed(m), JSON.stringify(m)).toBe(false);
  });
});
