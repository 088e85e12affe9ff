import { randomUUID } from "node:crypto";
import type { Request, Response, Router } from "express";
import express from "express";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { ErrorCode, isInitializeRequest, JSONRPCMessageSchema, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../logger.js";
import type { HttpSettings } from "../config/schema.js";
import type { ErrorBody } from "../errors.js";
import { principalOfRequest, refuse } from "./guards.js";
import { EventBudget, SessionEventStore, type EventBudgetOptions } from "./event-store.js";
import { malformedRequest, plainlyWellFormed } from "../tools/define-tool.js";

interface Session {
  server: McpServer;
  /** Streamable sessions' resumable events (a share of the endpoints' EventBudget). */
  events?: SessionEventStore;
  transport: StreamableHTTPServerTransport | SSEServerTransport;
  kind: "streamable" | "sse";
  /** The token label that opened it: another token cannot use it. */
  owner: string | undefined;
  /** Whose share it counts against: the token's tenant (admin tokens their own bucket); undefined with auth off. */
  tenant: string | undefined;
  lastSeen: number;
  /** Requests (and SSE streams) in flight; a session is never idle while one is open. */
  open: number;
  /** GET /mcp streams open on it (a legacy SSE session is one stream itself). */
  streams: number;
}

/** Who is asking, for the per-tenant and per-token limits (both undefined with auth off). */
interface Caller {
  tenant: string | undefined;
  token: string | undefined;
}

/** Admin tokens act for every tenant; their sessions count against a share of their own. */
const ADMIN_BUCKET = "(admin)";

/** What a new session or stream would take: a session, a stream, or both (a legacy SSE stream). */
type Opening = "session" | "stream" | "sse";

/** A limit refusal names the limit, its value and what holds it, besides the usual error fields. */
type LimitError = ErrorBody & { limit: { name: string; value: number; scope: "tenant" | "token" | "server"; tenant?: string; token?: string; held: number } };

export interface McpEndpointOptions {
  /** A server for one session (or one stateless request); `tenant` is its token's, undefined for admins or with auth off. */
  newServer: (tenant: string | undefined) => McpServer;
  settings: () => HttpSettings;
  log: Logger;
  /** Bounds on the events kept for resuming streams, for all sessions together (defaults: EVENT_STORE_DEFAULTS). */
  events?: EventBudgetOptions;
}

/**
 * The MCP endpoints: Streamable HTTP at /mcp (sessions, or stateless) and the legacy
 * HTTP+SSE pair (GET /sse opens the stream, POST /messages?sessionId= sends to it).
 * Every session gets its own McpServer over the one shared Runtime.
 */
export class McpEndpoints {
  private readonly sessions = new Map<string, Session>();
  /** Streamable sessions whose initialize is still being answered: they count against the limits already. */
  private readonly pending = new Set<Session>();
  private readonly sweeper: NodeJS.Timeout;
  readonly router: Router;
  /** What every session's resumable events may hold together. */
  readonly events: EventBudget;

  constructor(private readonly opts: McpEndpointOptions) {
    this.events = new EventBudget(opts.events);
    this.router = express.Router();
    this.router.post("/mcp", (req, res) => void this.guarded(req, res, () => this.postMcp(req, res)));
    this.router.get("/mcp", (req, res) => void this.guarded(req, res, () => this.sessionRequest(req, res)));
    this.router.delete("/mcp", (req, res) => void this.guarded(req, res, () => this.sessionRequest(req, res)));
    this.router.get("/sse", (req, res) => void this.guarded(req, res, () => this.openSse(req, res)));
    this.router.post("/messages", (req, res) => void this.guarded(req, res, () => this.postMessage(req, res)));
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  counts(): { streamable: number; sse: number } {
    let streamable = 0;
    let sse = 0;
    for (const s of this.sessions.values()) {
      if (s.kind === "sse") sse++;
      else streamable++;
    }
    return { streamable, sse };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.keys()].map((id) => this.end(id, "server closing")));
  }

  private async guarded(req: Request, res: Response, handler: () => Promise<void>): Promise<void> {
    try {
      await handler();
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message, path: req.path }, "MCP HTTP request failed");
      refuse(req, res, 500, { code: "internal", message: `request failed: ${(err as Error).message}`, hint: "retry; report it with the server log if it persists.", retryable: true });
    }
  }

  private async postMcp(req: Request, res: Response): Promise<void> {
    const malformed = malformedRequests(req.body);
    // The SDK would refuse the whole POST with an id-less parse error; the caller's request gets its own answer.
    if (malformed.length) {
      res.status(400).json(Array.isArray(req.body) ? malformed : malformed[0]);
      return;
    }
    if (this.opts.settings().stateless) return this.stateless(req, res);
    const id = req.header("mcp-session-id");
    if (id) return this.sessionRequest(req, res);
    if (!isInitialize(req.body)) {
      return refuse(req, res, 400, {
        code: "invalid_request",
        message: "missing Mcp-Session-Id header",
        hint: "send initialize first (without a session id), then send the Mcp-Session-Id it returns with every request.",
        field: "Mcp-Session-Id",
        retryable: false,
      });
    }
    const caller = callerOf(res);
    if (!this.hasRoom(req, res, caller, "session")) return;
    const server = this.opts.newServer(tenantOfSession(res));
    const owner = caller.token;
    const events = new SessionEventStore(this.events);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // Resumable streams: a dropped connection resumes with Last-Event-ID instead of losing the call.
      eventStore: events,
      retryInterval: 1000,
      onsessioninitialized: (sid) => {
        this.pending.delete(session);
        session.lastSeen = Date.now();
        this.sessions.set(sid, session);
        this.opts.log.info({ session: sid, client: owner, tenant: caller.tenant }, "MCP session opened");
      },
    });
    // Held until initialize is answered, so concurrent initializes cannot overshoot a limit.
    const session: Session = { server, events, transport, kind: "streamable", owner, tenant: caller.tenant, lastSeen: Date.now(), open: 0, streams: 0 };
    this.pending.add(session);
    res.on("close", () => {
      this.pending.delete(session);
      // An initialize that never became a session (refused, or the client left) keeps nothing.
      if (!transport.sessionId || !this.sessions.has(transport.sessionId)) events.close();
    });
    transport.onclose = () => {
      events.close();
      if (transport.sessionId) this.forget(transport.sessionId, "closed");
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  }

  /** GET (the server-to-client stream), DELETE (end) and POST within a session. */
  private async sessionRequest(req: Request, res: Response): Promise<void> {
    if (this.opts.settings().stateless) {
      res.set("Allow", "POST");
      return refuse(req, res, 405, { code: "invalid_request", message: `${req.method} /mcp is not available in stateless mode`, hint: "POST each request; there are no sessions to stream from or end.", retryable: false });
    }
    const id = req.header("mcp-session-id");
    if (!id) {
      return refuse(req, res, 400, { code: "invalid_request", message: "missing Mcp-Session-Id header", hint: "send the Mcp-Session-Id that initialize returned.", field: "Mcp-Session-Id", retryable: false });
    }
    const session = this.lookup(req, res, id, "streamable");
    if (!session) return;
    if (req.method === "GET") {
      // A held server-to-client stream: it counts against the tenant's and token's stream limits.
      if (!this.withinShare(req, res, callerOf(res), "stream")) return;
      session.streams++;
      res.on("close", () => session.streams--);
    }
    await this.track(session, res, () => (session.transport as StreamableHTTPServerTransport).handleRequest(req, res, req.body));
  }

  /** Stateless: a fresh server and transport answer one POST and are dropped with its response. */
  private async stateless(req: Request, res: Response): Promise<void> {
    const server = this.opts.newServer(tenantOfSession(res));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  }

  private async openSse(req: Request, res: Response): Promise<void> {
    const caller = callerOf(res);
    if (!this.hasRoom(req, res, caller, "sse")) return;
    const server = this.opts.newServer(tenantOfSession(res));
    const transport = new SSEServerTransport("/messages", res);
    const session: Session = { server, transport, kind: "sse", owner: caller.token, tenant: caller.tenant, lastSeen: Date.now(), open: 1, streams: 0 };
    this.sessions.set(transport.sessionId, session);
    transport.onclose = () => this.forget(transport.sessionId, "stream closed");
    res.on("close", () => void this.end(transport.sessionId, "client disconnected"));
    await server.connect(transport);
    this.opts.log.info({ session: transport.sessionId, client: session.owner }, "legacy SSE session opened");
  }

  private async postMessage(req: Request, res: Response): Promise<void> {
    const id = typeof req.query.sessionId === "string" ? req.query.sessionId : undefined;
    if (!id) {
      return refuse(req, res, 400, { code: "invalid_request", message: "missing sessionId query parameter", hint: "POST to the endpoint URL the GET /sse stream announced (it carries ?sessionId=).", field: "sessionId", retryable: false });
    }
    const session = this.lookup(req, res, id, "sse");
    if (!session) return;
    const malformed = malformedRequests(req.body);
    if (malformed.length) {
      // The answers of the legacy transport go over its stream, where the client waits for them.
      for (const m of malformed) await session.transport.send(m);
      res.status(202).end();
      return;
    }
    await this.track(session, res, () => (session.transport as SSEServerTransport).handlePostMessage(req, res, req.body));
  }

  private lookup(req: Request, res: Response, id: string, kind: Session["kind"]): Session | undefined {
    const session = this.sessions.get(id);
    // Another token's session is reported as unknown: its existence is not this caller's business.
    if (!session || session.kind !== kind || session.owner !== principalOfRequest(res)?.label) {
      refuse(req, res, 404, {
        code: "invalid_request",
        message: `unknown session "${id.slice(0, 64)}"`,
        hint: kind === "sse" ? "open a new stream with GET /sse." : "the session ended or expired: initialize a new one (POST /mcp without Mcp-Session-Id).",
        retryable: false,
      });
      return undefined;
    }
    return session;
  }

  private async track(session: Session, res: Response, run: () => Promise<void>): Promise<void> {
    session.open++;
    session.lastSeen = Date.now();
    res.on("close", () => {
      session.open--;
      session.lastSeen = Date.now();
    });
    await run();
  }

  /** Every session that counts against a limit: live ones and those still initializing. */
  private all(): Session[] {
    return [...this.sessions.values(), ...this.pending];
  }

  /**
   * Room for a new session (or legacy SSE stream): within the caller's tenant and token shares,
   * then within the server's maxSessions, making room there by evicting an idle session.
   */
  private hasRoom(req: Request, res: Response, caller: Caller, opening: Opening): boolean {
    // Sessions past their idle time are gone before anything is counted.
    this.sweep();
    if (!this.withinShare(req, res, caller, opening)) return false;
    const max = this.opts.settings().maxSessions;
    const held = this.sessions.size + this.pending.size;
    if (held < max) return true;
    // Clients that vanish without DELETE leave sessions behind: at the limit, an idle session
    // makes room before anyone is turned away, taken from the heaviest tenant, never from one
    // that holds no more than the caller's tenant does (then only the caller's own).
    const victim = this.victimFor(caller);
    if (victim) {
      this.opts.log.info({ session: victim[0], tenant: victim[1].tenant, for: caller.tenant }, "evicting the idlest session of the heaviest tenant: session limit reached");
      void this.end(victim[0], "evicted: session limit reached");
      return true;
    }
    const body: LimitError = {
      code: "provider_unavailable",
      message: `the server holds its maximum of ${max} sessions (http.maxSessions) and none is idle`,
      hint: "retry shortly, end sessions you no longer use (DELETE /mcp), or raise http.maxSessions.",
      retryable: true,
      limit: { name: "http.maxSessions", value: max, scope: "server", held },
    };
    refuse(req, res, 503, body, { "Retry-After": "5" });
    return false;
  }

  /** The idle session to evict for this caller at the server's limit, or none. */
  private victimFor(caller: Caller): [string, Session] | undefined {
    const held = new Map<string | undefined, number>();
    for (const s of this.all()) held.set(s.tenant, (held.get(s.tenant) ?? 0) + 1);
    const mine = held.get(caller.tenant) ?? 0;
    let best: [string, Session] | undefined;
    let bestHeld = -1;
    for (const entry of this.sessions) {
      const [, s] = entry;
      if (s.kind !== "streamable" || s.open > 0) continue;
      const n = held.get(s.tenant) ?? 0;
      // Another tenant's session only if that tenant holds more than the caller's.
      if (s.tenant !== caller.tenant && n <= mine) continue;
      if (n > bestHeld || (n === bestHeld && s.lastSeen < best![1].lastSeen)) {
        best = entry;
        bestHeld = n;
      }
    }
    return best;
  }

  /** The caller's tenant and token limits; refuses with 429 naming the limit when one is reached. */
  private withinShare(req: Request, res: Response, caller: Caller, opening: Opening): boolean {
    if (caller.tenant === undefined) return true;
    const settings = this.opts.settings();
    const override = Object.hasOwn(settings.tenantLimits, caller.tenant) ? settings.tenantLimits[caller.tenant] : undefined;
    const tenant = caller.tenant;
    const scopes = [
      {
        scope: "tenant" as const,
        who: `tenant "${tenant}"`,
        of: (s: Session) => s.tenant === tenant,
        sessions: override?.maxSessions ?? settings.maxSessionsPerTenant,
        sessionsName: override?.maxSessions !== undefined ? `http.tenantLimits.${tenant}.maxSessions` : "http.maxSessionsPerTenant",
        streams: override?.maxStreams ?? settings.maxStreamsPerTenant,
        streamsName: override?.maxStreams !== undefined ? `http.tenantLimits.${tenant}.maxStreams` : "http.maxStreamsPerTenant",
      },
      {
        scope: "token" as const,
        who: `token "${caller.token}"`,
        of: (s: Session) => s.owner === caller.token,
        sessions: settings.maxSessionsPerToken,
        sessionsName: "http.maxSessionsPerToken",
        streams: settings.maxStreamsPerToken,
        streamsName: "http.maxStreamsPerToken",
      },
    ];
    for (const l of scopes) {
      const mine = this.all().filter(l.of);
      const ids = { tenant, ...(l.scope === "token" ? { token: caller.token } : {}) };
      if (opening !== "stream" && l.sessions > 0 && mine.length >= l.sessions) {
        // Its idlest session expires first: that is when a retry can succeed without any help.
        const idle = mine.filter((s) => s.kind === "streamable" && s.open <= 0).map((s) => s.lastSeen);
        const retryAfter = idle.length ? Math.max(1, Math.ceil((Math.min(...idle) + settings.sessionIdleMinutes * 60_000 - Date.now()) / 1000)) : undefined;
        const body: LimitError = {
          code: "rate_limited",
          message: `${l.who} holds its maximum of ${l.sessions} sessions (${l.sessionsName})`,
          hint: `end sessions you no longer use (DELETE /mcp, or close the /sse stream); idle ones expire after http.sessionIdleMinutes (${settings.sessionIdleMinutes}). To allow more, the operator raises ${l.sessionsName}${l.scope === "tenant" ? ` (or sets http.tenantLimits.${tenant}.maxSessions)` : ""} in config/http.yaml.`,
          retryable: true,
          limit: { name: l.sessionsName, value: l.sessions, scope: l.scope, ...ids, held: mine.length },
        };
        refuse(req, res, 429, body, retryAfter ? { "Retry-After": String(retryAfter) } : {});
        return false;
      }
      const streams = mine.reduce((n, s) => n + (s.kind === "sse" ? 1 : s.streams), 0);
      if (opening !== "session" && l.streams > 0 && streams >= l.streams) {
        const body: LimitError = {
          code: "rate_limited",
          message: `${l.who} holds its maximum of ${l.streams} open streams (${l.streamsName})`,
          hint: `close streams you no longer read (legacy GET /sse streams, GET /mcp streams) and retry. To allow more, the operator raises ${l.streamsName}${l.scope === "tenant" ? ` (or sets http.tenantLimits.${tenant}.maxStreams)` : ""} in config/http.yaml.`,
          retryable: true,
          limit: { name: l.streamsName, value: l.streams, scope: l.scope, ...ids, held: streams },
        };
        refuse(req, res, 429, body);
        return false;
      }
    }
    return true;
  }

  private sweep(): void {
    this.events.expire();
    const idleMs = this.opts.settings().sessionIdleMinutes * 60_000;
    const now = Date.now();
    for (const [id, s] of this.sessions) {
      if (s.kind === "streamable" && s.open <= 0 && now - s.lastSeen > idleMs) void this.end(id, "idle");
    }
  }

  private forget(id: string, why: string): void {
    if (this.sessions.delete(id)) this.opts.log.info({ session: id, why }, "MCP session ended");
  }

  private async end(id: string, why: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    this.forget(id, why);
    s.events?.close();
    await s.transport.close().catch(() => undefined);
    await s.server.close().catch(() => undefined);
  }
}

