import * as crypto from "node:crypto";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import type { RateLimits, SwitchboardConfig } from "./config/schema.js";

/**
 * Who is calling over HTTP. A tenant principal acts for its tenant only; an admin may act for
 * any tenant and sees every tenant on the dashboard and in /metrics.
 */
export interface Principal {
  tenant: string;
  admin: boolean;
  /** Safe to log: the configured label, or the tenant and a short hash prefix. Never the token. */
  label: string;
  /** The token's own rate limits (config tokens only). */
  rateLimits?: RateLimits;
}

export type AuthResult = { ok: true; principal: Principal | undefined } | { ok: false; reason: "missing" | "invalid" };

// One-shot hashing (Node 20.12+) skips building a Hash object per request; older Node 20s have only createHash.
const oneShot = (crypto as { hash?: (algorithm: string, data: string) => string }).hash;
const sha256 = (s: string) => (oneShot ? oneShot("sha256", s) : crypto.createHash("sha256").update(s).digest("hex"));

/**
 * Bearer tokens from config (`http.tokens`: an env var or a SHA-256) and env
 * (`SWITCHBOARD_TOKENS="tenant=token,..."`, `SWITCHBOARD_ADMIN_TOKEN`). Tokens are kept only as
 * hashes, and a presented token is looked up by its hash, so comparing never leaks its bytes.
 * Rebuilt when the config hot-reloads, or the token variables it reads then have changed.
 */
export class TokenTable {
  private cacheKey = "";
  private byHash = new Map<string, Principal>();
  /** The config the table was last checked against: every request asks, and the config changes only on reload. */
  private checkedFor: SwitchboardConfig | undefined;

