import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { once } from "node:events";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "dist", "cli.js");
const TOKEN = "e2e-acme-token-4242";

/** The parent's env minus provider keys and overlays, with a throwaway store and one tenant token. */
function env(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /(_API_KEY|_API_TOKEN|_TOKEN|_TOKENS|_BASE_URL)$/.test(k) || ["SWITCHBOARD_CONFIG", "LOG_LEVEL", "DATABASE_URL"].includes(k)) continue;
    out[k] = v;
  }
  return { ...out, SWITCHBOARD_LOG_LEVEL: "info", SWITCHBOARD_DATA_DIR: mkdtempSync(join(tmpdir(), "sb-e2e-http-")), SWITCHBOARD_TOKENS: `acme=${TOKEN}` };
}

describe("switchboard serve --http (a real process)", () => {
  let child: ChildProcess;
  let url: string;
  let stderr = "";
  let stdout = "";

  beforeAll(async () => {
    child = spawn(process.execPath, [CLI, "serve", "--http", "--port", "0", "--no-watch"], { env: env(), stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (c) => (stdout += c));
    url = await new Promise<string>((res, rej) => {
      child.stderr!.on("data", (c) => {
        stderr += c;
        const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(stderr);
        if (m) res(m[1]!);
      });
      child.once("exit", (code) => rej(new Error(`server exited (${code}) before listening:\n${stderr}`)));
    });
  }, 30_000);

  afterAll(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  it("routes for the token's tenant, records the call, and stops cleanly on SIGTERM", async () => {
    const client = new Client({ name: "e2e", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
    const res = (await client.callTool({ name: "route_task", arguments: { prompt: "Summarize this paragraph in one line: the meeting moved to Friday because the venue flooded." } })) as CallToolResult;
    expect(res.isError).toBeFalsy();
    expect(res.structuredContent).toMatchObject({ tenant: "acme", taskType: "summarization" });
    // The store opens in the background; usage_report waits for it and flushes telemetry first.
    const usage = (await client.callTool({ name: "usage_report", arguments: {} })) as CallToolResult;
    expect(usage.isError).toBeFalsy();
    const report = (usage.structuredContent as { report: { tenant: string; calls: number } }).report;
    expect(report.tenant).toBe("acme");
    expect(report.calls).toBeGreaterThanOrEqual(1);
    await client.close();

    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
    expect(stderr).toMatch(/switchboard stopping/);
    // stdout is not the protocol channel over HTTP, but nothing should print there either.
    expect(stdout).toBe("");
    expect(stderr).not.toContain(TOKEN);
  }, 60_000);
});

describe("switchboard serve --http failing to start", () => {
  /** Runs the CLI to its exit; a start failure must not leave the store or watchers holding it open. */
  async function runToExit(args: string[]): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [CLI, ...args], { env: env(), stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (c) => (stderr += c));
    const [code] = (await once(child, "exit")) as [number | null];
    return { code, stderr };
  }

  it("exits with a usage error for a bad --port", async () => {
    const r = await runToExit(["serve", "--http", "--port", "abc"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port must be a whole number from 0 to 65535/);
  }, 30_000);

  it("exits with an actionable error when the port is taken", async () => {
    const blocker = createNetServer();
    await new Promise<void>((res) => blocker.listen(0, "127.0.0.1", () => res()));
    try {
      const port = (blocker.address() as AddressInfo).port;
      const r = await runToExit(["serve", "--http", "--port", String(port), "--no-watch"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`127.0.0.1:${port} is already in use`);
      expect(r.stderr).toMatch(/pick another --port/);
    } finally {
      blocker.close();
    }
  }, 30_000);
});