/** Requests in a POST body (one message or a batch) that the SDK cannot parse, as their JSON-RPC error answers. */
function malformedRequests(body: unknown): JSONRPCMessage[] {
  const messages = Array.isArray(body) ? body : [body];
  if (messages.every((m) => plainlyWellFormed(m) || JSONRPCMessageSchema.safeParse(m).success)) return [];
  const answers = messages.map((m) => {
    const ok = JSONRPCMessageSchema.safeParse(m);
    if (!ok.success) return malformedRequest(m);
    // The SDK refuses the whole batch; its well-formed requests are answered too, so none waits forever.
    const valid = ok.data;
    return "method" in valid && "id" in valid
      ? ({ jsonrpc: "2.0", id: valid.id, error: { code: ErrorCode.InvalidRequest, message: "not processed: another message of this batch is malformed" } } as JSONRPCMessage)
      : undefined;
  });
  return answers.some((a, i) => a && !JSONRPCMessageSchema.safeParse(messages[i]).success) ? answers.filter((a): a is JSONRPCMessage => a !== undefined) : [];
}

function isInitialize(body: unknown): boolean {
  return Array.isArray(body) ? body.some((m) => isInitializeRequest(m)) : isInitializeRequest(body);
}

/** The tenant a session acts for: a tenant token's; undefined for an admin token or with auth off. */
function tenantOfSession(res: Response): string | undefined {
  const p = principalOfRequest(res);
  return p && !p.admin ? p.tenant : undefined;
}

/** The tenant and token a request counts against; both undefined with auth off. */
function callerOf(res: Response): Caller {
  const p = principalOfRequest(res);
  return p ? { tenant: p.admin ? ADMIN_BUCKET : p.tenant, token: p.label } : { tenant: undefined, token: undefined };
}
