import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { SHIPPED_CONFIG_DIR } from "../../src/config/load.js";
import { TASK_TYPES } from "../../src/config/schema.js";
import { Runtime } from "../../src/runtime.js";

/**
 * The runtime reads a private copy of the shipped config (so edits to config/ elsewhere
 * cannot trigger reloads here) plus an overlay, both in a temp dir. The copy gets a few
 * example prompts per task instead of the shipped set, so every (re)build trains its
 * classifier in milliseconds whether or not the build's snapshot matches.
 */
const root = mkdtempSync(join(tmpdir(), "switchboard-reload-"));
const configDir = join(root, "config");
const overlayDir = join(root, "user");
const overlayFile = join(overlayDir, "switchboard.yaml");

/** Log lines the runtime writes, so tests can await "rejected" instead of sleeping. */
const logLines: Array<{ msg?: string; level?: number }> = [];
const logWaiters = new Set<() => void>();
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split("\n").filter(Boolean)) logLines.push(JSON.parse(line) as { msg?: string });
    for (const w of logWaiters) w();
    done();
  },
});
const quietLogger = pino({ level: "debug" }, sink);

function waitForLog(pattern: RegExp, after: number, timeoutMs = 15000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (logLines.slice(after).some((l) => pattern.test(l.msg ?? ""))) {
        clearTimeout(timer);
        logWaiters.delete(check);
        resolve();
      }
    };
    const timer = setTimeout(() => {
      logWaiters.delete(check);
      reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms`));
    }, timeoutMs);
    logWaiters.add(check);
    check();
  });
}

function nextReload(rt: Runtime, timeoutMs = 15000): Promise<Runtime> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no reload within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = rt.onReload((r) => {
      clearTimeout(timer);
      off();
      resolve(r);
    });
  });
}

function writeOverlay(doc: unknown): void {
  writeFileSync(overlayFile, YAML.stringify(doc));
}

let rt: Runtime;

beforeAll(() => {
  cpSync(SHIPPED_CONFIG_DIR, configDir, { recursive: true });
  rmSync(join(configDir, "examples"), { recursive: true, force: true });
  mkdirSync(join(configDir, "examples"));
  for (const task of TASK_TYPES) {
    const examples = [1, 2, 3].map((i) => `example ${i} of a ${task.replace("_", " ")} request`);
    writeFileSync(join(configDir, "examples", `${task}.yaml`), YAML.stringify({ task, examples }));
  }
  mkdirSync(overlayDir);
  writeOverlay({ router: { maxFallbacks: 3 } });
  rt = new Runtime({ configDir, overlayFile, env: {} }, quietLogger);
});

afterAll(() => {
  rt?.close();
  rmSync(root, { recursive: true, force: true });
});

describe("Runtime", () => {
  it("starts with the overlay applied and routes", () => {
    expect(rt.config.router.maxFallbacks).toBe(3);
    const d = rt.route({ prompt: "What is the capital of Italy?" });
    expect(d.configVersion).toBe(rt.configVersion);
    expect(rt.config.models[d.model]).toBeDefined();
  });

  it("reload() with nothing changed reports no change and keeps the version", () => {
    const v = rt.configVersion;
    expect(rt.reload()).toBe(false);
    expect(rt.configVersion).toBe(v);
  });

  it("a valid edit of the watched overlay reloads the config", async () => {
    rt.watch(20);
    const before = rt.configVersion;
    const reloaded = nextReload(rt);
    writeOverlay({ router: { maxFallbacks: 1 }, tenants: { reload_tenant: { description: "added while running" } } });
    const r = await reloaded;
    expect(r).toBe(rt);
    expect(rt.configVersion).not.toBe(before);
    expect(rt.config.router.maxFallbacks).toBe(1);
    expect(rt.config.tenants.reload_tenant).toBeDefined();
    // The router is rebuilt from the new config, too.
    expect(rt.router.configVersion).toBe(rt.configVersion);
    const d = rt.route({ prompt: "Give me a synonym for happy.", tenant: "reload_tenant" });
    expect(d.tenant).toBe("reload_tenant");
    expect(d.fallbacks.length).toBeLessThanOrEqual(1);
    expect(d.configVersion).toBe(rt.configVersion);
  });

  it("an invalid edit is rejected and the last good config stays in force", async () => {
    const good = rt.configVersion;
    const mark = logLines.length;
    let reloads = 0;
    const off = rt.onReload(() => reloads++);
    writeOverlay({ router: { maxFallbacks: -4 }, modes: { realtime_assist: { chain: ["openai:no-such-model"] } } });
    await waitForLog(/configuration change rejected/, mark);
    off();
    expect(reloads).toBe(0);
    expect(rt.configVersion).toBe(good);
    expect(rt.config.router.maxFallbacks).toBe(1);
    expect(rt.config.tenants.reload_tenant).toBeDefined();
    const d = rt.route({ prompt: "Give me a synonym for happy.", tenant: "reload_tenant" });
    expect(d.configVersion).toBe(good);
    expect(rt.config.models[d.model]).toBeDefined();
    // The error that was logged names what is wrong.
    const rejected = logLines.slice(mark).find((l) => /rejected/.test(l.msg ?? "")) as { err?: string } | undefined;
    expect(rejected?.err).toMatch(/maxFallbacks|openai:no-such-model/);
  });

  it("fixing the file afterwards reloads again", async () => {
    const bad = rt.configVersion;
    const reloaded = nextReload(rt);
    writeOverlay({ router: { maxFallbacks: 2 } });
    await reloaded;
    expect(rt.configVersion).not.toBe(bad);
    expect(rt.config.router.maxFallbacks).toBe(2);
    expect(rt.config.tenants.reload_tenant).toBeUndefined();
  });

  it("an unsubscribed listener is not called", async () => {
    let called = 0;
    const off = rt.onReload(() => called++);
    off();
    const reloaded = nextReload(rt);
    writeOverlay({ router: { maxFallbacks: 0 } });
    await reloaded;
    expect(rt.config.router.maxFallbacks).toBe(0);
    expect(called).toBe(0);
  });

  it("after close() (twice is harmless), reload() by hand still picks up edits", () => {
    rt.close();
    rt.close();
    writeOverlay({ router: { maxFallbacks: 4 } });
    expect(rt.reload()).toBe(true);
    expect(rt.config.router.maxFallbacks).toBe(4);
  });
});
