// The node flags Switchboard ships with: the Claude Desktop bundle's command (manifest.json) puts them
// before dist/cli.js, and `npm start` uses the same. The benches start the server the way it ships.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The flags between `node` and the entry point in manifest.json's command (BENCH_NODE_ARGS overrides them, for A/B runs). */
export function shippedNodeArgs() {
  if (process.env.BENCH_NODE_ARGS !== undefined) return process.env.BENCH_NODE_ARGS.split(" ").filter(Boolean);
  const args = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8")).server.mcp_config.args;
  return args.slice(0, args.findIndex((a) => a.endsWith("dist/cli.js")));
}
