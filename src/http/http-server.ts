import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Runtime } from "../runtime.js";
import type { HttpSettings } from "../config/schema.js";
import { logger as rootLogger, type Logger } from "../logger.js";
import { createServer } from "../server.js";
import { PACKAGE_VERSION } from "../version.js";
import { TokenTable } from "../auth.js";
import { allowedHosts, authGuard, hostAllowed, hostAndOriginGuard, isLoopback, refuse } from "./guards.js";
import { McpEndpoints } from "./mcp-endpoints.js";
import { openAiRouter } from "./compat/openai-routes.js";
import { anthropicRouter } from "./compat/anthropic-routes.js";
import { compatFastLane } from "./compat/fast-lane.js";
import { compatErrorShape } from "./compat/error-shapes.js";
import { createMetrics } from "./metrics.js";
import { CallFeed } from "./dashboard/feed.js";
import { dashboardRouter } from "./dashboard/routes.js";

/** What an OpenAI or Anthropic client that asked for an API Switchboard does not serve is told. */
const V1_HINT =
  "Switchboard serves LLM calls only: POST /v1/chat/completions, /v1/responses, /v1/messages and /v1/messages/count_tokens, and GET /v1/models; " +
  "embeddings, images, audio, files, batches and the legacy /v1/completions are not served (the media and voice jobs are MCP tools, at /mcp).";

export interface HttpServerOptions {
  runtime: Runtime;
  /** Overrides http.host from config. */
  host?: string;
  /** Overrides http.port from config; 0 picks a free port. */
  port?: number;
  /** Overrides http.stateless from config. */
  stateless?: boolean;
  /** Adds the benchmark's `echo` tool to every session. */
  benchEcho?: boolean;
  log?: Logger;
}

export interface HttpServerHandle {
  /** Base URL, e.g. http://127.0.0.1:8787 */
  url: string;
  host: string;
  port: number;
  sessions(): { streamable: number; sse: number };
  close(): Promise<void>;
}

