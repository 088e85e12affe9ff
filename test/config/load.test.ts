import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { ConfigError, deepMerge, loadConfig, resolveOverlayPath, SHIPPED_CONFIG_DIR } from "../../src/config/load.js";
import { baseUrlEnvName, configuredProviders, envValue } from "../../src/config/env.js";
import { TASK_TYPES } from "../../src/config/schema.js";

const dir = mkdtempSync(join(tmpdir(), "switchboard-load-"));
let n = 0;

/** Writes an overlay file (YAML unless the name ends in .json) and returns its path. */
function overlay(doc: unknown, ext: "yaml" | "json" = "yaml"): string {
  const file = join(dir, `overlay-${n++}.${ext}`);
  writeFileSync(file, ext === "json" ? JSON.stringify(doc, null, 2) : YAML.stringify(doc));
  return file;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError, but nothing was thrown");
}

const newModel = {
  displayName: "Test model",
  tier: "economy",
  capabilities: { coding: 50, reasoning: 50, creative: 50, speed: 50, context: 50, instruction: 50, toolUse: 50 },
  price: { input: 0.5, output: 1.5 },
  contextWindow: 64000,
  maxOutput: 4096,
  supports: { tools: true, vision: false, json: true },
  latencyMs: 1000,
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("loadConfig: shipped configuration", () => {
  const loaded = loadConfig({ env: {} });

  it("loads and validates the shipped config folder", () => {
    const { config } = loaded;
    expect(config.version).toBe(1);
    expect(Object.keys(config.models).length).toBeGreaterThan(0);
    expect(Object.keys(config.modes).length).toBeGreaterThan(0);
    expect(Object.keys(config.tasks).sort()).toEqual([...TASK_TYPES].sort());
    expect(config.tenants[config.router.defaultTenant]).toBeDefined();
  });

  it("attaches the example prompts of config/examples to their tasks", () => {
    for (const t of TASK_TYPES) expect(loaded.config.tasks[t].examples.length, t).toBeGreaterThan(0);
    expect(loaded.files.some((f) => f.includes(join("config", "examples")))).toBe(true);
  });

  it("reports every file read and a stable short version hash", () => {
    expect(loaded.files.every((f) => f.startsWith(SHIPPED_CONFIG_DIR))).toBe(true);
    expect(loaded.files.some((f) => f.endsWith("models.yaml"))).toBe(true);
    expect(loaded.version).toMatch(/^[0-9a-f]{8}$/);
    expect(loadConfig({ env: {} }).version).toBe(loaded.version);
  });

  it("every mode chain names models or services that exist", () => {
    const { config } = loaded;
    const known = new Set([...Object.keys(config.models), ...Object.keys(config.services)]);
    for (const [name, mode] of Object.entries(config.modes)) {
      for (const id of mode.chain) expect(known.has(id), `${name}: ${id}`).toBe(true);
    }
  });
});

describe("deepMerge", () => {
  it("merges objects, replaces arrays and scalars, and deletes keys set to null", () => {
    const base = { a: { x: 1, y: [1, 2, 3], z: "keep" }, b: 2, c: { gone: true } };
    const out = deepMerge(base, { a: { x: 5, y: [9] }, b: null, c: null, d: "new" });
    expect(out).toEqual({ a: { x: 5, y: [9], z: "keep" }, d: "new" });
    // The base is left as it was.
    expect(base.a.x).toBe(1);
    expect(base.b).toBe(2);
  });
});

describe("loadConfig: overlay files", () => {
  const shipped = loadConfig({ env: {} }).config;

  it.each(["yaml", "json"] as const)("merges a %s overlay: objects merge, arrays replace, null deletes", (ext) => {
    const tenantName = Object.keys(shipped.tenants).find((t) => t !== shipped.router.defaultTenant);
    const file = overlay(
      {
        router: { maxFallbacks: 1 },
        modes: { realtime_assist: { tools: ["only_this_tool"] } },
        tenants: {
          ...(tenantName ? { [tenantName]: null } : {}),
          overlay_tenant: { description: "added by overlay", blockedProviders: ["deepseek"] },
        },
      },
      ext,
    );
    const { config, files, version } = loadConfig({ overlayFile: file, env: {} });
    // Objects merge: the key set changes, its siblings stay.
    expect(config.router.maxFallbacks).toBe(1);
    expect(config.router.maxPromptChars).toBe(shipped.router.maxPromptChars);
    expect(config.modes.realtime_assist!.chain).toEqual(shipped.modes.realtime_assist!.chain);
    // Arrays replace.
    expect(config.modes.realtime_assist!.tools).toEqual(["only_this_tool"]);
    // null deletes.
    if (tenantName) expect(config.tenants[tenantName]).toBeUndefined();
    expect(config.tenants.overlay_tenant?.blockedProviders).toEqual(["deepseek"]);
    expect(config.tenants[shipped.router.defaultTenant]).toBeDefined();
    expect(files).toContain(resolve(file));
    expect(version).not.toBe(loadConfig({ env: {} }).version);
  });

  it("null deletes an optional nested key", () => {
    const def = shipped.router.defaultTenant;
    const file = overlay({ tenants: { [def]: { budget: null, maxInteractiveLatencyMs: null } } });
    const { config } = loadConfig({ overlayFile: file, env: {} });
    expect(config.tenants[def]).toBeDefined();
    expect(config.tenants[def]!.budget).toBeUndefined();
    expect(config.tenants[def]!.maxInteractiveLatencyMs).toBeUndefined();
  });

  it("a new model added by an overlay appears in config.models", () => {
    const file = overlay({ models: { "openai:test-model-x": newModel } }, "json");
    const { config } = loadConfig({ overlayFile: file, env: {} });
    expect(config.models["openai:test-model-x"]).toMatchObject({ tier: "economy", contextWindow: 64000, price: { input: 0.5, output: 1.5 } });
    // The shipped models are all still there.
    for (const id of Object.keys(shipped.models)) expect(config.models[id]).toBeDefined();
  });

  it("an invalid overlay gives a ConfigError naming the overlay file, the path and the problem", () => {
    const model = Object.keys(shipped.models)[0]!;
    const file = overlay({ models: { [model]: { price: { input: -1 } } } });
    const err = configError(() => loadConfig({ overlayFile: file, env: {} }));
    const issue = err.issues.find((i) => i.path === `models.${model}.price.input`);
    expect(issue, JSON.stringify(err.issues)).toBeDefined();
    expect(issue!.file).toBe(resolve(file));
    expect(issue!.message.length).toBeGreaterThan(0);
    expect(err.message).toContain(resolve(file));
    expect(err.message).toContain(`models.${model}.price.input`);
  });

  it("a wrong type in a JSON overlay names the path too", () => {
    const file = overlay({ router: { maxFallbacks: "three" } }, "json");
    const err = configError(() => loadConfig({ overlayFile: file, env: {} }));
    expect(err.issues).toEqual(expect.arrayContaining([expect.objectContaining({ file: resolve(file), path: "router.maxFallbacks" })]));
  });

  it("an unknown key is rejected (strict schema)", () => {
    const file = overlay({ router: { maxFallbackz: 2 } });
    const err = configError(() => loadConfig({ overlayFile: file, env: {} }));
    expect(err.issues.some((i) => i.file === resolve(file) && i.path.startsWith("router"))).toBe(true);
  });

  it("an unknown model id in a mode chain names the valid values", () => {
    const file = overlay({ modes: { realtime_assist: { chain: ["openai:gpt-does-not-exist"] } } });
    const err = configError(() => loadConfig({ overlayFile: file, env: {} }));
    const issue = err.issues.find((i) => i.path === "modes.realtime_assist.chain.0");
    expect(issue, JSON.stringify(err.issues)).toBeDefined();
    expect(issue!.file).toBe(resolve(file));
    expect(issue!.message).toContain("openai:gpt-does-not-exist");
    expect(issue!.message).toMatch(/valid:/);
    expect(issue!.message).toContain(Object.keys(shipped.models)[0]!);
  });

  it("a model of an unknown provider is rejected", () => {
    const file = overlay({ models: { "nosuchprovider:m": newModel } });
    const err = configError(() => loadConfig({ overlayFile: file, env: {} }));
    expect(err.issues.some((i) => i.path === "models.nosuchprovider:m" && /provider "nosuchprovider"/.test(i.message))).toBe(true);
  });

  it("unparseable YAML gives a ConfigError naming the file", () => {
    const file = join(dir, "broken.yaml");
    writeFileSync(file, "router: {maxFallbacks: [1, 2\n  nope: : :\n");
    const err = configError(() => loadConfig({ overlayFile: file, env: {} }));
    expect(err.issues[0]!.file).toBe(resolve(file));
    expect(err.issues[0]!.message).toMatch(/cannot parse/);
  });

  it("an overlay that is not a mapping is rejected", () => {
    const file = overlay(["a", "b"]);
    const err = configError(() => loadConfig({ overlayFile: file, env: {} }));
    expect(err.issues[0]!.message).toMatch(/mapping/);
  });

  it("an empty overlay changes nothing", () => {
    const file = join(dir, "empty.yaml");
    writeFileSync(file, "# nothing here\n");
    const { config } = loadConfig({ overlayFile: file, env: {} });
    expect(config).toEqual(shipped);
  });

  it("a missing overlay file gives a clear error", () => {
    const missing = join(dir, "does-not-exist.yaml");
    const err = configError(() => loadConfig({ overlayFile: missing, env: {} }));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]!.file).toBe(resolve(missing));
    expect(err.issues[0]!.message).toMatch(/not found/);
    expect(err.message).toContain(missing);
  });

  it("SWITCHBOARD_CONFIG in the env is used as the overlay", () => {
    const file = overlay({ router: { maxFallbacks: 0 } });
    const { config, files } = loadConfig({ env: { SWITCHBOARD_CONFIG: file } });
    expect(config.router.maxFallbacks).toBe(0);
    expect(files).toContain(resolve(file));
    expect(resolveOverlayPath({ env: { SWITCHBOARD_CONFIG: `  ${file}  ` } })).toBe(resolve(file));
  });

  it("an explicit overlayFile wins over SWITCHBOARD_CONFIG, and a blank SWITCHBOARD_CONFIG is ignored", () => {
    const a = overlay({ router: { maxFallbacks: 2 } });
    const b = overlay({ router: { maxFallbacks: 5 } });
    expect(loadConfig({ overlayFile: a, env: { SWITCHBOARD_CONFIG: b } }).config.router.maxFallbacks).toBe(2);
    expect(resolveOverlayPath({ env: { SWITCHBOARD_CONFIG: "   " } })).toBeUndefined();
    expect(loadConfig({ env: { SWITCHBOARD_CONFIG: "" } }).config).toEqual(shipped);
  });

  it("a missing SWITCHBOARD_CONFIG file is an error too", () => {
    const missing = join(dir, "nope", "config.yaml");
    const err = configError(() => loadConfig({ env: { SWITCHBOARD_CONFIG: missing } }));
    expect(err.issues[0]!.file).toBe(resolve(missing));
  });
});

