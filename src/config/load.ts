import { readFileSync, readdirSync, existsSync } from "node:fs";
import { dirname, join, resolve, extname, basename } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { configSchema, TASK_TYPES, type SwitchboardConfig } from "./schema.js";
import { envValue, overlayEnv } from "./env.js";

/** Both src/config/load.ts and dist/config/load.js sit two levels below the package root. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SHIPPED_CONFIG_DIR = join(PACKAGE_ROOT, "config");

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
    return extname(file) === ".json" ? JSON.parse(text) : YAML.parse(text);
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

/**
 * Loads the shipped config folder, the user overlay, then env overrides, and validates the result.
 * With `strict` (a hot reload), an empty or non-mapping file is an error rather than "no settings".
 */
export function loadConfig(opts: LoadOptions = {}, { strict = false }: { strict?: boolean } = {}): LoadedConfig {
  const dir = opts.configDir ?? SHIPPED_CONFIG_DIR;
  const env = opts.env ?? process.env;
  const files: string[] = [];
  // Which file each top-level section came from, so errors can name it.
  const sectionFile = new Map<string, string>();
  let merged: Json = {};

  const yamlFiles = readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort();
  for (const name of yamlFiles) {
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
  const exampleDir = join(dir, "examples");
  if (existsSync(exampleDir)) {
    for (const name of readdirSync(exampleDir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      const file = join(exampleDir, name);
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
  }

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
  }

  overlayEnv(merged, env);

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
  return { config: parsed.data, files, version };
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
