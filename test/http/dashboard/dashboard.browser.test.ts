import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { chromium, type Browser, type Page } from "playwright-core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { Runtime } from "../../../src/runtime.js";
import { startHttpServer, type HttpServerHandle } from "../../../src/http/http-server.js";
import type { Logger } from "../../../src/logger.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`[dashboard.browser] ${CHROMIUM} does not exist: the browser tests are skipped (install Debian's chromium to run them)`);

const ACME = "acme-browser-token";
const ADMIN = "admin-browser-token";
const ENV = { SWITCHBOARD_TOKENS: `acme=${ACME}`, SWITCHBOARD_ADMIN_TOKEN: ADMIN };
const RESULTS_DIR = fileURLToPath(new URL("../../test-results/", import.meta.url));
const SCREENSHOT = `${RESULTS_DIR}dashboard.png`;
const quiet = pino({ level: "silent" }) as unknown as Logger;

const CALLS: Array<{ prompt: string; tenant?: string }> = [
  { prompt: "Fix this: TypeError: cannot read properties of undefined (reading 'map') at render (app.js:12)" },
  { prompt: "Write a haiku about autumn leaves falling on a quiet river" },
  { prompt: "Research the latest EU AI Act enforcement dates and cite your sources", tenant: "acme" },
  { prompt: "Plan a three-step migration of our billing database to Postgres with rollback points", tenant: "acme" },
  { prompt: "Summarize this meeting transcript into five bullet points for the team" },
];

interface Decision {
  requestId: string;
  mode: string;
  model: string;
  provider: string;
  reason: string;
  tenant: string;
}

async function withPage<T>(fn: (page: Page, errors: string[]) => Promise<T>): Promise<T> {
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, colorScheme: "light" });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      // A 401 from the API is expected before sign-in; the browser logs it as a failed load.
      if (m.type() === "error" && !/status of 401/.test(m.text())) errors.push(`console: ${m.text()}`);
    });
    return await fn(page, errors);
  } finally {
    await browser?.close();
  }
}

// Browser-side code is passed as strings: the project compiles without the DOM lib.
/** How many pixels of a canvas were drawn on (not transparent), and its size. */
function canvasPainted(page: Page, id: string): Promise<{ width: number; height: number; painted: number }> {
  return page.evaluate(`(() => {
    const c = document.getElementById(${JSON.stringify(id)});
    const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    return { width: c.width, height: c.height, painted };
  })()`);
}
// waitForFunction would eval in the page, which the dashboard's CSP rightly forbids: wait on selectors.
const rowsAtLeast = (page: Page, n: number) => page.locator("#recent tbody tr").nth(n - 1).waitFor();

