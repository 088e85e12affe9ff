// run_llm using downstream MCP servers for real: the reference servers from npm (server-memory and
// server-everything over stdio) and a small misbehaving server of ours (stdio and Streamable
// HTTP), with the loopback OpenAI fake issuing the tool calls. Multi-step loops, tools that throw,
// hang or kill their server, the breaker and the status resource, tenants, and cancellation.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import YAML from "yaml";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Runtime } from "../../src/runtime.js";
import { startHttpServer, type HttpServerHandle } from "../../src/http/http-server.js";
import { captureLogger } from "../helpers/capture-logger.js";
import { fakeEnv, startFakes, type Fakes } from "../helpers/llm-fakes.js";
import { startRunLlmHarness, type RunLlmHarness } from "../helpers/run-llm.js";

const require = createRequire(import.meta.url);
const binOf = (pkg: string) => join(dirname(require.resolve(`${pkg}/package.json`)), "dist", "index.js");
const FLAKY = join(import.meta.dirname, "..", "fakes", "flaky-mcp-server.mjs");
const MINI = "openai:gpt-4.1-mini";

let fakes: Fakes;
let h: RunLlmHarness;
let dir: string;
let flakyHttp: ChildProcess;
const flakyLog = () => join(dir, "flaky.log");

/** The fake model's replies, one per request: tool calls (by function name), then a final text. */
function script(...steps: Array<Array<{ name: string; args: Record<string, unknown> }> | string>): void {
  fakes.openai.enqueue(
    ...steps.map((s, i) =>
      typeof s === "string"
        ? { reply: { text: s } }
        : { reply: { toolCalls: s.map((c, j) => ({ id: `call_${i}_${j}`, name: c.name, arguments: JSON.stringify(c.args) })), finishReason: "tool_calls" } },
    ),
  );
}

/** The tool messages the model was sent in its last request. */
const toolMessages = () => (fakes.openai.requests.at(-1)!.body.messages as Array<{ role: string; content: string; tool_call_id?: string }>).filter((m) => m.role === "tool");

async function startFlakyHttp(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [FLAKY, "--http"], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  return { child, url: `http://127.0.0.1:${line.split(" ")[1]}/mcp` };
}

beforeAll(async () => {
  fakes = await startFakes();
  dir = mkdtempSync(join(tmpdir(), "sb-downstream-"));
  const http = await startFlakyHttp();
  flakyHttp = http.child;
  h = await startRunLlmHarness({
    env: { ...fakeEnv({ openai: fakes.openai.url, anthropic: fakes.anthropic.url }), FLAKY_TOKEN: "flaky-secret-token-123" },
    overlay: {
      mcp: {
        breaker: { consecutiveFailures: 2, halfOpenAfterMs: 600_000 },
        servers: {
          memory: { command: process.execPath, args: [binOf("@modelcontextprotocol/server-memory")], env: { MEMORY_FILE_PATH: join(dir, "memory.jsonl") } },
          everything: { command: process.execPath, args: [binOf("@modelcontextprotocol/server-everything"), "stdio"], tools: ["echo", "get-sum"] },
          flaky: { command: process.execPath, args: [FLAKY] },
          // Its own server: the breaker test leaves flaky's circuit open.
          waiter: { command: process.execPath, args: [FLAKY], env: { FLAKY_LOG: join(dir, "flaky.log") }, callTimeoutMs: 60_000 },
          slow: { command: process.execPath, args: [FLAKY], callTimeoutMs: 300 },
          crashy: { command: process.execPath, args: [FLAKY] },
          remote: { url: http.url, headers: { Authorization: "Bearer ${FLAKY_TOKEN}" }, retries: 1 },
          private: { command: process.execPath, args: [FLAKY], tenants: ["acme"] },
        },
      },
    },
  });
}, 120_000);

