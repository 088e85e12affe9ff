#!/usr/bin/env node
// The startup benchmark's baseline: a bare MCP server on the same SDK over stdio with one `echo`
// tool, nothing else loaded. `bench/startup.mjs` spawns it next to Switchboard.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "echo", version: "1.0.0" }, { capabilities: { tools: {} } });
server.registerTool(
  "echo",
  { description: "Returns its input.", inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } },
  async ({ text }) => ({ content: [{ type: "text", text }], structuredContent: { text } }),
);
process.stdin.on("end", () => process.exit(0));
await server.connect(new StdioServerTransport());
