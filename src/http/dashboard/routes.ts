import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import express, { type Request, type Response } from "express";
import type { Runtime } from "../../runtime.js";
import type { ErrorBody } from "../../errors.js";
import { scopeTenant, type AuthResult } from "../../auth.js";
import type { CallFeed } from "./feed.js";
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

/**
 * The page's static shell (no data in it, so it is public), its styles and its script: real files
 * in static/ next to this module (the build copies src/http/dashboard/static to dist/). Each is
 * served from its own route so the Content-Security-Policy can forbid inline code; the script is
 * plain ES2017 and builds every data-bearing node with textContent, never innerHTML.
 */
export const STATIC_DIR = new URL("./static/", import.meta.url);

export interface DashboardAssets {
  html: string;
  css: string;
  js: string;
}

let assets: DashboardAssets | undefined;

/** The three static files, read once and kept in memory. */
export function dashboardAssets(): DashboardAssets {
  if (assets === undefined) {
    const read = (name: string): string => {
      const file = new URL(name, STATIC_DIR);
      try {
        return readFileSync(file, "utf8");
      } catch (err) {
        throw new Error(`dashboard asset ${fileURLToPath(file)} could not be read (${(err as Error).message}); run \`npm run build\`, which copies src/http/dashboard/static into dist/`, { cause: err });
      }
    };
    assets = { html: read("index.html"), css: read("app.css"), js: read("app.js") };
  }
  return assets;
}

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
  const { html, css, js } = dashboardAssets(); // at start: a missing file fails here, not on the first visit
  const router = express.Router();

  router.get("/", (req: Request, res: Response) => {
    // The page loads its assets by relative URL, so it must be served under a trailing slash.
    const path = req.originalUrl.split("?")[0] ?? "";
    if (!path.endsWith("/")) {
      const query = req.originalUrl.slice(path.length);
      res.redirect(302, `${req.baseUrl}/${query}`);
      return;
    }
    res.set({ ...COMMON_HEADERS, "Content-Security-Policy": DASHBOARD_CSP, "Cache-Control": "no-cache" }).type("html").send(html);
  });

  router.get("/app.js", (_req, res) => {
    res.set({ ...COMMON_HEADERS, "Cache-Control": "no-cache" }).type("text/javascript; charset=utf-8").send(js);
  });

  router.get("/app.css", (_req, res) => {
    res.set({ ...COMMON_HEADERS, "Cache-Control": "no-cache" }).type("text/css; charset=utf-8").send(css);
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