afterAll(async () => {
  await h?.close();
  flakyHttp?.kill();
  await fakes?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => fakes.reset());

describe("run_llm with downstream MCP tools", () => {
  it("runs a multi-step loop on the reference memory server and answers with what the tools returned", async () => {
    script(
      [{ name: "memory__create_entities", args: { entities: [{ name: "Lima", entityType: "city", observations: ["capital of Peru"] }] } }],
      [{ name: "memory__search_nodes", args: { query: "Lima" } }],
      "Lima is the capital of Peru.",
    );
    const out = await h.ok({ prompt: "Remember that Lima is the capital of Peru, then look it up.", model: MINI, mcpTools: ["memory"] });
    expect(out.text).toBe("Lima is the capital of Peru.");
    expect((out as unknown as { mcpToolCalls: Array<{ tool: string; outcome: string }> }).mcpToolCalls.map((c) => [c.tool, c.outcome])).toEqual([
      ["memory.create_entities", "ok"],
      ["memory.search_nodes", "ok"],
    ]);
    // The model was offered the server's tools as functions, and got the search result back.
    const first = fakes.openai.requests[0]!.body.tools.map((t: { function: { name: string } }) => t.function.name);
    expect(first).toContain("memory__create_entities");
    expect(toolMessages().at(-1)!.content).toContain("capital of Peru");
    expect(fakes.openai.requests).toHaveLength(3);
  });

  it("uses only the tools a server allows, on the reference everything server", async () => {
    script([{ name: "everything__echo", args: { message: "hi there" } }], "done");
    const out = await h.ok({ prompt: "Echo hi there.", model: MINI, mcpTools: ["everything"] });
    const offered = fakes.openai.requests[0]!.body.tools.map((t: { function: { name: string } }) => t.function.name).sort();
    expect(offered).toEqual(["everything__echo", "everything__get-sum"]);
    expect(toolMessages()[0]!.content).toContain("hi there");
    expect(out.text).toBe("done");
  });

  it("a tool that throws comes back as a structured tool error, and the run still answers", async () => {
    script([{ name: "flaky__fail", args: {} }], "The tool failed, so here is my best answer.");
    const out = await h.ok({ prompt: "Use the fail tool.", model: MINI, mcpTools: ["flaky.fail"] });
    expect(out.text).toMatch(/best answer/);
    const err = JSON.parse(toolMessages()[0]!.content).error;
    expect(err).toMatchObject({ tool: "flaky.fail", code: "tool_error" });
    expect(err.message).toMatch(/fail tool failed/);
  });

  it("a tool that hangs times out into a tool error, and the run still answers", async () => {
    script([{ name: "slow__hang", args: {} }], "It timed out; answering anyway.");
    const out = await h.ok({ prompt: "Use the hang tool.", model: MINI, mcpTools: ["slow"] });
    expect(out.text).toMatch(/answering anyway/);
    expect(JSON.parse(toolMessages()[0]!.content).error.code).toBe("timeout");
  });

  it("a server killed mid-loop gives a tool error, the run answers, and the status resource shows it", async () => {
    script([{ name: "crashy__crash", args: {} }], [{ name: "crashy__echo", args: { text: "still there?" } }], "The server died.");
    const out = await h.ok({ prompt: "Crash the server, then echo.", model: MINI, mcpTools: ["crashy"] });
    expect(out.text).toBe("The server died.");
    const outcomes = (out as unknown as { mcpToolCalls: Array<{ outcome: string }> }).mcpToolCalls.map((c) => c.outcome);
    expect(outcomes[0]).toBe("server_unavailable");
    expect(outcomes[1]).not.toBe("ok");
    const status = await readServers();
    expect(status.find((s) => s.server === "crashy")!.state).toBe("failed");
  });

  it("repeated failures open the server's breaker: later calls are skipped, and the resource says so", async () => {
    script([{ name: "flaky__fail", args: {} }], [{ name: "flaky__fail", args: {} }], [{ name: "flaky__fail", args: {} }], "gave up");
    const out = await h.ok({ prompt: "Keep trying the fail tool.", model: MINI, mcpTools: ["flaky.fail"] });
    const outcomes = (out as unknown as { mcpToolCalls: Array<{ outcome: string }> }).mcpToolCalls.map((c) => c.outcome);
    expect(outcomes).toContain("circuit_open");
    const flaky = (await readServers()).find((s) => s.server === "flaky")!;
    expect(flaky.breaker).toBe("open");
    expect(out.text).toBe("gave up");
  });

  it("calls a server over Streamable HTTP with headers from the environment, retrying an idempotent tool", async () => {
    script([{ name: "remote__flaky", args: {} }], [{ name: "remote__echo", args: { text: "over http" } }], "ok");
    const out = await h.ok({ prompt: "Use the remote tools.", model: MINI, mcpTools: ["remote"] });
    const calls = (out as unknown as { mcpToolCalls: Array<{ tool: string; outcome: string }> }).mcpToolCalls;
    // flaky fails on its first call and works on the retry (it is annotated idempotent).
    expect(calls.map((c) => [c.tool, c.outcome])).toEqual([
      ["remote.flaky", "ok"],
      ["remote.echo", "ok"],
    ]);
    expect(toolMessages().at(-1)!.content).toBe("echo: over http");
    expect(JSON.stringify(await readServers())).not.toContain("flaky-secret-token-123");
  });

  it("a tenant without access neither sees nor calls the server", async () => {
    script("no tools for you");
    const out = await h.ok({ prompt: "Use the private tools.", model: MINI, mcpTools: ["private"] });
    expect(fakes.openai.requests[0]!.body.tools ?? []).toEqual([]);
    expect((out as unknown as { warnings: string[] }).warnings.join(" ")).toMatch(/no downstream MCP tool matches private/);
    expect(h.runtime.downstream.status("default").map((s) => s.server)).not.toContain("private");
    expect(h.runtime.downstream.status("acme").map((s) => s.server)).toContain("private");
  });

  it("cancelling the run cancels the downstream call", async () => {
    script([{ name: "waiter__hang", args: { id: "run-1" } }], "never");
    const abort = new AbortController();
    const started = waitForLine(flakyLog(), "started run-1");
    const call = h.run({ prompt: "Hang.", model: MINI, mcpTools: ["waiter.hang"] }, { signal: abort.signal });
    // The downstream call is in flight once the tool says it started.
    await started;
    abort.abort();
    await expect(call).rejects.toThrow();
    await waitForLine(flakyLog(), "cancelled run-1");
  }, 60_000);
});

describe("gateway mode: the downstream tools through Switchboard's own MCP server", () => {
  let runtime: Runtime;
  let handle: HttpServerHandle;
  const clients: Client[] = [];
  const gwLog = () => join(dir, "gateway.log");

  async function connect(token: string): Promise<Client> {
    const client = new Client({ name: "gateway-test", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${handle.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    const overlayFile = join(dir, "gateway.yaml");
    writeFileSync(
      overlayFile,
      YAML.stringify({
        mcp: {
          gateway: { enabled: true },
          servers: {
            everything: { command: process.execPath, args: [binOf("@modelcontextprotocol/server-everything"), "stdio"], tools: ["echo"] },
            waiter: { command: process.execPath, args: [FLAKY], env: { FLAKY_LOG: gwLog() }, tools: ["hang", "echo"] },
            private: { command: process.execPath, args: [FLAKY], tenants: ["acme"], tools: ["echo"] },
          },
        },
      }),
    );
    runtime = new Runtime({ overlayFile, env: { SWITCHBOARD_TOKENS: "default=gw-default-token,acme=gw-acme-token" } });
    // What serve does at start in gateway mode: connect the servers, so sessions list their tools at once.
    await runtime.downstream.allToolsFor(undefined);
    handle = await startHttpServer({ runtime, port: 0, log: captureLogger().log });
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await handle?.close();
    await runtime?.close();
  });

  it("lists the tools open to the session's tenant, with their schemas, and calls one through", async () => {
    const c = await connect("gw-default-token");
    const names = (await c.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["everything__echo", "waiter__hang", "waiter__echo", "route_task", "run_llm"]));
    expect(names).not.toContain("private__echo");
    const echo = (await c.listTools()).tools.find((t) => t.name === "everything__echo")!;
    expect(Object.keys(echo.inputSchema.properties ?? {})).toContain("message");
    const res = await c.callTool({ name: "everything__echo", arguments: { message: "via the gateway" } });
    expect(JSON.stringify(res.content)).toContain("via the gateway");
    const acme = await connect("gw-acme-token");
    expect((await acme.listTools()).tools.map((t) => t.name)).toContain("private__echo");
  });

  it("cancelling a call through the gateway cancels it downstream", async () => {
    const c = await connect("gw-default-token");
    const abort = new AbortController();
    const started = waitForLine(gwLog(), "started gw-1");
    const call = c.callTool({ name: "waiter__hang", arguments: { id: "gw-1" } }, undefined, { signal: abort.signal, timeout: 60_000 });
    await started;
    abort.abort();
    await expect(call).rejects.toThrow();
    await waitForLine(gwLog(), "cancelled gw-1");
  }, 60_000);
});

type ServerStatus = { server: string; state: string; breaker: string; tools: string[] };

async function readServers(): Promise<ServerStatus[]> {
  const res = await h.client.readResource({ uri: "switchboard://mcp/servers" });
  return JSON.parse((res.contents[0] as { text: string }).text).servers as ServerStatus[];
}

/** Resolves when `file` holds `line` (watching the file, no polling on a clock). */
async function waitForLine(file: string, line: string): Promise<void> {
  const has = () => existsSync(file) && readFileSync(file, "utf8").includes(line);
  const watcher = watch(dirname(file));
  try {
    while (!has()) await once(watcher, "change");
  } finally {
    watcher.close();
  }
}
