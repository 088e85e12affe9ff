// Downstream MCP servers without a live server: what the config accepts, how ${VAR} values are
// read, and a server that cannot start reported (never thrown, never with its secrets).
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";
import { loadConfig, ConfigError } from "../../src/config/load.js";
import { expandEnv } from "../../src/downstream/connection.js";
import { DownstreamPool } from "../../src/downstream/pool.js";
import { captureLogger } from "../helpers/capture-logger.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function configWith(mcp: unknown) {
  const dir = mkdtempSync(join(tmpdir(), "sb-mcp-config-"));
  dirs.push(dir);
  const overlayFile = join(dir, "overlay.yaml");
  writeFileSync(overlayFile, YAML.stringify({ mcp }));
  return () => loadConfig({ overlayFile, env: {} });
}

describe("config/mcp.yaml", () => {
  it("ships with no servers, eight tool steps and the gateway off", () => {
    const { config } = loadConfig({ env: {} });
    expect(config.mcp).toMatchObject({ servers: {}, maxToolSteps: 8, gateway: { enabled: false } });
  });

  it("refuses a server with both or neither of command and url, naming the server", () => {
    for (const entry of [{ command: "node", url: "http://127.0.0.1:1/mcp" }, { args: ["x"] }]) {
      const load = configWith({ servers: { bad: entry } });
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(/mcp\.servers\.bad.*exactly one of command \(stdio\) or url/s);
    }
  });

  it("refuses two servers under one namespace", () => {
    const load = configWith({ servers: { a: { command: "node" }, b: { command: "node", namespace: "a" } } });
    expect(load).toThrow(/namespace "a" is already server a's/);
  });

  it("takes servers in Claude Desktop's shape, with defaults", () => {
    const { config } = configWith({ servers: { memory: { command: "npx", args: ["-y", "@modelcontextprotocol/server-memory"] } } })();
    expect(config.mcp.servers.memory).toMatchObject({ command: "npx", tools: ["*"], tenants: ["*"], transport: "streamable-http", enabled: true });
  });
});

describe("${VAR} values", () => {
  it("reads variables from the environment", () => {
    expect(expandEnv("Bearer ${TOKEN}", { TOKEN: "abc" }, "header")).toBe("Bearer abc");
  });

  it("names a missing variable, and nothing else", () => {
    expect(() => expandEnv("${NOPE}-${TOKEN}", { TOKEN: "secret-value" }, "mcp server x header Authorization")).toThrow(
      /mcp server x header Authorization needs the environment variable NOPE, which is not set/,
    );
  });
});

describe("a downstream server that cannot start", () => {
  it("is reported as unavailable with its cause, without its secrets, and the pool keeps working", async () => {
    const { config } = configWith({
      servers: { ghost: { command: join(tmpdir(), "no-such-mcp-server-binary"), env: { API_KEY: "${GHOST_KEY}" } } },
    })();
    const { log, lines } = captureLogger();
    const pool = new DownstreamPool(() => config, { GHOST_KEY: "ghost-secret-value" }, log);
    const first = await pool.toolsFor("default", ["ghost"]);
    expect(first.tools).toEqual([]);
    expect(first.unavailable).toHaveLength(1);
    expect(first.unavailable[0]!.server).toBe("ghost");
    // The next try waits out the backoff instead of spawning again at once.
    const second = await pool.toolsFor("default", ["ghost"]);
    expect(second.unavailable[0]!.why).toMatch(/reconnecting in \d+ s/);
    const [status] = pool.status();
    expect(status).toMatchObject({ server: "ghost", state: "failed", breaker: "closed" });
    const everything = JSON.stringify([first, second, pool.status(), lines]);
    expect(everything).not.toContain("ghost-secret-value");
    await pool.close();
  });

  it("a tenant the server is not open to gets not_found, never a call", async () => {
    const { config } = configWith({ servers: { only: { command: "node", tenants: ["acme"] } } })();
    const pool = new DownstreamPool(() => config, {}, captureLogger().log);
    const r = await pool.call("default", { server: "only", tool: "x", id: "only.x" }, {}, new AbortController().signal);
    expect(r).toMatchObject({ ok: false, code: "not_found" });
    expect(pool.status("default")).toEqual([]);
    await pool.close();
  });
});
