import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { SwitchboardConfig } from "../config/schema.js";
import { PACKAGE_ROOT } from "../config/load.js";
import { TaskClassifier, type SerializedClassifier } from "./classifier.js";
import { trainingExamples } from "./router.js";

/** Written by the build next to the compiled code, so it always matches the feature code. */
export const CLASSIFIER_SNAPSHOT = join(PACKAGE_ROOT, "dist", "classifier.json");

export function examplesHash(cfg: SwitchboardConfig): string {
  const h = createHash("sha256");
  for (const e of trainingExamples(cfg)) h.update(e.label + "\u0000" + e.text + "\u0001");
  return h.digest("hex").slice(0, 16);
}

/** The build's snapshot when the examples match it; otherwise a fresh training run. */
export function loadOrTrainClassifier(cfg: SwitchboardConfig, snapshot = CLASSIFIER_SNAPSHOT): { classifier: TaskClassifier; source: "snapshot" | "trained" } {
  const hash = examplesHash(cfg);
  if (existsSync(snapshot)) {
    try {
      const s = JSON.parse(readFileSync(snapshot, "utf8")) as SerializedClassifier;
      if (s.format === 4 && s.examplesHash === hash) return { classifier: TaskClassifier.fromJSON(s), source: "snapshot" };
    } catch {
      // A damaged snapshot is only a lost shortcut: train instead.
    }
  }
  return { classifier: TaskClassifier.train(trainingExamples(cfg)), source: "trained" };
}

export function writeClassifierSnapshot(cfg: SwitchboardConfig, file = CLASSIFIER_SNAPSHOT): TaskClassifier {
  const classifier = TaskClassifier.train(trainingExamples(cfg));
  writeFileSync(file, JSON.stringify(classifier.toJSON(examplesHash(cfg))));
  return classifier;
}