describe("environment overrides", () => {
  it("OPENAI_BASE_URL overrides providers.openai.baseUrl", () => {
    const { config } = loadConfig({ env: { OPENAI_BASE_URL: "http://localhost:9999/v1" } });
    expect(config.providers.openai!.baseUrl).toBe("http://localhost:9999/v1");
    expect(loadConfig({ env: {} }).config.providers.openai!.baseUrl).not.toBe("http://localhost:9999/v1");
  });

  it("an env base URL wins over the overlay's", () => {
    const file = overlay({ providers: { openai: { baseUrl: "http://from-overlay.example/v1" } } });
    expect(loadConfig({ overlayFile: file, env: {} }).config.providers.openai!.baseUrl).toBe("http://from-overlay.example/v1");
    const { config } = loadConfig({ overlayFile: file, env: { OPENAI_BASE_URL: "http://from-env.example/v1" } });
    expect(config.providers.openai!.baseUrl).toBe("http://from-env.example/v1");
  });

  it("an invalid base URL from the env is a validation error", () => {
    const err = configError(() => loadConfig({ env: { OPENAI_BASE_URL: "not a url" } }));
    expect(err.issues.some((i) => i.path === "providers.openai.baseUrl")).toBe(true);
  });

  it("OLLAMA_BASE_URL enables the keyless ollama provider", () => {
    const off = loadConfig({ env: {} }).config;
    expect(off.providers.ollama!.apiKeyEnv).toBeNull();
    expect(off.providers.ollama!.enabled).not.toBe(true);
    expect(configuredProviders(off.providers, {}).has("ollama")).toBe(false);

    const env = { OLLAMA_BASE_URL: "http://192.168.1.5:11434/v1" };
    const on = loadConfig({ env }).config;
    expect(on.providers.ollama!.baseUrl).toBe("http://192.168.1.5:11434/v1");
    expect(on.providers.ollama!.enabled).toBe(true);
    expect(configuredProviders(on.providers, env).has("ollama")).toBe(true);
  });

  it("a placeholder base URL does not enable ollama", () => {
    const { config } = loadConfig({ env: { OLLAMA_BASE_URL: "${OLLAMA_BASE_URL}" } });
    expect(config.providers.ollama!.enabled).not.toBe(true);
  });

  it("baseUrlEnvName upper-cases and replaces non-alphanumerics", () => {
    expect(baseUrlEnvName("openai")).toBe("OPENAI_BASE_URL");
    expect(baseUrlEnvName("my-proxy")).toBe("MY_PROXY_BASE_URL");
  });
});

