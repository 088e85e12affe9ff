import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import express, { type Request, type Response } from "express";
import type { Runtime } from "../../runtime.js";
import type { ErrorBody } from "../../errors.js";
import { scopeTenant, type AuthResult } from "../../auth.js";
import type { CallFeed } from "./feed.js";
import { APP_CSS, APP_JS, PAGE_HTML } from "./page.js";
import { MAX_WINDOW_MINUTES, dashboardSnapshot } from "./snapshot.js";

export interface DashboardRouterOptions {
  runtime: Runtime;
  feed: CallFeed;
  /** Checks an Authorization header (TokenTable.authenticate). */
  authenticate: (authorizationHeader: string | undefined) => AuthResult;
}

/**
 * Nothing but this server: no inline script or style, no other origin, no framing. The page's
 * script and styles are served from their own routes below.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const COMMON_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Resource-Policy": "same-origin",
};

let chartJs: string | undefined;

/**
 * Chart.js's UMD bundle from node_modules (no CDN: the dashboard works offline). The package's
 * `exports` map hides dist/chart.umd.js from require.resolve, so it is found next to the
 * entry point instead. The source-map comment is dropped: the map is not served.
 */
export function chartJsSource(): string {
  if (chartJs === undefined) {
    const entry = createRequire(import.meta.url).resolve("chart.js"); // .../chart.js/dist/chart.cjs
    chartJs = readFileSync(join(dirname(entry), "chart.umd.js"), "utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");
  }
  return chartJs;
}

function refuse(res: Response, status: number, body: ErrorBody, headers: Record<string, string> = {}): void {
  res.status(status).set({ "Cache-Control": "no-store", ...headers }).json({ error: body });
}

/**
 * The live dashboard, mounted at /dashboard. The page, its script, its styles and Chart.js hold
 * no data and are public; /api/snapshot needs a token when auth is on, and a tenant token only
 * ever sees its own tenant.
 */
export function dashboardRouter(opts: DashboardRouterOptions): express.Router {
  const { runtime, feed, authenticate } = opts;
  const router = express.Router();

  router.get("/", (req: Request, res: Response) => {
    // The page loads its assets by relative URL, so it must be served under a trailing slash.
    const path = req.originalUrl.split("?")[0] ?? "";
    if (!path.endsWith("/")) {
      const query = req.originalUrl.slice(path.length);
      res.redirect(302, `${req.baseUrl}/${query}`);
      return;
    }
    res.set({ ...COMMON_HEADERS, "Content-Security-Policy": DASHBOARD_CSP, "Cache-Control": "no-cache" }).type("html").send(PAGE_HTML);
  });

  router.get("/app.js", (_req, res) => {
    res.set({ ...COMMON_HEADERS, "Cache-Control": "no-cache" }).type("text/javascript; charset=utf-8").send(APP_JS);
  });

  router.get("/app.css", (_req, res) => {
    res.set({ ...COMMON_HEADERS, "Cache-Control": "no-cache" }).type("text/css; charset=utf-8").send(APP_CSS);
  });

  router.get("/chart.js", (_req, res) => {
    res.set({ ...COMMON_HEADERS, "Cache-Control": "public, max-age=86400" }).type("text/javascript; charset=utf-8").send(chartJsSource());
  });

  router.get("/api/snapshot", (req: Request, res: Response) => {
    const auth = authenticate(req.headers.authorization);
    if (!auth.ok) {
      const missing = auth.reason === "missing";
      return refuse(
        res,
        401,
        {
          code: "unauthorized",
          message: missing ? "the dashboard needs a bearer token" : "the bearer token is not valid",
          hint: missing
            ? "open /dashboard#token=<token>, or enter a token in the form; ask the operator for a token bound to your tenant."
            : "check the token for typos, or ask the operator whether it was rotated.",
          retryable: false,
        },
        { "WWW-Authenticate": missing ? 'Bearer realm="switchboard"' : 'Bearer realm="switchboard", error="invalid_token"' },
      );
    }
    const principal = auth.principal;

    const windowParam = req.query.window;
    let windowMinutes = 60;
    if (windowParam !== undefined) {
      const n = typeof windowParam === "string" && /^\d+$/.test(windowParam) ? Number(windowParam) : NaN;
      if (!(n >= 1 && n <= MAX_WINDOW_MINUTES)) {
        return refuse(res, 400, {
          code: "invalid_request",
          message: `window must be a whole number of minutes from 1 to ${MAX_WINDOW_MINUTES}`,
          hint: "use e.g. ?window=60 for the last hour or ?window=1440 for the last day.",
          field: "window",
          retryable: false,
        });
      }
      windowMinutes = n;
    }

    const tenantParam = req.query.tenant;
    if (tenantParam !== undefined && typeof tenantParam !== "string") {
      return refuse(res, 400, { code: "invalid_request", message: "tenant must be given once", hint: "pass a single ?tenant=<name>, or none for all tenants.", field: "tenant", retryable: false });
    }
    const scoped = scopeTenant(principal, tenantParam === "" ? undefined : tenantParam);
    if ("refused" in scoped) {
      return refuse(res, 403, { code: "forbidden", message: scoped.refused, hint: "leave out ?tenant= to see your own tenant, or use an admin token to see others.", field: "tenant", retryable: false });
    }
    const canFilter = !principal || principal.admin;

    const snapshot = dashboardSnapshot(feed.records(), {
      now: Date.now(),
      windowMinutes,
      tenant: scoped.tenant,
      breakers: runtime.breakers.status(),
      tenantChoices: canFilter,
    });
    res.set({ ...COMMON_HEADERS, "Cache-Control": "no-store" }).json({
      ...snapshot,
      viewer: {
        auth: principal !== undefined,
        admin: principal?.admin ?? false,
        canFilter,
        // Safe to show: the configured label, never the token.
        label: principal?.label ?? null,
        tenant: canFilter ? null : principal!.tenant,
      },
      store: runtime.store ? "on" : "off",
    });
  });

  return router;
}
