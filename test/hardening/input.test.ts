// Input cleaned at the boundary (issue 13, items 6 and 7): text the store cannot hold is refused
// with invalid_request naming its field, in any argument of any tool at any depth; names that
// only exist on Object.prototype are unknown values, with the valid ones listed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMcpHarness, type McpHarness } from "../helpers/mcp-harness.js";
import { findBadText } from "../../src/tools/define-tool.js";

const SECRET = "sk-hardening-input-never-shown";
const PROTO_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];

let h: McpHarness;

beforeAll(async () => {
  h = await startMcpHarness({ env: { OPENAI_API_KEY: SECRET, OPENAI_BASE_URL: "http://127.0.0.1:9" }, secrets: [SECRET], prefix: "sb-hardening-input-" });
}, 30000);
afterAll(async () => {
  await h?.close();
});

/** The server answers a plain call after whatever came before. */
async function stillServes(): Promise<void> {
  const out = await h.callOk<{ model: string }>("route_task", { prompt: "Summarize this paragraph in one sentence." });
  expect(typeof out.model).toBe("string");
}

describe("NUL and invalid text are refused at the boundary, naming the field", () => {
  const cases: Array<[string, string, Record<string, unknown>, string]> = [
    ["a NUL in the prompt", "route_task", { prompt: "hello\u0000world" }, "prompt"],
    ["a NUL in user", "route_task", { prompt: "hello", user: "evil\u0000" }, "user"],
    ["a NUL in tenant", "route_task", { prompt: "hello", tenant: "evil\u0000" }, "tenant"],
    ["a NUL in requestId", "route_task", { prompt: "hello", requestId: "r-\u0000" }, "requestId"],
    ["a NUL in a message's content", "route_task", { messages: [{ role: "user", content: "ok" }, { role: "user", content: "bad\u0000" }] }, "messages.1.content"],
    ["a NUL in a name hint", "route_task", { prompt: "hello", modelPreferences: { hints: [{ name: "gpt\u0000" }] } }, "modelPreferences.hints.0.name"],
    ["a lone high surrogate in the prompt", "route_task", { prompt: "abc\uD800def" }, "prompt"],
    ["a lone low surrogate in user", "run_llm", { prompt: "hello", user: "\uDC00" }, "user"],
    ["a NUL in run_llm's prompt", "run_llm", { prompt: "x\u0000" }, "prompt"],
    ["a NUL in run_llm's user", "run_llm", { prompt: "hello", user: "evil\u0000" }, "user"],
    ["a NUL in record_feedback's note", "record_feedback", { requestId: "r1", rating: 5, note: "good\u0000" }, "note"],
    ["a NUL in record_feedback's requestId", "record_feedback", { requestId: "r\u00001", rating: 5 }, "requestId"],
    ["a NUL in usage_report's tenant", "usage_report", { tenant: "\u0000" }, "tenant"],
  ];
  it.each(cases)("%s", async (_what, tool, args, field) => {
    const err = await h.callFail(tool, args);
    expect(err).toMatchObject({ code: "invalid_request", field, retryable: false });
    expect(err.message).toContain(field);
    expect(err.message.includes("\u0000")).toBe(false);
    await stillServes();
  });

  it("accepts tabs, newlines and other control characters in a prompt", async () => {
    const out = await h.callOk<{ model: string }>("route_task", { prompt: "Summarize:\tcolumn\r\nnext line \u0001\u001f\u007f end", user: "tab\tuser" });
    expect(typeof out.model).toBe("string");
  });

  it("accepts well-formed astral characters (surrogate pairs)", async () => {
    await h.callOk("route_task", { prompt: "Translate this emoji-rich line: 🚀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓" });
  });

  it("findBadText names nested fields and keys", () => {
    expect(findBadText({ a: [{ b: "ok" }, { c: "x\u0000" }] })?.field).toBe("a.1.c");
    expect(findBadText({ a: { "k\u0000": 1 } })).toMatchObject({ field: "a", message: expect.stringContaining("key") });
    expect(findBadText({ a: "\uD83D\uDE80", b: ["\t\n"] })).toBeUndefined();
    expect(findBadText("\u0000")?.field).toBe("arguments");
  });
});

describe("prototype names are unknown values, answered with the valid ones", () => {
  it.each(PROTO_NAMES)("tenant %s on every tenant-taking tool", async (name) => {
    for (const [tool, args] of [
      ["route_task", { prompt: "hello" }],
      ["run_llm", { prompt: "hello" }],
      ["record_feedback", { requestId: "r1", rating: 4 }],
      ["usage_report", {}],
    ] as const) {
      const err = await h.callFail(tool, { ...args, tenant: name });
      expect(err, `${tool} tenant ${name}`).toMatchObject({ code: "invalid_request", field: "tenant" });
      expect(err.validValues).toContain(h.runtime.config.router.defaultTenant);
      expect(err.validValues).not.toContain(name);
    }
    await stillServes();
  });

  it.each(PROTO_NAMES)("mode %s", async (name) => {
    for (const tool of ["route_task", "run_llm"]) {
      const err = await h.callFail(tool, { prompt: "hello", mode: name });
      expect(err, `${tool} mode ${name}`).toMatchObject({ code: "invalid_request", field: "mode" });
      expect(err.validValues).toContain("realtime_assist");
    }
  });

  it.each(PROTO_NAMES)("model %s", async (name) => {
    for (const tool of ["route_task", "run_llm"]) {
      const err = await h.callFail(tool, { prompt: "hello", model: name });
      expect(err, `${tool} model ${name}`).toMatchObject({ code: "invalid_request", field: "model" });
      expect(err.validValues?.length).toBeGreaterThan(0);
      expect(err.validValues).not.toContain(name);
    }
  });

  it.each(PROTO_NAMES)("taskType %s", async (name) => {
    const err = await h.callFail("route_task", { prompt: "hello", taskType: name });
    expect(err).toMatchObject({ code: "invalid_request", field: "taskType" });
    expect(err.validValues).toContain("debugging");
  });
});
