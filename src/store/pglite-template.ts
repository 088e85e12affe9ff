import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { PACKAGE_ROOT } from "../config/load.js";

/**
 * An initialized PGlite data folder, gzipped, made by the build (scripts/pretrain.mjs) with the
 * store's own settings: a new embedded store (in memory, or a new data folder) is unpacked from it
 * instead of running initdb, about half the time and half the memory; without it, initdb runs.
 */
export const PGLITE_TEMPLATE = join(PACKAGE_ROOT, "dist", "pglite-template.tar.gz");

/** Runs initdb once with `options` and writes the folder it made to `file`. */
export async function writePgliteTemplate(options: Record<string, unknown>, file = PGLITE_TEMPLATE): Promise<{ bytes: number; ms: number }> {
  const t0 = performance.now();
  // As the store runs it (db.ts): the baseline compiler only, seconds sooner for a one-off.
  setFlagsFromString("--liftoff-only");
  const { PGlite } = await import("@electric-sql/pglite");
  const pg = await PGlite.create(options);
  const dump = Buffer.from(await (await pg.dumpDataDir("gzip")).arrayBuffer());
  await pg.close();
  writeFileSync(file, dump);
  return { bytes: dump.length, ms: performance.now() - t0 };
}
