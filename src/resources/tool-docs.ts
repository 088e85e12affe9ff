import { ResourceTemplate, type McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Runtime } from "../runtime.js";
import { inputJson, outputJson } from "../tools/define-tool.js";
import { TOOLS } from "../tools/index.js";

const PREFIX = "switchboard://docs/tools/";

/**
 * switchboard://docs/tools/{name}: one tool in full, what tools/list leaves out to stay small
 * (every agent carries it in its context): the input schema with nested fields closed and every
 * description, and the output schema with which fields are always there, enums and nested fields.
 */
export function registerToolDocsResource(server: McpServer, runtime: Runtime): void {
  server.registerResource(
    "tool-docs",
    new ResourceTemplate(`${PREFIX}{name}`, {
      list: () => ({ resources: TOOLS.map((t) => ({ uri: PREFIX + t.name, name: `docs-${t.name}`, title: t.title, mimeType: "application/json" })) }),
      complete: { name: (value) => TOOLS.map((t) => t.name).filter((n) => n.startsWith(value)) },
    }),
    {
      title: "Tool reference",
      description: "One tool in full: its input and output JSON Schemas with every field, description and enum (tools/list gives the short form).",
      mimeType: "application/json",
    },
    (uri, { name }) => {
      const def = TOOLS.find((t) => t.name === String(name));
      const body = def
        ? {
            name: def.name,
            title: def.title,
            description: def.description,
            ...(def.describedOn ? { sharedArguments: { describedOn: def.describedOn.tool, fields: def.describedOn.fields } } : {}),
            annotations: def.annotations,
            inputSchema: inputJson(def, runtime.config, { full: true }),
            outputSchema: outputJson(def),
          }
        : { error: `unknown tool "${String(name)}"`, validValues: TOOLS.map((t) => t.name) };
      return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(body, null, 2) }] };
    },
  );
}