/**
 * One HTTP server for agents and people: Streamable HTTP at /mcp, legacy SSE at /sse and
 * /messages, the OpenAI- and Anthropic-compatible APIs at /v1, /healthz, /metrics (Prometheus) and /dashboard. Host and Origin are checked on
 * everything but /healthz; bearer tokens, when configured, guard everything but /healthz and
 * the dashboard's static shell.
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServerHandle> {
  const { runtime } = opts;
  const log = opts.log ?? rootLogger;
  // Read on every request: the --stateless override is merged once per config in force, not per read.
  let merged: { from: HttpSettings; to: HttpSettings } | undefined;
  const settings = (): HttpSettings => {
    const s = runtime.config.http;
    if (opts.stateless === undefined) return s;
    if (merged?.from !== s) merged = { from: s, to: { ...s, stateless: opts.stateless } };
    return merged.to;
  };
  const host = opts.host ?? runtime.config.http.host;
  const port = opts.port ?? runtime.config.http.port;
  const tokens = new TokenTable(() => runtime.config, runtime.env);
  const endpoints = new McpEndpoints({ newServer: (tenant) => createServer({ runtime, benchEcho: opts.benchEcho, ...(tenant ? { tenant } : {}) }).server, settings, log });
  const metrics = createMetrics(runtime, { sessions: () => endpoints.counts() });
  // Serves at once; the last day of calls loads from the store in the background.
  const feed = new CallFeed(runtime, { log });
  void feed.start();
  const started = Date.now();

  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);

  // Liveness for load balancers and orchestrators: no data, so no host, origin or token checks.
  app.get("/healthz", (_req, res) => {
    res.set("Cache-Control", "no-store").json({
      status: "ok",
      version: PACKAGE_VERSION,
      configVersion: runtime.configVersion,
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      sessions: endpoints.counts(),
      store: runtime.store ? "on" : "off",
      auth: tokens.enabled ? "tokens" : "off",
    });
  });

  app.use(bodyTimeout(() => settings().bodyTimeoutMs, log));
  app.use(hostAndOriginGuard(settings, host));
  // The page shell is public (it holds no data); its data API checks the token itself.
  app.use("/dashboard", dashboardRouter({ runtime, feed, authenticate: (h) => tokens.authenticate(h) }));
  app.get("/metrics", authGuard(tokens, { adminOnly: true }), (_req, res, next) => {
    metrics.render().then((text) => res.set("Content-Type", metrics.contentType).send(text), next);
  });
  app.use(["/mcp", "/sse", "/messages"], authGuard(tokens), express.json({ limit: settings().maxBodyBytes, type: () => true }));
  // OpenAI- and Anthropic-compatible APIs: any such client gets routing, failover and budgets at this base URL.
  const compat = { runtime, tokens, maxBodyBytes: () => settings().maxLlmBodyBytes, log };
  app.use("/v1", openAiRouter(compat), anthropicRouter(compat));
  // Their LLM requests in the plain case (no browser Origin) skip Express altogether.
  const hosts = allowedHosts(settings, host);
  const fastLane = compatFastLane({ ...compat, hostAllowed: (h) => hostAllowed(hosts, h), bodyTimeoutMs: () => settings().bodyTimeoutMs });
  app.use(endpoints.router);
  app.get("/", (_req, res) => res.redirect(302, "/dashboard/"));
  app.use((req, res) => refuse(req, res, 404, { code: "invalid_request", message: `nothing at ${req.method} ${req.path}`, hint: req.path.startsWith("/v1/") ? V1_HINT : "MCP clients connect to /mcp (Streamable HTTP) or /sse (legacy); people open /dashboard.", retryable: false }));
  // Body parser and other middleware errors: a JSON answer, never Express's HTML page.
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (err.type === "entity.parse.failed") {
      // The compatible APIs answer in their own shape (refuse), MCP paths as JSON-RPC.
      if (compatErrorShape(req.path)) {
        refuse(req, res, 400, { code: "invalid_request", message: `request body is not valid JSON: ${err.message}`, hint: "send the request as one JSON object.", field: "body", retryable: false });
      } else if (!res.headersSent) res.status(400).json({ jsonrpc: "2.0", error: { code: -32700, message: `Parse error: ${err.message}` }, id: null });
      return;
    }
    const tooLarge = err.type === "entity.too.large";
    const limit = req.path.startsWith("/v1/") ? "maxLlmBodyBytes" : "maxBodyBytes";
    if (status === 500) log.error({ err: err.message, path: req.path }, "HTTP request failed");
    refuse(req, res, status, {
      code: status === 500 ? "internal" : "invalid_request",
      message: tooLarge ? `request body over ${settings()[limit]} bytes` : err.message,
      hint: tooLarge ? `send a smaller request, or raise http.${limit}.` : "check the request and try again.",
      retryable: status === 500,
    });
  });

  // Not app.listen: Express 5 hands a listen error to the callback, which would read as success.
  // Limits on receiving requests, never on responses: Node's requestTimeout covers a request until
  // its last byte arrives, so SSE streams and streamed results are not cut.
  const limits = settings();
  const server: Server = createHttpServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs && Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node looks for requests over those limits (its default is 30 s).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, ...[limits.headersTimeoutMs, limits.requestTimeoutMs].filter((t) => t > 0))),
    },
    (req, res) => {
      if (!fastLane(req, res)) app(req, res);
    },
  );
  server.maxHeadersCount = limits.maxHeadersCount;
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${isWildcardHost(host) ? "127.0.0.1" : urlHost}:${address.port}`;
  warnIfExposed(host, tokens.enabled, log);
  if (runtime.config.http.auth === "off" && tokens.principals().length) log.warn({ tokens: tokens.principals().length }, "http.auth is off: the configured bearer tokens are ignored and every request is served without one");
  log.info({ url, mcp: `${url}/mcp`, sse: `${url}/sse`, dashboard: `${url}/dashboard/`, stateless: settings().stateless, auth: tokens.enabled }, "switchboard serving over HTTP");

  return {
    url,
    host,
    port: address.port,
    sessions: () => endpoints.counts(),
    close: async () => {
      feed.close();
      metrics.close();
      await endpoints.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/**
 * Cuts off a client that sends its headers and then trickles (or stalls) its body: once the
 * headers are in, the whole body must arrive within `ms`, or the answer is 408 and the
 * connection is closed. Responses are not timed, so streams stay open.
 */
function bodyTimeout(ms: () => number, log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const limit = ms();
    if (limit > 0 && !req.complete) {
      const timer = setTimeout(() => {
        if (req.complete) return;
        log.warn({ path: req.path, ms: limit }, "request body not received in time; closing the connection");
        const cut = () => req.socket.destroy();
        if (res.headersSent) return cut();
        res.writeHead(408, { "Content-Type": "application/json", Connection: "close" });
        res.end(JSON.stringify({ error: { code: "invalid_request", message: `request body not received within ${limit} ms`, hint: "send the whole body at once, or raise http.bodyTimeoutMs.", retryable: true } }), cut);
        setTimeout(cut, 1000).unref();
      }, limit);
      timer.unref();
      const clear = () => clearTimeout(timer);
      req.once("end", clear);
      req.once("close", clear);
      res.once("close", clear);
    }
    next();
  };
}

function isWildcardHost(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

function warnIfExposed(host: string, authOn: boolean, log: Logger): void {
  if (isLoopback(host)) return;
  log.warn({ host }, "listening beyond loopback: other machines can reach this server; put it behind TLS and keep http.allowedHosts/allowedOrigins tight");
  if (!authOn) log.warn({ host }, "no bearer tokens are configured: anyone who can reach this port can spend your provider keys; set http.tokens or SWITCHBOARD_TOKENS");
}
