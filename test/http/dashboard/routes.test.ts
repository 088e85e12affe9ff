import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Script } from "node:vm";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import express from "express";
import pino from "pino";
import { CallFeed } from "../../../src/http/dashboard/feed.js";
import { dashboardRouter } from "../../../src/http/dashboard/routes.js";
import type { DashboardSnapshot } from "../../../src/http/dashboard/snapshot.js";
import { Runtime } from "../../../src/runtime.js";
import { TokenTable } from "../../../src/auth.js";
import type { Logger } from "../../../src/logger.js";
import { rec } from "./records.js";

const SRC_STATIC = fileURLToPath(new URL("../../../src/http/dashboard/static/", import.meta.url));
const DIST_STATIC = fileURLToPath(new URL("../../../dist/http/dashboard/static/", import.meta.url));
const DIST_ROUTES = fileURLToPath(new URL("../../../dist/http/dashboard/routes.js", import.meta.url));
const ASSETS = ["index.html", "app.css", "app.js"] as const;
const PAGE_HTML = readFileSync(`${SRC_STATIC}index.html`, "utf8");
const APP_CSS = readFileSync(`${SRC_STATIC}app.css`, "utf8");
const APP_JS = readFileSync(`${SRC_STATIC}app.js`, "utf8");

const quiet = pino({ level: "silent" }) as unknown as Logger;
const ACME = "acme-token-123";
const ADMIN = "admin-token-456";

type SnapshotBody = DashboardSnapshot & { viewer: { auth: boolean; admin: boolean; canFilter: boolean; tenant: string | null; label: string | null } };

async function serve(runtime: Runtime, feed: CallFeed, env: NodeJS.ProcessEnv, router = dashboardRouter): Promise<{ url: string; close: () => Promise<void> }> {
  const tokens = new TokenTable(() => runtime.config, env);
  const app = express();
  app.use("/dashboard", router({ runtime, feed, authenticate: (h) => tokens.authenticate(h) }));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/dashboard`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function fill(feed: CallFeed): void {
  const now = Date.now();
  feed.push(rec({ at: new Date(now - 3000), tenant: "acme", requestId: "a1", reason: "acme reason" }));
  feed.push(rec({ at: new Date(now - 2000), tenant: "acme", requestId: "a2", outcome: "timeout" }));
  feed.push(rec({ at: new Date(now - 1000), tenant: "default", requestId: "d1", reason: "default reason" }));
}

describe("dashboard routes with tokens", () => {
  const env = { SWITCHBOARD_TOKENS: `acme=${ACME}`, SWITCHBOARD_ADMIN_TOKEN: ADMIN };
  let runtime: Runtime;
  let server: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    runtime = new Runtime({ env }, quiet);
    const feed = new CallFeed(runtime, { log: quiet });
    fill(feed);
    server = await serve(runtime, feed, env);
  });
  afterAll(async () => {
    await server.close();
    await runtime.close();
  });

  const get = (path: string, token?: string) => fetch(`${server.url}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

  it("serves the page publicly, with a strict CSP and no inline script", async () => {
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await res.text();
    expect(html).toBe(PAGE_HTML);
    expect(html).toContain('<script src="app.js"');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is external
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handlers
    expect(html).not.toMatch(/<style|style=/);
    expect(html).not.toMatch(/https?:\/\//); // nothing from the network
  });

  it("redirects /dashboard to /dashboard/ so relative assets resolve", async () => {
    const res = await fetch(server.url, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/dashboard/");
  });

  it("serves the script, styles and Chart.js from this server", async () => {
    const js = await get("/app.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect(await js.text()).toBe(APP_JS);
    expect(js.headers.get("cache-control")).toBe("no-cache");
    const css = await get("/app.css");
    expect(css.headers.get("content-type")).toMatch(/text\/css/);
    expect(css.headers.get("cache-control")).toBe("no-cache");
    expect(await css.text()).toBe(APP_CSS);
    const chart = await get("/chart.js");
    expect(chart.status).toBe(200);
    expect(chart.headers.get("content-type")).toMatch(/javascript/);
    const text = await chart.text();
    expect(text).toMatch(/Chart\.js v4\./);
    expect(text.length).toBeGreaterThan(100_000);
    expect(text).not.toContain("sourceMappingURL");
  });

  it("answers 401 with WWW-Authenticate and a structured body without a token", async () => {
    const res = await get("/api/snapshot");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ code: "unauthorized", retryable: false });
    expect(String(body.error.message)).toMatch(/token/);
    expect(String(body.error.hint).length).toBeGreaterThan(0);
  });

  it("answers 401 invalid_token for a wrong token", async () => {
    const res = await get("/api/snapshot", "nope");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("shows a tenant token its own tenant only", async () => {
    const res = await get("/api/snapshot?window=60", ACME);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as SnapshotBody;
    expect(body.tenant).toBe("acme");
    expect(body.totals.calls).toBe(2);
    expect(body.recent.map((r) => r.requestId)).toEqual(["a2", "a1"]);
    expect(body.tenants).toEqual([{ tenant: "acme", calls: 2 }]);
    expect(body.viewer).toMatchObject({ auth: true, admin: false, canFilter: false, tenant: "acme" });
    expect(JSON.stringify(body)).not.toContain("default reason");
  });

  it("refuses a tenant token asking for another tenant", async () => {
    const res = await get("/api/snapshot?tenant=default", ACME);
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string } };
    expect(body.error.code).toBe("forbidden");
    expect(await (await get("/api/snapshot?tenant=acme", ACME)).json()).toMatchObject({ tenant: "acme" });
  });

  it("shows an admin every tenant, and filters on ?tenant=", async () => {
    const all = (await (await get("/api/snapshot", ADMIN)).json()) as SnapshotBody;
    expect(all.tenant).toBeNull();
    expect(all.totals.calls).toBe(3);
    expect(all.tenants.map((t) => t.tenant)).toEqual(["acme", "default"]);
    expect(all.viewer).toMatchObject({ admin: true, canFilter: true, tenant: null, label: "admin" });
    const only = (await (await get("/api/snapshot?tenant=default", ADMIN)).json()) as SnapshotBody;
    expect(only.tenant).toBe("default");
    expect(only.totals.calls).toBe(1);
    expect(only.recent[0]!.reason).toBe("default reason");
    // The filter list still names every tenant, so the admin can switch back.
    expect(only.tenants.map((t) => t.tenant)).toEqual(["acme", "default"]);
  });

  it("validates the window", async () => {
    for (const w of ["0", "abc", "1441", "-5", "1.5"]) {
      const res = await get(`/api/snapshot?window=${w}`, ADMIN);
      expect(res.status, w).toBe(400);
      expect(((await res.json()) as { error: { field: string } }).error.field).toBe("window");
    }
    const day = (await (await get("/api/snapshot?window=1440", ADMIN)).json()) as SnapshotBody;
    expect(day.window).toMatchObject({ minutes: 1440, bucketSeconds: 1800 });
  });
});

