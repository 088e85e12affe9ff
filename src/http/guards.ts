import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { ErrorBody } from "../errors.js";
import type { HttpSettings } from "../config/schema.js";
import { authInfoFor, type Principal, type TokenTable } from "../auth.js";
import { compatErrorShape } from "./compat/error-shapes.js";

/** Host names a loopback server always answers to. */
const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]", "::1"];

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.includes(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The principal the auth guard attached to a request (undefined with auth off). */
export function principalOfRequest(res: Response): Principal | undefined {
  return res.locals.principal as Principal | undefined;
}

/**
 * Answers an HTTP-level refusal. MCP endpoints get a JSON-RPC error (what MCP clients parse),
 * with the structured error in `data`; the rest get the `{ error }` body every tool error has.
 */
export function refuse(req: Request, res: Response, status: number, body: ErrorBody, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.status(status).set(headers);
  const compat = compatErrorShape(req.baseUrl + req.path);
  if (compat) res.json(compat(body, status));
  else if (isMcpPath(req.baseUrl + req.path) || isMcpPath(req.baseUrl)) {
    res.json({ jsonrpc: "2.0", error: { code: status === 404 ? -32001 : -32000, message: body.message, data: body }, id: null });
  } else {
    res.json({ error: body });
  }
}

const isMcpPath = (path: string) => path === "/mcp" || path === "/sse" || path === "/messages";

function hostname(hostHeader: string): string {
  // "[::1]:8787" -> "[::1]", "example.com:80" -> "example.com"
  if (hostHeader.startsWith("[")) return hostHeader.slice(0, hostHeader.indexOf("]") + 1).toLowerCase();
  return hostHeader.replace(/:\d+$/, "").toLowerCase();
}

/**
 * The host names this server answers to, built once per config in force rather than on every
 * request: loopback names, the bound host, and http.allowedHosts ("*" for any).
 */
export function allowedHosts(settings: () => HttpSettings, boundHost: string): () => { hosts: Set<string>; any: boolean } {
  let cached: { for: HttpSettings; hosts: Set<string>; any: boolean } | undefined;
  return () => {
    const s = settings();
    if (cached?.for !== s) {
      const hosts = new Set([...LOOPBACK_NAMES, ...s.allowedHosts.map((h) => h.toLowerCase())]);
      if (!isWildcard(boundHost)) hosts.add(boundHost.toLowerCase());
      cached = { for: s, hosts, any: s.allowedHosts.includes("*") };
    }
    return cached;
  };
}

/** Whether a Host header names this server (see allowedHosts). */
export function hostAllowed(allowed: () => { hosts: Set<string>; any: boolean }, hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  const a = allowed();
  return a.any || a.hosts.has(hostname(hostHeader));
}

/**
 * DNS-rebinding protection: a page on evil.com whose name resolves to 127.0.0.1 reaches this
 * server with `Host: evil.com`, so only known host names are served. Also refuses a browser
 * Origin other than this server's own or a configured one, so no other site can drive it.
 */
export function hostAndOriginGuard(settings: () => HttpSettings, boundHost: string): RequestHandler {
  const allowed = allowedHosts(settings, boundHost);
  return (req, res, next) => {
    const s = settings();
    const host = req.headers.host;
    if (!host) return refuse(req, res, 400, { code: "invalid_request", message: "missing Host header", hint: "send an HTTP/1.1 request with a Host header.", retryable: false });
    const name = hostname(host);
    const { hosts, any } = allowed();
    if (!any && !hosts.has(name)) {
      return refuse(req, res, 403, {
        code: "forbidden",
        message: `Host "${name}" is not served here (DNS-rebinding protection)`,
        hint: `connect by an allowed name (${[...hosts].join(", ")}), or add "${name}" to http.allowedHosts in your config.`,
        field: "Host",
        validValues: [...hosts],
        retryable: false,
      });
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !originAllowed(origin, host, s.allowedOrigins)) {
      return refuse(req, res, 403, {
        code: "forbidden",
        message: `Origin "${origin}" is not allowed`,
        hint: `add "${origin}" to http.allowedOrigins in your config if that site should reach this server.`,
        field: "Origin",
        ...(s.allowedOrigins.length ? { validValues: s.allowedOrigins } : {}),
        retryable: false,
      });
    }
    if (origin !== undefined) allowCrossOrigin(req, res, origin);
    if (req.method === "OPTIONS") {
      res.status(204).end();
      return;
    }
    next();
  };
}

/**
 * CORS for the browser origins let through above (a browser-based agent on an allowed site):
 * without these headers the browser would hide responses, and the session id with them.
 */
function allowCrossOrigin(req: Request, res: Response, origin: string): void {
  res.vary("Origin");
  res.set({
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Expose-Headers": "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate",
    "Access-Control-Max-Age": "600",
  });
  if (req.method === "OPTIONS") {
    res.set({
      "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
      "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID",
    });
  }
}

function originAllowed(origin: string, hostHeader: string, allowed: string[]): boolean {
  if (allowed.includes("*")) return true;
  if (allowed.some((a) => a.replace(/\/$/, "").toLowerCase() === origin.toLowerCase())) return true;
  try {
    // Same origin: the page was served by this server, over plain http (it has no TLS), under
    // the same host and port. An https:// origin is another origin; list it in allowedOrigins
    // when a TLS proxy fronts this server.
    const o = new URL(origin);
    return o.protocol === "http:" && o.host.toLowerCase() === hostHeader.toLowerCase();
  } catch {
    return false; // "null" and other opaque origins
  }
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "";
}

/**
 * Bearer auth. With tokens configured every guarded request needs one; the principal it maps to
 * rides on the request as `req.auth`, which the SDK hands to tool handlers as `extra.authInfo`.
 */
export function authGuard(tokens: TokenTable, opts: { adminOnly?: boolean } = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const result = tokens.authenticate(req.headers.authorization);
    if (!result.ok) {
      const missing = result.reason === "missing";
      return refuse(
        req,
        res,
        401,
        {
          code: "unauthorized",
          message: missing ? "this server needs a bearer token" : "the bearer token is not valid",
          hint: missing ? 'send "Authorization: Bearer <token>"; ask the operator for a token bound to your tenant.' : "check the token for typos, or ask the operator whether it was rotated.",
          retryable: false,
        },
        { "WWW-Authenticate": missing ? 'Bearer realm="switchboard"' : 'Bearer realm="switchboard", error="invalid_token"' },
      );
    }
    const principal = result.principal;
    if (opts.adminOnly && principal && !principal.admin) {
      return refuse(req, res, 403, { code: "forbidden", message: "this endpoint shows every tenant and needs an admin token", hint: "use an admin token (SWITCHBOARD_ADMIN_TOKEN or an http.tokens entry with admin: true).", retryable: false });
    }
    res.locals.principal = principal;
    if (principal) (req as Request & { auth?: unknown }).auth = authInfoFor(principal);
    next();
  };
}