  constructor(
    private readonly config: () => SwitchboardConfig,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Auth is on as soon as one token is configured, unless the config says `http.auth: off`. */
  get enabled(): boolean {
    return this.config().http.auth !== "off" && this.table().size > 0;
  }

  /** The tokens in force, as safe-to-log principals (labels and tenants, never the tokens). */
  principals(): Principal[] {
    return [...this.table().values()];
  }

  /** Checks an Authorization header. With auth off every request passes with no principal. */
  authenticate(header: string | undefined): AuthResult {
    const table = this.table();
    if (table.size === 0 || this.config().http.auth === "off") return { ok: true, principal: undefined };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    if (!m) return { ok: false, reason: "missing" };
    const principal = table.get(sha256(m[1]!));
    return principal ? { ok: true, principal } : { ok: false, reason: "invalid" };
  }

  private table(): Map<string, Principal> {
    const cfg = this.config();
    // Reading the environment and serializing the key cost more than the rest of a token check.
    if (cfg === this.checkedFor) return this.byHash;
    this.checkedFor = cfg;
    const key = JSON.stringify([cfg.http.tokens, this.env.SWITCHBOARD_TOKENS ?? "", this.env.SWITCHBOARD_ADMIN_TOKEN ?? "", cfg.http.tokens.map((t) => (t.tokenEnv ? this.env[t.tokenEnv] ?? "" : ""))]);
    if (key === this.cacheKey) return this.byHash;
    const next = new Map<string, Principal>();
    const add = (token: string | undefined, p: Omit<Principal, "label"> & { label?: string | undefined }, hash?: string) => {
      const h = hash ?? (token && token.trim() && !/^\$\{.*\}$/.test(token.trim()) ? sha256(token.trim()) : undefined);
      if (!h) return; // an unset or unexpanded env var adds no token
      next.set(h, { tenant: p.tenant, admin: p.admin, label: p.label ?? `${p.admin ? "admin" : p.tenant}:${h.slice(0, 8)}`, ...(p.rateLimits ? { rateLimits: p.rateLimits } : {}) });
    };
    for (const t of cfg.http.tokens) add(t.tokenEnv ? this.env[t.tokenEnv] : undefined, t, t.sha256);
    for (const pair of (this.env.SWITCHBOARD_TOKENS ?? "").split(",")) {
      const i = pair.indexOf("=");
      if (i > 0) add(pair.slice(i + 1), { tenant: pair.slice(0, i).trim(), admin: false });
    }
    add(this.env.SWITCHBOARD_ADMIN_TOKEN, { tenant: cfg.router.defaultTenant, admin: true, label: "admin" });
    this.byHash = next;
    this.cacheKey = key;
    return next;
  }
}

/** The SDK hands `req.auth` to every handler as `extra.authInfo`; the principal rides in `extra`. */
export function authInfoFor(principal: Principal): AuthInfo {
  return { token: principal.label, clientId: principal.label, scopes: principal.admin ? ["admin"] : [], extra: { principal } };
}

/** The principal of an MCP request, or undefined over stdio and with auth off. */
export function principalOf(extra: { authInfo?: AuthInfo | undefined }): Principal | undefined {
  const p = extra.authInfo?.extra?.principal as Principal | undefined;
  return p && typeof p.tenant === "string" ? p : undefined;
}

/**
 * The tenant a request may act for. Without a principal (stdio, auth off) the requested one;
 * a tenant token gets its own tenant, and naming another is refused.
 */
export function scopeTenant(principal: Principal | undefined, requested: string | undefined): { tenant: string | undefined } | { refused: string } {
  if (!principal || principal.admin) return { tenant: requested };
  if (requested !== undefined && requested !== principal.tenant) {
    return { refused: `this token belongs to tenant "${principal.tenant}" and cannot act for or read tenant "${requested}"` };
  }
  return { tenant: principal.tenant };
}

/** What a config says about who may reach the HTTP server: safe to log (labels, never tokens). */
export interface SecurityPosture {
  /** http.auth as configured. */
  authSetting: "on" | "off";
  /** Whether requests need a token under this config. */
  authEnabled: boolean;
  tokens: Array<{ label: string; tenant: string; admin: boolean }>;
  host: string;
  port: number;
  allowedHosts: string[];
  allowedOrigins: string[];
}

export function securityPosture(cfg: SwitchboardConfig, env: NodeJS.ProcessEnv): SecurityPosture {
  const table = new TokenTable(() => cfg, env);
  const tokens = table
    .principals()
    .map((p) => ({ label: p.label, tenant: p.tenant, admin: p.admin }))
    .sort((a, b) => a.label.localeCompare(b.label));
  return {
    authSetting: cfg.http.auth,
    authEnabled: table.enabled,
    tokens,
    host: cfg.http.host,
    port: cfg.http.port,
    allowedHosts: [...cfg.http.allowedHosts].sort(),
    allowedOrigins: [...cfg.http.allowedOrigins].sort(),
  };
}

/** What changed between two postures, by field; empty when nothing security-relevant did. */
export function postureChanges(before: SecurityPosture, after: SecurityPosture): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  if (before.authSetting !== after.authSetting) changes.authSetting = { from: before.authSetting, to: after.authSetting };
  if (before.authEnabled !== after.authEnabled) changes.auth = { from: before.authEnabled ? "tokens" : "off", to: after.authEnabled ? "tokens" : "off" };
  const key = (t: SecurityPosture["tokens"][number]) => `${t.label}|${t.tenant}|${t.admin}`;
  const was = new Set(before.tokens.map(key));
  const now = new Set(after.tokens.map(key));
  const added = after.tokens.filter((t) => !was.has(key(t)));
  const removed = before.tokens.filter((t) => !now.has(key(t)));
  if (added.length || removed.length) {
    changes.tokens = {
      from: before.tokens.length,
      to: after.tokens.length,
      added: added.map((t) => `${t.label} (tenant ${t.tenant}${t.admin ? ", admin" : ""})`),
      removed: removed.map((t) => `${t.label} (tenant ${t.tenant}${t.admin ? ", admin" : ""})`),
    };
  }
  if (before.host !== after.host) changes.host = { from: before.host, to: after.host };
  if (before.port !== after.port) changes.port = { from: before.port, to: after.port };
  for (const k of ["allowedHosts", "allowedOrigins"] as const) {
    if (before[k].join("\n") !== after[k].join("\n")) changes[k] = { from: before[k], to: after[k] };
  }
  return changes;
}
