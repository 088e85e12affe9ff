import type { SwitchboardConfig } from "../config/schema.js";
import type { FunctionTool } from "../providers/types.js";
import type { Logger } from "../logger.js";
import { Connection, type ConnectionStatus, type ToolOutcome } from "./connection.js";

/** A downstream tool as a model sees it (a function) and as Switchboard calls it (server and tool). */
export interface DownstreamTool {
  /** The function name the model is given: `<namespace>__<tool>`, in the characters function names allow. */
  fn: string;
  /** `<namespace>.<tool>`: how callers, results and telemetry name it. */
  id: string;
  server: string;
  tool: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

const FN_SAFE = /[^a-zA-Z0-9_-]/g;

/** Whether a caller's pattern names the tool: `ns.tool`, `ns.*`, or `ns` (all of that server's). */
const matches = (pattern: string, ns: string, tool: string) => pattern === ns || pattern === `${ns}.*` || pattern === `${ns}.${tool}`;

/**
 * The downstream MCP servers of the config in force: one Connection each, made when first needed
 * and rebuilt when the server's config changes. Tenants see only the servers open to them.
 */
export class DownstreamPool {
  private readonly connections = new Map<string, { key: string; conn: Connection }>();

  constructor(
    private readonly config: () => SwitchboardConfig,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: Logger,
  ) {}

  /** Whether any server is configured (and enabled). */
  get configured(): boolean {
    return Object.values(this.config().mcp.servers).some((s) => s.enabled);
  }

  private connection(name: string): Connection | undefined {
    const cfg = this.config().mcp;
    const entry = cfg.servers[name];
    if (!entry?.enabled) return undefined;
    const key = JSON.stringify([entry, cfg.breaker]);
    const held = this.connections.get(name);
    if (held?.key === key) return held.conn;
    void held?.conn.close();
    const conn = new Connection(name, entry, cfg, this.env, this.log);
    this.connections.set(name, { key, conn });
    return conn;
  }

  /** The servers a tenant may use (every server for undefined: a local caller, or an admin). */
  private serversFor(tenant: string | undefined): Connection[] {
    return Object.entries(this.config().mcp.servers)
      .filter(([, s]) => s.enabled && (tenant === undefined || s.tenants.includes("*") || s.tenants.includes(tenant)))
      .flatMap(([name]) => this.connection(name) ?? []);
  }

  /**
   * The tools matching the caller's patterns that the tenant may use, listed from their servers
   * (connecting them if needed). A server that cannot be reached is reported in `unavailable`,
   * not thrown: the call goes on with what is there.
   */
  async toolsFor(tenant: string | undefined, patterns: string[]): Promise<{ tools: DownstreamTool[]; unavailable: Array<{ server: string; why: string }> }> {
    const servers = this.serversFor(tenant).filter((c) => patterns.some((p) => p === c.namespace || p.startsWith(`${c.namespace}.`)));
    const tools: DownstreamTool[] = [];
    const unavailable: Array<{ server: string; why: string }> = [];
    await Promise.all(
      servers.map(async (conn) => {
        try {
          for (const t of await conn.listTools()) {
            if (!patterns.some((p) => matches(p, conn.namespace, t.name))) continue;
            tools.push(this.describe(conn, t));
          }
        } catch (err) {
          unavailable.push({ server: conn.namespace, why: String((err as Error)?.message ?? err).slice(0, 200) });
        }
      }),
    );
    return { tools, unavailable };
  }

  /** Every tool the tenant may use on every server (the gateway's list), connecting servers as needed. */
  async allToolsFor(tenant: string | undefined): Promise<DownstreamTool[]> {
    return (await this.toolsFor(tenant, this.serversFor(tenant).map((c) => c.namespace))).tools;
  }

  /** The same from what is already listed, without connecting anything. */
  knownToolsFor(tenant: string | undefined): DownstreamTool[] {
    return this.serversFor(tenant).flatMap((c) => c.knownTools().map((t) => this.describe(c, t)));
  }

  private describe(conn: Connection, t: { name: string; description?: string | undefined; inputSchema: Record<string, unknown>; annotations?: Record<string, unknown> | undefined }): DownstreamTool {
    return {
      fn: `${conn.namespace}__${t.name}`.replace(FN_SAFE, "_").slice(0, 64),
      id: `${conn.namespace}.${t.name}`,
      server: conn.name,
      tool: t.name,
      ...(t.description ? { description: t.description } : {}),
      inputSchema: t.inputSchema,
      ...(t.annotations ? { annotations: t.annotations } : {}),
    };
  }

  /** Calls a downstream tool for a tenant; never throws (an unknown or forbidden tool is `not_found`). */
  async call(tenant: string | undefined, tool: Pick<DownstreamTool, "server" | "tool" | "id">, args: Record<string, unknown>, signal: AbortSignal, onProgress?: () => void): Promise<ToolOutcome> {
    const conn = this.serversFor(tenant).find((c) => c.name === tool.server);
    if (!conn) return { ok: false, code: "not_found", text: `${tool.id} is not available to this tenant`, attempts: 0 };
    return conn.call(tool.tool, args, signal, onProgress);
  }

  /** Each configured server's state, tools and breaker (the tenant's only, when given). */
  status(tenant?: string): ConnectionStatus[] {
    const names = tenant === undefined ? Object.keys(this.config().mcp.servers) : this.serversFor(tenant).map((c) => c.name);
    return names.flatMap((n) => this.connection(n)?.status() ?? []);
  }

  async close(): Promise<void> {
    await Promise.all([...this.connections.values()].map((c) => c.conn.close()));
    this.connections.clear();
  }
}

/** Downstream tools as the functions a model is given. */
export function asFunctionTools(tools: DownstreamTool[]): FunctionTool[] {
  return tools.map((t) => ({ name: t.fn, ...(t.description ? { description: t.description } : {}), parameters: t.inputSchema }));
}
