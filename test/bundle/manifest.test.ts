import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { createServer } from "../../src/server.js";
import { Runtime } from "../../src/runtime.js";
import { PACKAGE_ROOT } from "../../src/config/load.js";

interface UserConfigEntry {
  type: string;
  title: string;
  description: string;
  required?: boolean;
  default?: unknown;
  sensitive?: boolean;
}

interface Manifest {
  manifest_version: string;
  name: string;
  version: string;
  server: { type: string; entry_point: string; mcp_config: { command: string; args?: string[]; env?: Record<string, string> } };
  tools?: { name: string; description?: string }[];
  tools_generated?: boolean;
  user_config?: Record<string, UserConfigEntry>;
  compatibility?: { platforms?: string[]; runtimes?: { node?: string } };
  privacy_policies?: string[];
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(join(PACKAGE_ROOT, file), "utf8")) as T;
const manifest = readJson<Manifest>("manifest.json");
const pkg = readJson<{ version: string; engines?: { node?: string } }>("package.json");
const providers = (YAML.parse(readFileSync(join(PACKAGE_ROOT, "config", "providers.yaml"), "utf8")) as {
  providers: Record<string, { apiKeyEnv: string | null }>;
}).providers;

/** Provider name -> its key env var, for every provider that needs a key. */
const keyedProviders = Object.fromEntries(
  Object.entries(providers).flatMap(([name, p]) => (p.apiKeyEnv ? [[name, p.apiKeyEnv] as const] : [])),
);
const providerKeyVars = new Set(Object.values(keyedProviders));

/** The one setting that is not a provider key: a path to the user's config overlay. */
const OVERLAY_KEY = "switchboard_config";
const OVERLAY_ENV = "SWITCHBOARD_CONFIG";

const env = manifest.server.mcp_config.env ?? {};
const userConfig = manifest.user_config ?? {};
const PLACEHOLDER = /^\$\{user_config\.([A-Za-z0-9_]+)\}$/;

/** user_config key a mcp_config env var is set from. */
function userConfigKeyOf(envVar: string): string {
  const m = PLACEHOLDER.exec(env[envVar] ?? "");
  if (!m) throw new Error(`mcp_config.env.${envVar} is ${JSON.stringify(env[envVar])}, not a \${user_config.KEY} placeholder`);
  return m[1]!;
}

describe("manifest.json", () => {
  it("is a 0.3 node bundle whose version matches package.json", () => {
    expect(manifest.manifest_version).toBe("0.3");
    expect(manifest.name).toBe("switchboard");
    expect(manifest.version).toBe(pkg.version);
    expect(manifest.server.type).toBe("node");
    expect(manifest.server.entry_point).toBe("dist/cli.js");
    expect(manifest.server.mcp_config.command).toBe("node");
    expect(manifest.server.mcp_config.args).toEqual(["--max-semi-space-size=4", "--no-regexp-tier-up", "${__dirname}/dist/cli.js", "serve"]);
    expect(manifest.compatibility?.platforms?.slice().sort()).toEqual(["darwin", "linux", "win32"]);
    expect(manifest.compatibility?.runtimes?.node).toBe(">=20.0.0");
  });

  describe("tools", () => {
    let runtime: Runtime;
    let client: Client;
    let served: string[];

    beforeAll(async () => {
      // No benchEcho: the bundle serves exactly what `switchboard serve` registers.
      runtime = new Runtime({ env: {} });
      const { server } = createServer({ runtime });
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await server.connect(serverSide);
      client = new Client({ name: "manifest-test", version: "1.0.0" });
      await client.connect(clientSide);
      served = (await client.listTools()).tools.map((t) => t.name);
    });

    afterAll(async () => {
      await client?.close();
      runtime?.close();
    });

    it("lists exactly the tools the server registers, once each", () => {
      const listed = (manifest.tools ?? []).map((t) => t.name);
      expect(new Set(listed).size).toBe(listed.length);
      expect(listed.slice().sort()).toEqual(served.slice().sort());
      expect(served).not.toContain("echo");
      expect(manifest.tools_generated).toBe(false);
    });

    it("describes every tool", () => {
      for (const t of manifest.tools ?? []) {
        expect(t.description?.length ?? 0, `description of ${t.name}`).toBeGreaterThan(20);
      }
    });
  });

  describe("user_config and env", () => {
    it("makes every provider key optional, secret and empty by default", () => {
      for (const [key, entry] of Object.entries(userConfig)) {
        if (key === OVERLAY_KEY) continue;
        expect(entry.type, key).toBe("string");
        expect(entry.sensitive, key).toBe(true);
        expect(entry.required, key).toBe(false);
        expect(entry.default, key).toBe("");
        expect(entry.title.length, key).toBeGreaterThan(0);
        expect(entry.description.length, key).toBeGreaterThan(20);
      }
    });

    it("keeps the config overlay optional, not secret and empty by default", () => {
      const entry = userConfig[OVERLAY_KEY];
      if (!entry) return; // optional setting
      expect(entry.type).toBe("file");
      expect(entry.sensitive).toBe(false);
      expect(entry.required).toBe(false);
      expect(entry.default).toBe("");
      expect(userConfigKeyOf(OVERLAY_ENV)).toBe(OVERLAY_KEY);
    });

    it("sets only provider key env vars (and the overlay path), each from an existing user_config key", () => {
      for (const envVar of Object.keys(env)) {
        const key = userConfigKeyOf(envVar);
        expect(userConfig, `mcp_config.env.${envVar}`).toHaveProperty(key);
        if (envVar === OVERLAY_ENV) continue;
        expect(providerKeyVars.has(envVar), `${envVar} is not an apiKeyEnv in config/providers.yaml`).toBe(true);
      }
    });

    it("maps every user_config key to exactly one env var", () => {
      const used = Object.keys(env).map(userConfigKeyOf);
      expect(new Set(used).size).toBe(used.length);
      expect(used.slice().sort()).toEqual(Object.keys(userConfig).sort());
    });

    it("has a user_config entry for every provider that needs a key", () => {
      expect(Object.keys(keyedProviders).length).toBeGreaterThan(0);
      for (const [provider, envVar] of Object.entries(keyedProviders)) {
        expect(env, `provider ${provider} (${envVar}) has no mcp_config.env entry`).toHaveProperty(envVar);
        expect(userConfig, `provider ${provider}`).toHaveProperty(userConfigKeyOf(envVar));
      }
    });

    it("leaves the server with no configured provider when every field keeps its empty default", () => {
      // What a host passes when the user fills in nothing: each placeholder replaced by its default.
      const hostEnv = Object.fromEntries(Object.keys(env).map((v) => [v, String(userConfig[userConfigKeyOf(v)]?.default ?? "")]));
      const rt = new Runtime({ env: hostEnv });
      try {
        expect([...rt.configuredProviders()]).toEqual([]);
      } finally {
        rt.close();
      }
    });

    it("treats placeholders a host left unexpanded as unset", () => {
      const rt = new Runtime({ env: Object.fromEntries(Object.keys(env).filter((v) => v !== OVERLAY_ENV).map((v) => [v, env[v]!])) });
      try {
        expect([...rt.configuredProviders()]).toEqual([]);
      } finally {
        rt.close();
      }
    });
  });

  it("links a privacy policy for each provider it can call", () => {
    const policies = manifest.privacy_policies ?? [];
    for (const url of policies) expect(url).toMatch(/^https:\/\//);
    expect(new Set(policies).size).toBe(policies.length);
    expect(policies.length).toBe(Object.keys(keyedProviders).length);
  });
});
