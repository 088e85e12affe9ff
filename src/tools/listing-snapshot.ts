import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../config/load.js";

/**
 * Every tool's listed input and output JSON Schema for the shipped config, written by the build
 * (scripts/pretrain.mjs): converting the zod schemas is most of registering the tools, some 15 ms
 * of each start-up. A config whose version differs (an overlay, a changed mode list) converts live.
 */
export const LISTING_SNAPSHOT = join(PACKAGE_ROOT, "dist", "tool-listing.json");

/** A tool's listed schemas (JSON Schema objects, as tools/list carries them). */
export interface ListedSchemas {
  input: Record<string, unknown>;
  output: Record<string, unknown>;
}

interface ListingSnapshot {
  format: 1;
  configVersion: string;
  tools: Record<string, ListedSchemas>;
}

/**
 * The snapshot is taken from the compiled definitions beside it, so only code running from that
 * build may trust it; the TypeScript sources (tests, a watch mode) may differ from the last build.
 */
const FROM_BUILD = import.meta.url.endsWith(".js");

let loaded: ListingSnapshot | null | undefined;

function snapshot(file: string): ListingSnapshot | null {
  try {
    if (!existsSync(file)) return null;
    const s = JSON.parse(readFileSync(file, "utf8")) as ListingSnapshot;
    return s.format === 1 && typeof s.configVersion === "string" && typeof s.tools === "object" ? s : null;
  } catch {
    // A damaged snapshot is only a lost shortcut.
    return null;
  }
}

/** A tool's listed schemas from the build's snapshot, or undefined when they must be converted live. */
export function snapshotListing(tool: string, configVersion: string, opts: { file?: string; trust?: boolean } = {}): ListedSchemas | undefined {
  if (!(opts.trust ?? FROM_BUILD)) return undefined;
  const s = opts.file ? snapshot(opts.file) : (loaded ??= snapshot(LISTING_SNAPSHOT));
  if (!s || s.configVersion !== configVersion || !Object.hasOwn(s.tools, tool)) return undefined;
  return s.tools[tool];
}

/** Writes the snapshot (the build does, from dist/). */
export function writeListingSnapshot(configVersion: string, tools: Record<string, ListedSchemas>, file = LISTING_SNAPSHOT): void {
  const s: ListingSnapshot = { format: 1, configVersion, tools };
  writeFileSync(file, JSON.stringify(s));
}