describe("configuredProviders", () => {
  const { providers } = loadConfig({ env: {} }).config;

  it("counts a provider whose key is set", () => {
    const set = configuredProviders(providers, { OPENAI_API_KEY: "sk-test", ANTHROPIC_API_KEY: "sk-ant" });
    expect(set.has("openai")).toBe(true);
    expect(set.has("anthropic")).toBe(true);
    expect(set.has("deepseek")).toBe(false);
  });

  it("an empty or whitespace key counts as unset", () => {
    expect(configuredProviders(providers, { OPENAI_API_KEY: "" }).has("openai")).toBe(false);
    expect(configuredProviders(providers, { OPENAI_API_KEY: "   " }).has("openai")).toBe(false);
  });

  it('an unexpanded "${OPENAI_API_KEY}" placeholder counts as unset', () => {
    expect(configuredProviders(providers, { OPENAI_API_KEY: "${OPENAI_API_KEY}" }).has("openai")).toBe(false);
    expect(envValue({ X: "${X}" }, "X")).toBeUndefined();
    expect(envValue({ X: " value " }, "X")).toBe("value");
    expect(envValue({ X: "v" }, null)).toBeUndefined();
  });

  it("no keys means no configured providers (keyless ones are off by default)", () => {
    expect(configuredProviders(providers, {}).size).toBe(0);
  });

  it("a keyless provider counts only when enabled", () => {
    const local = { local: { apiKeyEnv: null, enabled: true }, off: { apiKeyEnv: null, enabled: false }, unset: { apiKeyEnv: null } };
    expect([...configuredProviders(local, {})]).toEqual(["local"]);
  });
});
