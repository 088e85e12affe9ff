// Build step: train the task classifier on the shipped examples and store it in dist/, so servers
// and CLI runs start without training; write the o200k token table (dist/o200k.bin), so they count
// tokens without importing gpt-tokenizer; and snapshot the shipped config (dist/config-snapshot.json),
// so they start without parsing its YAML; and write every tool's listed JSON Schemas for that config
// (dist/tool-listing.json), so they register their tools without converting zod schemas; and an
// initialized PGlite data folder (dist/pglite-template.tar.gz), so a new embedded store skips initdb.
import { writeFileSync } from "node:fs";
import { loadConfig, writeConfigSnapshot, CONFIG_SNAPSHOT } from "../dist/config/load.js";
import { writeClassifierSnapshot, CLASSIFIER_SNAPSHOT } from "../dist/routing/classifier-cache.js";
import { TOOLS } from "../dist/tools/index.js";
import { inputJson, listedOutputJson } from "../dist/tools/define-tool.js";
import { writeListingSnapshot, LISTING_SNAPSHOT } from "../dist/tools/listing-snapshot.js";
import { buildTokenTable, tableCounter, tokenizerVersion, TOKEN_TABLE } from "../dist/routing/tokens.js";

const { config, version } = loadConfig({ env: {} });
const clf = writeClassifierSnapshot(config);
const s = clf.stats;
process.stderr.write(
  `classifier: ${s.examples} examples, ${s.features} features, cross-validated accuracy ${s.crossValidatedAccuracy === null ? "n/a" : (s.crossValidatedAccuracy * 100).toFixed(1) + "%"}, ` +
    `temperature ${s.temperature}, trained in ${s.trainMs} ms -> ${CLASSIFIER_SNAPSHOT}\n`,
);

const snap = writeConfigSnapshot();
process.stderr.write(`config snapshot: ${snap.files} files, version ${snap.version} -> ${CONFIG_SNAPSHOT}\n`);

writeListingSnapshot(version, Object.fromEntries(TOOLS.map((def) => [def.name, { input: inputJson(def, config), output: listedOutputJson(def) }])));
process.stderr.write(`tool listing: ${TOOLS.length} tools for config ${version} -> ${LISTING_SNAPSHOT}\n`);

{
  const t0 = performance.now();
  const { default: ranks } = await import("gpt-tokenizer/bpeRanks/o200k_base");
  const { O200K_TOKEN_SPLIT_REGEX } = await import("gpt-tokenizer/encodingParams/constants");
  const { GptEncoding } = await import("gpt-tokenizer/GptEncoding");
  const reference = GptEncoding.getEncodingApi("o200k_base", () => ranks);
  const core = reference.bytePairEncodingCoreProcessor;
  const source = tokenizerVersion();
  const table = buildTokenTable(ranks, { source, pattern: O200K_TOKEN_SPLIT_REGEX.source }, (bytes, rank) => core.getBpeRankFromBytes(bytes) === rank);
  // The table must count as gpt-tokenizer does: a quick check on varied text before it ships.
  const counter = tableCounter(table, source);
  const sample = Object.values(config.tasks).flatMap((t) => t.examples).slice(0, 400);
  sample.push("naïve café — 東京で会いましょう 🤖 <|endoftext|> x\u0000y", "    indented\n\tcode() {}\r\n", "1234567 $%^&*()_+", "ÄÖÜäöüß ".repeat(50));
  for (const text of sample) {
    const want = reference.countTokens(text, { disallowedSpecial: new Set() });
    const got = counter?.count(text);
    if (got !== want) throw new Error(`token table disagrees with ${source} (${got} vs ${want}) on: ${JSON.stringify(text.slice(0, 80))}`);
  }
  writeFileSync(TOKEN_TABLE, table);
  process.stderr.write(`token table: ${ranks.length} o200k entries from ${source}, ${(table.length / 1048576).toFixed(1)} MB, checked on ${sample.length} texts in ${(performance.now() - t0).toFixed(0)} ms -> ${TOKEN_TABLE}\n`);
}

{
  // A new embedded store unpacks this instead of running initdb (src/store/pglite-template.ts).
  const { PGLITE_OPTIONS } = await import("../dist/store/db.js");
  const { writePgliteTemplate, PGLITE_TEMPLATE } = await import("../dist/store/pglite-template.js");
  const t = await writePgliteTemplate(PGLITE_OPTIONS);
  process.stderr.write(`store template: an initialized PGlite data folder, ${(t.bytes / 1048576).toFixed(1)} MB gzipped, in ${t.ms.toFixed(0)} ms -> ${PGLITE_TEMPLATE}\n`);
}