describe("dashboard routes without tokens", () => {
  let runtime: Runtime;
  let server: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    runtime = new Runtime({ env: {} }, quiet);
    const feed = new CallFeed(runtime, { log: quiet });
    fill(feed);
    server = await serve(runtime, feed, {});
  });
  afterAll(async () => {
    await server.close();
    await runtime.close();
  });

  it("shows everything and lets anyone filter", async () => {
    const all = (await (await fetch(`${server.url}/api/snapshot`)).json()) as SnapshotBody;
    expect(all.totals.calls).toBe(3);
    expect(all.viewer).toMatchObject({ auth: false, canFilter: true });
    const acme = (await (await fetch(`${server.url}/api/snapshot?tenant=acme`)).json()) as SnapshotBody;
    expect(acme.totals.calls).toBe(2);
  });
});

describe("page script", () => {
  it("parses as a classic script and builds the DOM without innerHTML", () => {
    expect(() => new Script(APP_JS)).not.toThrow();
    expect(APP_JS).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    expect(APP_JS).not.toMatch(/https?:\/\//);
  });

  it("has every element the script looks up", () => {
    const ids = new Set([...APP_JS.matchAll(/\$\("([\w-]+)"\)/g)].map((m) => m[1]!));
    expect(ids.size).toBeGreaterThan(20);
    for (const id of ids) expect(PAGE_HTML, id).toContain(`id="${id}"`);
  });
});

describe("static files in the build", () => {
  // Runs against dist/: `npm run build` (tsc, then scripts/copy-assets.mjs) must have run first.
  it("copies index.html, app.css and app.js into dist/http/dashboard/static unchanged", () => {
    for (const name of ASSETS) {
      const file = `${DIST_STATIC}${name}`;
      expect(existsSync(file), `${file} is missing: run \`npm run build\``).toBe(true);
      expect(readFileSync(file, "utf8"), name).toBe(readFileSync(`${SRC_STATIC}${name}`, "utf8"));
    }
  });

  it("serves, from the built router, exactly the files on disk next to it", async () => {
    expect(existsSync(DIST_ROUTES), `${DIST_ROUTES} is missing: run \`npm run build\``).toBe(true);
    const built = (await import(DIST_ROUTES)) as typeof import("../../../src/http/dashboard/routes.js");
    expect(fileURLToPath(built.STATIC_DIR)).toBe(DIST_STATIC);
    const runtime = new Runtime({ env: {} }, quiet);
    const server = await serve(runtime, new CallFeed(runtime, { log: quiet }), {}, built.dashboardRouter);
    try {
      const page = await fetch(`${server.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-security-policy")).toBe(built.DASHBOARD_CSP);
      expect(await page.text()).toBe(readFileSync(`${DIST_STATIC}index.html`, "utf8"));
      expect(await (await fetch(`${server.url}/app.css`)).text()).toBe(readFileSync(`${DIST_STATIC}app.css`, "utf8"));
      expect(await (await fetch(`${server.url}/app.js`)).text()).toBe(readFileSync(`${DIST_STATIC}app.js`, "utf8"));
    } finally {
      await server.close();
      await runtime.close();
    }
  });
});
