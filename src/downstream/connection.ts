import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import type { CircuitBreakerPolicy, CircuitState } from "cockatiel";
import { cockatiel } from "../resilience/cockatiel.js";
import type { McpServerEntry, McpSettings } from "../config/schema.js";
import type { Logger } from "../logger.js";

/** What one downstream tool call came to, as the model, the result and telemetry see it. */
export interface ToolOutcome {
  ok: boolean;
  /** The tool's text (or its error, in words the model can reason about). */
  text: string;
  /** "ok", or why not: tool_error, timeout, server_unavailable, circuit_open, not_found, cancelled. */
  code: string;
  attempts: number;
  /** On success, the tool's result as the server gave it (for the gateway, which passes it on). */
  result?: { content: unknown[]; structuredContent?: unknown };
}

export interface ConnectionStatus {
  server: string;
  namespace: string;
  transport: "stdio" | "streamable-http" | "sse";
  state: "idle" | "connecting" | "ready" | "failed";
  tools: string[];
  breaker: "closed" | "open" | "half-open";
  calls: number;
  failures: number;
  lastError?: string;
}

/** `${NAME}` from the environment; a missing variable is an error naming it (never its value). */
export function expandEnv(value: string, env: NodeJS.ProcessEnv, where: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = env[name];
    if (v === undefined || v === "") throw new Error(`${where} needs the environment variable ${name}, which is not set`);
    return v;
  });
}

const expandAll = (rec: Record<string, string>, env: NodeJS.ProcessEnv, where: string) =>
  Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, expandEnv(v, env, `${where} ${k}`)]));

/** The first 200 characters of an error's message, secrets of the server's config taken out. */
function safeMessage(err: unknown, secrets: string[]): string {
  let m = String((err as Error)?.message ?? err).slice(0, 200);
  for (const s of secrets) if (s.length >= 4) m = m.split(s).join("***");
  return m;
}

/**
 * One downstream MCP server: connected on first use, reconnected (with backoff) after it drops,
 * its tools listed once and again when it says they changed, and every call behind a timeout,
 * retries for idempotent tools, and the server's circuit breaker. A call never throws: whatever
 * goes wrong comes back as a ToolOutcome the model can read.
 */
export class Connection {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private tools: Tool[] | undefined;
  private state: ConnectionStatus["state"] = "idle";
  private lastError: string | undefined;
  private failedAt = 0;
  private backoffMs = 0;
  private calls = 0;
  private failures = 0;
  private readonly breaker: CircuitBreakerPolicy;

  constructor(
    readonly name: string,
    readonly entry: McpServerEntry,
    settings: McpSettings,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: Logger,
  ) {
    const { circuitBreaker, handleAll, ConsecutiveBreaker } = cockatiel();
    this.breaker = circuitBreaker(handleAll, { halfOpenAfter: settings.breaker.halfOpenAfterMs, breaker: new ConsecutiveBreaker(settings.breaker.consecutiveFailures) });
  }

  get namespace(): string {
    return this.entry.namespace ?? this.name;
  }

  /** Values of this server's env and headers: kept out of every message. */
  private secrets(): string[] {
    try {
      return [...Object.values(expandAll(this.entry.env, this.env, "")), ...Object.values(expandAll(this.entry.headers, this.env, ""))];
    } catch {
      return [];
    }
  }

  private async connect(): Promise<Client> {
    if (this.client) return this.client;
    // After a failure, wait out the backoff before trying again (calls meanwhile fail fast).
    const wait = this.failedAt + this.backoffMs - Date.now();
    if (wait > 0) throw new Error(`reconnecting in ${Math.ceil(wait / 1000)} s after: ${this.lastError ?? "a failure"}`);
    this.connecting ??= this.open().then(
      (client) => {
        this.client = client;
        this.state = "ready";
        this.backoffMs = 0;
        this.connecting = undefined;
        return client;
      },
      (err: unknown) => {
        this.connecting = undefined;
        this.markFailed(err);
        throw err;
      },
    );
    return this.connecting;
  }

  private markFailed(err: unknown): void {
    this.state = "failed";
    this.lastError = safeMessage(err, this.secrets());
    this.failedAt = Date.now();
    this.backoffMs = Math.min(30_000, Math.max(500, this.backoffMs * 2));
    this.log.warn({ server: this.name, err: this.lastError, retryInMs: this.backoffMs }, "downstream MCP server unavailable");
  }