describe.skipIf(!hasChromium)("dashboard in a real browser", () => {
  let runtime: Runtime;
  let handle: HttpServerHandle;
  let base: string;
  const clients: Client[] = [];
  const decisions: Decision[] = [];
  const badRequestId = "dashboard-bad-call";

  beforeAll(async () => {
    // The real HTTP server: the dashboard, and MCP over Streamable HTTP on the same port.
    runtime = new Runtime({ env: ENV }, quiet);
    handle = await startHttpServer({ runtime, port: 0, log: quiet });
    const connect = async (token: string) => {
      const client = new Client({ name: "dashboard-browser-test", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${handle.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
      clients.push(client);
      return client;
    };
    const admin = await connect(ADMIN);
    const acme = await connect(ACME);
    // Real tool calls: the acme ones with acme's token, whose tenant they take from it.
    for (const c of CALLS) {
      const res = (await (c.tenant ? acme : admin).callTool({ name: "route_task", arguments: { prompt: c.prompt } })) as CallToolResult;
      expect(res.isError).toBeFalsy();
      decisions.push(res.structuredContent as unknown as Decision);
    }
    expect(decisions.filter((d) => d.tenant === "acme").length).toBe(2);
    const bad = (await admin.callTool({ name: "route_task", arguments: { prompt: "hello", taskType: "not-a-task-type", requestId: badRequestId } })) as CallToolResult;
    expect(bad.isError).toBe(true);
    base = `${handle.url}/dashboard/`;
  }, 30_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await handle?.close();
    await runtime?.close();
  });

  it("asks for a token when auth is on and none is given", async () => {
    await withPage(async (page, errors) => {
      await page.goto(base);
      await page.waitForSelector("#auth:not([hidden])");
      expect(await page.getAttribute("body", "data-state")).toBe("auth");
      expect(await page.isVisible("#token-input")).toBe(true);
      expect(await page.locator("#recent tbody tr").count()).toBe(0);
      expect(errors).toEqual([]);
    });
  }, 60_000);

  it("loads every decision with #token=, clears the fragment, draws the charts and saves a screenshot", async () => {
    await withPage(async (page, errors) => {
      await page.goto(`${base}#token=${ADMIN}`);
      await page.waitForSelector('body[data-state="ready"]');
      await rowsAtLeast(page, CALLS.length + 1);

      // The token left the address bar for session storage.
      expect(await page.evaluate("location.hash")).toBe("");
      expect(await page.evaluate('sessionStorage.getItem("switchboard.dashboard.token")')).toBe(ADMIN);
      expect(await page.isHidden("#auth")).toBe(true);

      // Each decision's row shows what route_task answered.
      for (const d of decisions) {
        const row = page.locator(`#recent tbody tr[data-request-id="${d.requestId}"]`);
        expect(await row.count(), d.requestId).toBe(1);
        expect(await row.locator("td.mode").textContent()).toBe(d.mode);
        expect(await row.locator("td.model").getAttribute("title")).toBe(d.model);
        expect(await row.locator("td.model").textContent()).toContain(d.model.replace(`${d.provider}:`, ""));
        expect(await row.locator("td.provider").textContent()).toBe(d.provider);
        expect(await row.locator("td.reason").textContent()).toBe(d.reason);
        expect(await row.locator("td.outcome").textContent()).toBe("ok");
      }
      const badRow = page.locator(`#recent tbody tr[data-request-id="${badRequestId}"]`);
      expect(await badRow.locator("td.outcome").textContent()).toBe("invalid_request");

      // Totals in the header.
      expect(await page.textContent("#k-calls")).toBe(String(CALLS.length + 1));
      expect(await page.textContent("#k-errors")).toBe(`${((1 / (CALLS.length + 1)) * 100).toFixed(1)}%`);
      // An admin may filter by tenant.
      expect(await page.isVisible("#tenant")).toBe(true);
      expect(await page.locator("#tenant option").allTextContents()).toEqual(["All tenants", "default", "acme"]);

      // The charts were drawn.
      for (const id of ["c-spend", "c-calls", "c-mode", "c-provider", "c-model", "c-latency", "c-errors", "c-tool"]) {
        const c = await canvasPainted(page, id);
        expect(c.width, id).toBeGreaterThan(100);
        expect(c.height, id).toBeGreaterThan(100);
        expect(c.painted, id).toBeGreaterThan(500);
      }
      // The table fits its card: no horizontal overflow at this width.
      const overflow = await page.evaluate<number>('(() => { const w = document.querySelector(".table-wrap"); return w.scrollWidth - w.clientWidth; })()');
      expect(overflow).toBeLessThanOrEqual(0);
      expect(await page.textContent("#updated")).toMatch(/updated \d+s ago/);

      // It polls by itself while visible...
      await page.waitForSelector('body[data-updates]:not([data-updates="1"])', { timeout: 15_000 });
      // ...and pauses while the tab is hidden, resuming when it is shown again.
      await page.evaluate(`Object.defineProperty(document, "hidden", { configurable: true, get: () => true }); document.dispatchEvent(new Event("visibilitychange"))`);
      expect(await page.getAttribute("body", "data-live")).toBe("paused");
      expect(await page.textContent("#updated")).toMatch(/^Paused · updated \d+s ago$/);
      const resumed = page.waitForRequest((r) => r.url().includes("/api/snapshot"), { timeout: 15_000 });
      await page.evaluate(`Object.defineProperty(document, "hidden", { configurable: true, get: () => false }); document.dispatchEvent(new Event("visibilitychange"))`);
      await resumed;
      await page.waitForSelector('body[data-live="live"]');

      mkdirSync(RESULTS_DIR, { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(existsSync(SCREENSHOT)).toBe(true);
      expect(statSync(SCREENSHOT).size).toBeGreaterThan(40_000);
      expect(errors).toEqual([]);
    });
  }, 60_000);

  it("signs in through the token form and shows a tenant token only its tenant", async () => {
    await withPage(async (page, errors) => {
      await page.goto(base);
      await page.waitForSelector("#auth:not([hidden])");
      await page.fill("#token-input", "wrong-token");
      await page.click("#auth-form button[type=submit]");
      await page.waitForSelector("#auth-error:not([hidden])");
      expect(await page.textContent("#auth-error")).toContain("not accepted");

      await page.fill("#token-input", ACME);
      await page.click("#auth-form button[type=submit]");
      await page.waitForSelector('body[data-state="ready"]');
      const acme = decisions.filter((d) => d.tenant === "acme");
      expect(acme.length).toBe(2);
      await rowsAtLeast(page, acme.length);
      expect(await page.locator("#recent tbody tr").count()).toBe(acme.length);
      const ids = await page.locator("#recent tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-request-id")));
      expect(ids.sort()).toEqual(acme.map((d) => d.requestId).sort());
      expect(await page.textContent("#scope")).toBe("Tenant: acme");
      expect(await page.isHidden("#tenant-filter")).toBe(true);
      expect(errors).toEqual([]);
    });
  }, 60_000);
});
