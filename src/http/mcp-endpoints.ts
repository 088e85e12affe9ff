import { randomUUID } from "node:crypto";
import type { Request, Response, Router } from "express";
import express from "express";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { ErrorCode, isInitializeRequest, JSONRPCMessageSchema, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../logger.js";
import type { HttpSettings } from "../config/schema.js";
import { principalOfRequest, refuse } from "./guards.js";
import { SessionEventStore } from "./event-store.js";
import { malformedRequest } from "../tools/define-tool.js";

interface Session {
  server: McpServer;
  transport: StreamableHTTPServerTransport | SSEServerTransport;
  kind: "streamable" | "sse";
  /** The token label that opened it: another token cannot use it. */
  owner: string | undefined;
  lastSeen: number;
  /** Requests (and SSE streams) in flight; a session is never idle while one is open. */
  open: number;
}

export interface McpEndpointOptions {
  newServer: () => McpServer;
  settings: () => HttpSettings;
  log: Logger;
}

/**
 * The MCP endpoints: Streamable HTTP at /mcp (sessions, or stateless) and the legacy
 * HTTP+SSE pair (GET /sse opens the stream, POST /messages?sessionId= sends to it).
 * Every session gets its own McpServer over the one shared Runtime.
 */
export class McpEndpoints {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;
  readonly router: Router;

  constructor(private readonly opts: McpEndpointOptions) {
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
    if (!this.hasRoom(req, res)) return;
    const server = this.opts.newServer();
    const owner = principalOfRequest(res)?.label;
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // Resumable streams: a dropped connection resumes with Last-Event-ID instead of losing the call.
      eventStore: new SessionEventStore(),
      retryInterval: 1000,
      onsessioninitialized: (sid) => {
        this.sessions.set(sid, { server, transport, kind: "streamable", owner, lastSeen: Date.now(), open: 0 });
        this.opts.log.info({ session: sid, client: owner }, "MCP session opened");
      },
    });
    transport.onclose = () => {
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
    await this.track(session, res, () => (session.transport as StreamableHTTPServerTransport).handleRequest(req, res, req.body));
  }

  /** Stateless: a fresh server and transport answer one POST and are dropped with its response. */
  private async stateless(req: Request, res: Response): Promise<void> {
    const server = this.opts.newServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  }

  private async openSse(req: Request, res: Response): Promise<void> {
    if (!this.hasRoom(req, res)) return;
    const server = this.opts.newServer();
    const transport = new SSEServerTransport("/messages", res);
    const session: Session = { server, transport, kind: "sse", owner: principalOfRequest(res)?.label, lastSeen: Date.now(), open: 1 };
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

  private hasRoom(req: Request, res: Response): boolean {
    const max = this.opts.settings().maxSessions;
    if (this.sessions.size < max) return true;
    // Clients that vanish without DELETE leave sessions behind: at the limit, the longest-idle
    // session with nothing in flight makes room before anyone is turned away.
    let idlest: [string, Session] | undefined;
    for (const entry of this.sessions) {
      if (entry[1].kind === "streamable" && entry[1].open <= 0 && (!idlest || entry[1].lastSeen < idlest[1].lastSeen)) idlest = entry;
    }
    if (idlest) {
      void this.end(idlest[0], "evicted: session limit reached");
      return true;
    }
    refuse(req, res, 503, { code: "provider_unavailable", message: `the server holds its maximum of ${max} sessions`, hint: "retry shortly, end sessions you no longer use (DELETE /mcp), or raise http.maxSessions.", retryable: true }, { "Retry-After": "5" });
    return false;
  }

  private sweep(): void {
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
    await s.transport.close().catch(() => undefined);
    await s.server.close().catch(() => undefined);
  }
}

/** Requests in a POST body (one message or a batch) that the SDK cannot parse, as their JSON-RPC error answers. */
function malformedRequests(body: unknown): JSONRPCMessage[] {
  const messages = Array.isArray(body) ? body : [body];
  if (messages.every((m) => JSONRPCMessageSchema.safeParse(m).success)) return [];
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
