import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { baseUrlEnvName } from "../../src/config/env.js";
import { ConfigError, loadConfig, SHIPPED_CONFIG_DIR, writeConfigSnapshot } from "../../src/config/load.js";

const root = mkdtempSync(join(tmpdir(), "switchboard-snapshot-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A copy of the shipped folder with its own snapshot. */
function folder(): { dir: string; snapshot: string } {
  const dir = join(root, `config-${n++}`);
  cpSync(SHIPPED_CONFIG_DIR, dir, { recursive: true });
  const snapshot = join(root, `snapshot-${n++}.json`);
  writeConfigSnapshot(dir, snapshot);
  return { dir, snapshot };
}

const NONE = join(root, "no-snapshot.json");

/** Rewrites the snapshot's stored config so a load can tell whether it came from there. */
function mark(snapshot: string, displayName: string): void {
  const s = JSON.parse(readFileSync(snapshot, "utf8"));
  const v = JSON.parse(s.validated);
  const id = Object.keys(v.config.models)[0]!;
  v.config.models[id].displayName = displayName;
  s.validated = JSON.stringify(v);
  writeFileSync(snapshot, JSON.stringify(s));
}

describe("config snapshot", () => {
  it("gives the very config, version and file list that parsing the folder gives", () => {
    const { dir, snapshot } = folder();
    const fromSnapshot = loadConfig({ configDir: dir, snapshot, env: {} });
    const parsed = loadConfig({ configDir: dir, snapshot: NONE, env: {} });
    expect(fromSnapshot.config).toEqual(parsed.config);
    expect(fromSnapshot.version).toBe(parsed.version);
    expect(fromSnapshot.files).toEqual(parsed.files);
    // The examples still reach the tasks (the classifier's snapshot is checked against them).
    expect(Object.values(fromSnapshot.config.tasks).every((t) => t.examples.length > 0)).toBe(true);
  });

  it("is used while the files are unchanged, and ignored once any of them changes", () => {
    const { dir, snapshot } = folder();
    mark(snapshot, "from the snapshot");
    const first = Object.keys(loadConfig({ configDir: dir, snapshot: NONE, env: {} }).config.models)[0]!;
    expect(loadConfig({ configDir: dir, snapshot, env: {} }).config.models[first]!.displayName).toBe("from the snapshot");

    appendFileSync(join(dir, "router.yaml"), "\n# an edit\n");
    expect(loadConfig({ configDir: dir, snapshot, env: {} }).config.models[first]!.displayName).not.toBe("from the snapshot");
  });

  it("goes stale when an example file is added, even though serving never parses them", () => {
    const { dir, snapshot } = folder();
    mark(snapshot, "from the snapshot");
    writeFileSync(join(dir, "examples", "translation-extra.yaml"), YAML.stringify({ task: "translation", examples: ["Say thank you in Finnish."] }));
    const { config } = loadConfig({ configDir: dir, snapshot, env: {} });
    expect(config.tasks.translation.examples).toContain("Say thank you in Finnish.");
    expect(Object.values(config.models).some((m) => m.displayName === "from the snapshot")).toBe(false);
  });

  it("still parses and validates an overlay laid over it", () => {
    const { dir, snapshot } = folder();
    mark(snapshot, "from the snapshot");
    const good = join(root, `overlay-${n++}.yaml`);
    writeFileSync(good, YAML.stringify({ router: { classifier: { minConfidence: 0.42 } } }));
    const withOverlay = loadConfig({ configDir: dir, snapshot, overlayFile: good, env: {} });
    expect(withOverlay.files.at(-1)).toBe(good);
    expect(withOverlay.version).not.toBe(loadConfig({ configDir: dir, snapshot, env: {} }).version);

    const bad = join(root, `overlay-${n++}.yaml`);
    writeFileSync(bad, YAML.stringify({ router: { classifier: { minConfidence: "high" } } }));
    expect(() => loadConfig({ configDir: dir, snapshot, overlayFile: bad, env: {} })).toThrow(ConfigError);
  });

  it("applies env overrides (a provider's base URL) rather than the build's validated copy", () => {
    const { dir, snapshot } = folder();
    const plain = loadConfig({ configDir: dir, snapshot, env: {} });
    const name = Object.keys(plain.config.providers)[0]!;
    const env = { [baseUrlEnvName(name)]: "http://127.0.0.1:9/v1" };
    const over = loadConfig({ configDir: dir, snapshot, env });
    const parsed = loadConfig({ configDir: dir, snapshot: NONE, env });
    expect(over.config).toEqual(parsed.config);
    expect(over.version).toBe(parsed.version);
    expect(over.config.providers[name]!.baseUrl).toBe("http://127.0.0.1:9/v1");
  });

  it("a hot reload of a half-written shipped file is still refused", () => {
    const { dir, snapshot } = folder();
    writeFileSync(join(dir, "router.yaml"), "");
    expect(() => loadConfig({ configDir: dir, snapshot, env: {} }, { strict: true })).toThrow(/empty/);
  });

  it("a damaged snapshot is only a lost shortcut", () => {
    const { dir, snapshot } = folder();
    writeFileSync(snapshot, "{ not json");
    expect(loadConfig({ configDir: dir, snapshot, env: {} }).config).toEqual(loadConfig({ configDir: dir, snapshot: NONE, env: {} }).config);
  });
});
