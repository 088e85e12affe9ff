import { loadConfig } from "../config/load.js";
import { out } from "./output.js";

/** Loads the shipped config plus the given overlay; a ConfigError propagates to the CLI's handler. */
export function runConfigValidate(file?: string): number {
  const { config, files, version } = loadConfig({ overlayFile: file });
  const n = (o: object) => Object.keys(o).length;
  out(
    `config ok (version ${version}): ${n(config.providers)} providers, ${n(config.models)} models, ${n(config.services)} services, ` +
      `${n(config.modes)} modes, ${n(config.tasks)} task types, ${n(config.tenants)} tenants, ${n(config.experiments)} experiments\n` +
      `read ${files.length} files${file ? `, overlay ${file}` : ""}`,
  );
  return 0;
}
