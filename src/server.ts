import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation";
import { z } from "zod";
import { Runtime } from "./runtime.js";
import { registerTools } from "./tools/index.js";
import { registerConfigResources } from "./resources/config-resources.js";
import { registerStatusResource } from "./resources/status.js";
import { registerUsageResource } from "./resources/usage.js";
import { registerToolDocsResource } from "./resources/tool-docs.js";
import { registerMcpServersResource } from "./resources/mcp-servers.js";
import { registerGatewayTools } from "./tools/gateway.js";
import { PACKAGE_VERSION } from "./version.js";

export interface ServerOptions {
  runtime?: Runtime;
  /** The session's tenant (from its token): gateway mode lists only the downstream tools open to it. Undefined: local or admin, all of them. */
  tenant?: string;
  /** Registers a trivial `echo` tool: the benchmark's baseline for transport overhead. */
  benchEcho?: boolean;
}

const INSTRUCTIONS =
  "Switchboard routes agent jobs to the right model and provider. Call route_task with the user's prompt " +
  "to get the model to use, its fallbacks, the estimated cost and a one-line reason; call run_llm to route and run the call " +
  "with retries, circuit breakers and fallbacks. Read switchboard://config/routing-table for the copilot modes, " +
  "switchboard://config/models for the catalog, switchboard://status for provider health, and " +
  "switchboard://docs/tools/{name} for a tool's full input and output schemas.";

/**
 * The SDK's own (Ajv) validator, built on first use. The SDK builds one in every server's
 * constructor, about a millisecond, though a server only uses it to check elicitation answers;
 * stateless HTTP builds a server per request.
 */
class LazyJsonSchemaValidator implements jsonSchemaValidator {
  private inner: AjvJsonSchemaValidator | undefined;
  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    this.inner ??= new AjvJsonSchemaValidator();
    return this.inner.getValidator<T>(schema);
  }
}

export function createServer(opts: ServerOptions = {}): { server: McpServer; runtime: Runtime } {
  const runtime = opts.runtime ?? new Runtime();
  const server = new McpServer(
    { name: "switchboard", title: "Switchboard", version: PACKAGE_VERSION },
    { capabilities: { tools: {}, resources: {}, logging: {} }, instructions: INSTRUCTIONS, jsonSchemaValidator: new LazyJsonSchemaValidator() },
  );
  registerTools(server, runtime);
  registerConfigResources(server, runtime);
  registerStatusResource(server, runtime);
  registerUsageResource(server, runtime);
  registerToolDocsResource(server, runtime);
  registerMcpServersResource(server, runtime);
  registerGatewayTools(server, runtime, opts.tenant);
  if (opts.benchEcho) {
    server.registerTool(
      "echo",
      { description: "Returns its input (benchmark baseline).", inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } },
      async ({ text }) => ({ content: [{ type: "text", text }], structuredContent: { text } }),
    );
  }
  return { server, runtime };
}
