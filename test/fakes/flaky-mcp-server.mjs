// A small MCP server whose tools misbehave on demand, beside the reference servers in the
// downstream tests: `echo` (idempotent), `fail` (throws), `hang` (answers only when cancelled;
// writes "started <id>", then "cancelled <id>", to $FLAKY_LOG), `crash` (the process exits mid-call) and
// `flaky` (fails on odd calls, succeeds on even ones; idempotent, for retries).
// stdio by default; `--http` serves Streamable HTTP (stateless) on a free port and prints
// "listening <port>" on stdout.
import { appendFileSync } from "node:fs";
import { createServer } from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

let flakyCalls = 0;

function build() {
  const server = new McpServer({ name: "flaky", version: "1.0.0" });
  server.registerTool("echo", { description: "Returns its text.", inputSchema: { text: z.string() }, annotations: { idempotentHint: true, readOnlyHint: true } }, async ({ text }) => ({
    content: [{ type: "text", text: `echo: ${text}` }],
  }));
  server.registerTool("fail", { description: "Always fails.", inputSchema: {} }, async () => {
    throw new Error("the fail tool failed, as it always does");
  });
  server.registerTool("hang", { description: "Never answers until cancelled.", inputSchema: { id: z.string().optional() } }, async ({ id }, extra) => {
    if (process.env.FLAKY_LOG) appendFileSync(process.env.FLAKY_LOG, `started ${id ?? ""}\n`);
    await new Promise((resolve) => extra.signal.addEventListener("abort", resolve, { once: true }));
    if (process.env.FLAKY_LOG) appendFileSync(process.env.FLAKY_LOG, `cancelled ${id ?? ""}\n`);
    return { content: [{ type: "text", text: "cancelled" }] };
  });
  server.registerTool("crash", { description: "Kills its own server.", inputSchema: {} }, async () => {
    setImmediate(() => process.exit(3));
    return new Promise(() => undefined);
  });
  server.registerTool("flaky", { description: "Fails every other call.", inputSchema: {}, annotations: { idempotentHint: true } }, async () => {
    flakyCalls++;
    if (flakyCalls % 2 === 1) throw new Error(`flaky call ${flakyCalls} failed`);
    return { content: [{ type: "text", text: `flaky call ${flakyCalls} worked` }] };
  });
  return server;
}

if (process.argv.includes("--http")) {
  const http = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const server = build();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body ? JSON.parse(body) : undefined);
  });
  http.listen(0, "127.0.0.1", () => console.log(`listening ${http.address().port}`));
} else {
  await build().connect(new StdioServerTransport());
}
