import { readFileSync, readdirSync, existsSync, writeFileSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join, resolve, extname, basename } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { configSchema, TASK_TYPES, type SwitchboardConfig } from "./schema.js";
import { envValue, overlayEnv } from "./env.js";

/** Both src/config/load.ts and dist/config/load.js sit two levels below the package root. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SHIPPED_CONFIG_DIR = join(PACKAGE_ROOT, "config");
/**
 * The shipped config folder already parsed, written by the build (scripts/pretrain.mjs): start-up
 * reads it instead of parsing some forty YAML files, as long as those files still hash the same.
 */
export const CONFIG_SNAPSHOT = join(PACKAGE_ROOT, "dist", "config-snapshot.json");

// YAML is parsed only for a user's overlay or a shipped folder that changed since the build.
const require = createRequire(import.meta.url);
let yamlParse: ((text: string) => unknown) | undefined;
const parseYaml = (text: string): unknown => (yamlParse ??= (require("yaml") as typeof import("yaml")).parse)(text);

export interface ConfigIssue {
  file: string;
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(
      "invalid configuration:\n" +
        issues.map((i) => `  ${i.file}${i.path ? ` at ${i.path}` : ""}: ${i.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export interface LoadOptions {
  /** Folder of the shipped defaults; tests point it elsewhere. */
  configDir?: string;
  /** A user file (YAML or JSON) laid over the defaults. Falls back to env SWITCHBOARD_CONFIG. */
  overlayFile?: string;
  env?: NodeJS.ProcessEnv;
  /** The build's parse of the shipped folder; tests point it elsewhere. */
  snapshot?: string;
}

export interface LoadedConfig {
  config: SwitchboardConfig;
  /** Every file read, for the watcher. */
  files: string[];
  /** A short content hash, so decisions can say which config made them. */
  version: string;
}

type Json = Record<string, unknown>;

function parseFile(file: string): unknown {
  const text = readFileSync(file, "utf8");
  try {
    return extname(file) === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError([{ file, path: "", message: `cannot parse: ${(err as Error).message.split("\n")[0]}` }]);
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Objects merge key by key, arrays and scalars replace, and `null` deletes a key. */
export function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isObject(v) && isObject(out[k])) out[k] = deepMerge(out[k] as Json, v);
    else out[k] = v;
  }
  return out;
}

export function resolveOverlayPath(opts: LoadOptions): string | undefined {
  const env = opts.env ?? process.env;
  const p = opts.overlayFile ?? envValue(env, "SWITCHBOARD_CONFIG");
  return p ? resolve(p) : undefined;
}

/**
 * A file that is empty, only whitespace or comments, or YAML that is not a mapping: on a reload this
 * is a half-written save (an editor truncating before it writes), never a config to apply.
 */
function assertNotEmpty(file: string, doc: unknown): void {
  if (doc == null) {
    throw new ConfigError([{ file, path: "", message: "the file is empty (or only comments); a truncated or half-written save is not applied. Write the whole file again; to remove a setting, delete its key or set it to null" }]);
  }
  if (!isObject(doc)) throw new ConfigError([{ file, path: "", message: "must be a mapping of sections" }]);
}

/** The shipped folder merged: its sections, the files read, and which file each section came from. */
interface Shipped {
  merged: Json;
  files: string[];
  sectionFile: Map<string, string>;
  /** From a snapshot: the folder alone, already validated, and its version; used when nothing is laid over it. */
  validated?: () => { config: SwitchboardConfig; version: string } | undefined;
}

/** Config files of a folder, relative to it and in load order: the sections, then the examples. */
function configFileNames(dir: string): { sections: string[]; examples: string[] } {
  const sections = readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort();
  const exampleDir = join(dir, "examples");
  const examples = existsSync(exampleDir)
    ? readdirSync(exampleDir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => `examples/${f}`)
    : [];
  return { sections, examples };
}

function parseShipped(dir: string, strict: boolean): Shipped {
  const files: string[] = [];
  // Which file each top-level section came from, so errors can name it.
  const sectionFile = new Map<string, string>();
  let merged: Json = {};
  const names = configFileNames(dir);

  for (const name of names.sections) {
    const file = join(dir, name);
    const doc = parseFile(file);
    if (strict) assertNotEmpty(file, doc);
    if (doc == null) continue;
    if (!isObject(doc)) throw new ConfigError([{ file, path: "", message: "must be a mapping of sections" }]);
    for (const key of Object.keys(doc)) sectionFile.set(key, file);
    merged = deepMerge(merged, doc);
    files.push(file);
  }

  const tasks = (merged.tasks ?? {}) as Json;
  for (const name of names.examples) {
    const file = join(dir, name);
    const doc = parseFile(file) as Json | null;
    const task = String(doc?.task ?? basename(name, extname(name)));
    if (!(TASK_TYPES as readonly string[]).includes(task)) {
      throw new ConfigError([{ file, path: "task", message: `unknown task type "${task}"; valid: ${TASK_TYPES.join(", ")}` }]);
    }
    if (!Array.isArray(doc?.examples)) {
      throw new ConfigError([{ file, path: "examples", message: "must be a list of example prompts" }]);
    }
    if (isObject(tasks[task])) {
      const t = tasks[task] as Json;
      t.examples = [...((t.examples as string[] | undefined) ?? []), ...(doc.examples as string[])];
    }
    files.push(file);
  }
  return { merged, files, sectionFile };
}

interface ConfigSnapshot {
  format: 1;
  /** sha256 over every config file's name and bytes, in load order. */
  hash: string;
  /** Files read, relative to the folder. */
  files: string[];
  sections: Record<string, string>;
  /** The merged folder, as JSON text (parsed only when an overlay or env override is laid over it). */
  merged: string;
  /** The folder validated on its own and its version, as JSON text; absent when the schema's output is not plain JSON. */
  validated?: string;
}

/** Hashes the folder's config files as they are now (reading is cheap; parsing YAML is not). */
function folderHash(dir: string): { names: string[]; hash: string } {
  const { sections, examples } = configFileNames(dir);
  const names = [...sections, ...examples];
  const h = createHash("sha256");
  for (const name of names) h.update(name).update("\0").update(readFileSync(join(dir, name))).update("\0");
  return { names, hash: h.digest("hex") };
}

/** The build's parse of the shipped folder, when the files are byte for byte the ones it read. */
function shippedFromSnapshot(dir: string, snapshot: string): Shipped | undefined {
  // Any folder whose files hash the same parses the same: the hash alone decides.
  if (!existsSync(snapshot)) return undefined;
  try {
    const s = JSON.parse(readFileSync(snapshot, "utf8")) as ConfigSnapshot;
    if (s.format !== 1) return undefined;
    const now = folderHash(dir);
    if (now.hash !== s.hash) return undefined;
    const validated = s.validated;
    return {
      merged: JSON.parse(s.merged) as Json,
      files: s.files.map((f) => join(dir, f)),
      sectionFile: new Map(Object.entries(s.sections).map(([k, f]) => [k, join(dir, f)])),
      validated: () => (validated ? (JSON.parse(validated) as { config: SwitchboardConfig; version: string }) : undefined),
    };
  } catch {
    // A damaged snapshot is only a lost shortcut: parse instead.
    return undefined;
  }
}

/**
 * Writes the snapshot of the shipped folder (the build does, after tsc). It is left out, and an
 * old one removed, when the folder would not load strictly or does not survive a JSON round trip.
 */
export function writeConfigSnapshot(dir = SHIPPED_CONFIG_DIR, file = CONFIG_SNAPSHOT): { files: number; version: string } {
  rmSync(file, { force: true });
  const { hash } = folderHash(dir);
  const shipped = parseShipped(dir, true);
  const merged = shipped.merged;
  if (!isDeepStrictEqual(merged, JSON.parse(JSON.stringify(merged)))) {
    throw new Error("the shipped config holds values JSON cannot carry; no snapshot written");
  }
  const rel = (f: string) => f.slice(dir.length + 1);
  // The folder alone, as a start-up without overlay or env overrides sees it: the schema's output
  // is stored when JSON carries it faithfully (no Maps, dates, undefined members).
  const alone = validate(JSON.parse(JSON.stringify(merged)) as Json, shipped.sectionFile, dir, undefined);
  const plain = isDeepStrictEqual(alone.config, JSON.parse(JSON.stringify(alone.config)));
  const snap: ConfigSnapshot = {
    format: 1,
    hash,
    files: shipped.files.map(rel),
    sections: Object.fromEntries([...shipped.sectionFile].map(([k, f]) => [k, rel(f)])),
    merged: JSON.stringify(merged),
    ...(plain ? { validated: JSON.stringify(alone) } : {}),
  };
  writeFileSync(file, JSON.stringify(snap));
  return { files: shipped.files.length, version: hash.slice(0, 8) };
}

/**
 * Loads the shipped config folder, the user overlay, then env overrides, and validates the result.
 * With `strict` (a hot reload), an empty or non-mapping file is an error rather than "no settings".
 * The shipped folder comes from the build's snapshot while its files are unchanged.
 */
export function loadConfig(opts: LoadOptions = {}, { strict = false }: { strict?: boolean } = {}): LoadedConfig {
  const dir = opts.configDir ?? SHIPPED_CONFIG_DIR;
  const env = opts.env ?? process.env;
  const shipped = shippedFromSnapshot(dir, opts.snapshot ?? CONFIG_SNAPSHOT) ?? parseShipped(dir, strict);
  const { files, sectionFile } = shipped;
  let merged = shipped.merged;
  let laidOver = false;

  const overlay = resolveOverlayPath({ ...opts, env });
  if (overlay) {
    if (!existsSync(overlay)) {
      throw new ConfigError([{ file: overlay, path: "", message: "file not found (set by --config or SWITCHBOARD_CONFIG)" }]);
    }
    const doc = parseFile(overlay);
    if (strict) assertNotEmpty(overlay, doc);
    if (doc != null) {
      if (!isObject(doc)) throw new ConfigError([{ file: overlay, path: "", message: "must be a mapping of sections" }]);
      for (const key of Object.keys(doc)) sectionFile.set(key, overlay);
      merged = deepMerge(merged, doc);
    }
    files.push(overlay);
    laidOver = true;
  }

  const providersBefore = JSON.stringify(merged.providers);
  overlayEnv(merged, env);
  laidOver ||= JSON.stringify(merged.providers) !== providersBefore;

  // Nothing laid over an unchanged shipped folder: the build validated exactly this.
  const fromSnapshot = laidOver ? undefined : shipped.validated?.();
  if (fromSnapshot) return { ...fromSnapshot, files };
  return { ...validate(merged, sectionFile, dir, overlay), files };
}

function validate(merged: Json, sectionFile: Map<string, string>, dir: string, overlay: string | undefined): { config: SwitchboardConfig; version: string } {
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((iss) => {
        const top = String(iss.path[0] ?? "");
        return {
          file: sectionFile.get(top) ?? (overlay ?? dir),
          path: iss.path.map(String).join("."),
          message: iss.message,
        };
      }),
    );
  }
  const version = hash(JSON.stringify(merged));
  return { config: parsed.data, version };
}

function hash(text: string): string {
  // FNV-1a: a short, stable fingerprint; not a security hash.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}