  private async open(): Promise<Client> {
    this.state = "connecting";
    const [{ Client }, { ToolListChangedNotificationSchema }] = await Promise.all([import("@modelcontextprotocol/sdk/client/index.js"), import("@modelcontextprotocol/sdk/types.js")]);
    const client = new Client({ name: "switchboard", version: "1" });
    const e = this.entry;
    let transport;
    if (e.command) {
      const { StdioClientTransport, getDefaultEnvironment } = await import("@modelcontextprotocol/sdk/client/stdio.js");
      transport = new StdioClientTransport({ command: e.command, args: e.args, env: { ...getDefaultEnvironment(), ...expandAll(e.env, this.env, `mcp server ${this.name} env`) }, ...(e.cwd ? { cwd: e.cwd } : {}), stderr: "ignore" });
    } else {
      const url = new URL(expandEnv(e.url!, this.env, `mcp server ${this.name} url`));
      const requestInit = { headers: expandAll(e.headers, this.env, `mcp server ${this.name} header`) };
      if (e.transport === "sse") {
        const { SSEClientTransport } = await import("@modelcontextprotocol/sdk/client/sse.js");
        transport = new SSEClientTransport(url, { requestInit, eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...requestInit.headers } }) } });
      } else {
        const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
        transport = new StreamableHTTPClientTransport(url, { requestInit });
      }
    }
    client.onclose = () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.tools = undefined;
      this.markFailed(new Error("the connection closed"));
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      this.tools = undefined;
    });
    await client.connect(transport, { timeout: e.connectTimeoutMs });
    return client;
  }

  /** The server's allowed tools (listed on first use, and again after it says they changed). */
  async listTools(): Promise<Tool[]> {
    if (this.tools) return this.tools;
    const client = await this.connect();
    const { tools } = await client.listTools(undefined, { timeout: this.entry.connectTimeoutMs });
    const allowed = this.entry.tools;
    this.tools = allowed.includes("*") ? tools : tools.filter((t) => allowed.includes(t.name));
    return this.tools;
  }

  /** Listed tools without connecting: what is known now (empty before the first listing). */
  knownTools(): Tool[] {
    return this.tools ?? [];
  }

  /** Calls a tool; never throws. Retries (up to `retries`) only a tool annotated idempotent: calling it again is safe. */
  async call(tool: string, args: Record<string, unknown>, signal: AbortSignal, onProgress?: () => void): Promise<ToolOutcome> {
    this.calls++;
    let attempts = 0;
    const idempotent = this.tools?.find((t) => t.name === tool)?.annotations?.idempotentHint === true;
    for (;;) {
      attempts++;
      const outcome = await this.callOnce(tool, args, signal, onProgress);
      if (outcome.ok || outcome.code === "cancelled" || outcome.code === "circuit_open") return { ...outcome, attempts };
      if (!idempotent || attempts > this.entry.retries) return { ...outcome, attempts };
    }
  }

  private async callOnce(tool: string, args: Record<string, unknown>, signal: AbortSignal, onProgress?: () => void): Promise<Omit<ToolOutcome, "attempts">> {
    if (signal.aborted) return { ok: false, code: "cancelled", text: "the call was cancelled" };
    try {
      return await this.breaker.execute(async () => {
        const client = await this.connect();
        const res = await client.callTool({ name: tool, arguments: args }, undefined, {
          signal,
          timeout: this.entry.callTimeoutMs,
          ...(onProgress ? { onprogress: onProgress, resetTimeoutOnProgress: true } : {}),
        });
        const text = textOf(res as { content?: unknown; structuredContent?: unknown });
        // A tool that reports an error counts against its server like a failed call.
        if (res.isError) throw new ToolError(text);
        const content = Array.isArray(res.content) ? (res.content as unknown[]) : [];
        return { ok: true, code: "ok", text, result: { content, ...(res.structuredContent !== undefined ? { structuredContent: res.structuredContent } : {}) } };
      });
    } catch (err) {
      this.failures++;
      if (err instanceof cockatiel().BrokenCircuitError) return { ok: false, code: "circuit_open", text: `${this.namespace} is failing repeatedly; its circuit is open and it is skipped for now` };
      if (err instanceof ToolError) return { ok: false, code: "tool_error", text: err.message || "the tool reported an error" };
      if (signal.aborted) return { ok: false, code: "cancelled", text: "the call was cancelled" };
      const message = safeMessage(err, this.secrets());
      const timedOut = /timed out|timeout/i.test(message);
      if (!timedOut && !this.client) this.lastError = message;
      return { ok: false, code: timedOut ? "timeout" : "server_unavailable", text: timedOut ? `${this.namespace}.${tool} did not answer within ${this.entry.callTimeoutMs} ms` : `${this.namespace} could not be reached: ${message}` };
    }
  }

  status(): ConnectionStatus {
    const e = this.entry;
    return {
      server: this.name,
      namespace: this.namespace,
      transport: e.command ? "stdio" : e.transport,
      state: this.state,
      tools: (this.tools ?? []).map((t) => t.name),
      breaker: breakerName(this.breaker.state),
      calls: this.calls,
      failures: this.failures,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.close().catch(() => undefined);
  }
}

class ToolError extends Error {}

/** A tool result as text: its text parts, else its structured content as JSON, else a summary of its parts. */
function textOf(res: { content?: unknown; structuredContent?: unknown }): string {
  const parts = Array.isArray(res.content) ? (res.content as Array<{ type?: string; text?: string }>) : [];
  const texts = parts.filter((p) => p.type === "text" && typeof p.text === "string").map((p) => p.text!);
  if (texts.length) return texts.join("\n");
  if (res.structuredContent !== undefined) return JSON.stringify(res.structuredContent);
  return parts.length ? `(${parts.map((p) => p.type ?? "content").join(", ")})` : "";
}

function breakerName(state: CircuitState): ConnectionStatus["breaker"] {
  const { CircuitState } = cockatiel();
  return state === CircuitState.Closed ? "closed" : state === CircuitState.HalfOpen ? "half-open" : "open";
}
