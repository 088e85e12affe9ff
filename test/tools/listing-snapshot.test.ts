import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Runtime } from "../../src/runtime.js";
import { inputJson, listedOutputJson } from "../../src/tools/define-tool.js";
import { TOOLS } from "../../src/tools/index.js";
import { LISTING_SNAPSHOT, snapshotListing, writeListingSnapshot } from "../../src/tools/listing-snapshot.js";

const dir = mkdtempSync(join(tmpdir(), "switchboard-listing-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const runtime = new Runtime({ env: {} });
afterAll(() => runtime.close());

const live = () => Object.fromEntries(TOOLS.map((def) => [def.name, { input: inputJson(def, runtime.config), output: listedOutputJson(def) }]));

describe("tool listing snapshot", () => {
  it("the build's snapshot is what converting the sources' schemas for the shipped config gives", () => {
    // `npm test` builds first; the snapshot is part of every build (scripts/pretrain.mjs).
    expect(existsSync(LISTING_SNAPSHOT), `${LISTING_SNAPSHOT} is missing: run npm run build`).toBe(true);
    const shipped = JSON.parse(readFileSync(LISTING_SNAPSHOT, "utf8"));
    expect(shipped.configVersion).toBe(runtime.configVersion);
    expect(shipped.tools).toEqual(live());
  });

  it("is used only for the config version it was taken from, and only when trusted", () => {
    const file = join(dir, "listing.json");
    const marked = { input: { type: "object", marked: true }, output: { type: "object" } };
    writeListingSnapshot("v1", { route_task: marked }, file);
    expect(snapshotListing("route_task", "v1", { file, trust: true })).toEqual(marked);
    expect(snapshotListing("route_task", "v2", { file, trust: true })).toBeUndefined();
    expect(snapshotListing("run_llm", "v1", { file, trust: true })).toBeUndefined();
    // "constructor" is no tool: own keys only.
    expect(snapshotListing("constructor", "v1", { file, trust: true })).toBeUndefined();
    // Sources (these tests, a watch mode) may differ from the last build: never trusted by default.
    expect(snapshotListing("route_task", "v1", { file })).toBeUndefined();
  });

  it("a damaged or foreign file is a lost shortcut, not an error", () => {
    const file = join(dir, "damaged.json");
    writeFileSync(file, "{ not json");
    expect(snapshotListing("route_task", "v1", { file, trust: true })).toBeUndefined();
    writeFileSync(file, JSON.stringify({ format: 2, configVersion: "v1", tools: {} }));
    expect(snapshotListing("route_task", "v1", { file, trust: true })).toBeUndefined();
    expect(snapshotListing("route_task", "v1", { file: join(dir, "absent.json"), trust: true })).toBeUndefined();
  });
});
