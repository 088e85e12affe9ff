import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { SwitchboardConfig } from "../config/schema.js";
import { PACKAGE_ROOT } from "../config/load.js";
import { TaskClassifier, type SerializedClassifier } from "./classifier.js";
import { trainingExamples } from "./router.js";

/** Written by the build next to the compiled code, so it always matches the feature code. */
export const CLASSIFIER_SNAPSHOT = join(PACKAGE_ROOT, "dist", "classifier.json");

/**
 * The snapshot as the build writes it: format 4's fields with the two big arrays packed as base64
 * (features as uint32, weights as int32 in units of 1e-5, the precision format 4 rounds them to).
 * A few MB of decimal numbers took longer to parse than the rest of start-up; this reads in
 * milliseconds and gives back the very same doubles.
 */
interface PackedClassifier extends Omit<SerializedClassifier, "format" | "features" | "weights"> {
  format: "4-packed";
  features: string;
  weights: string;
}

const WEIGHT_SCALE = 1e5;

export function examplesHash(cfg: SwitchboardConfig): string {
  const h = createHash("sha256");
  for (const e of trainingExamples(cfg)) h.update(e.label + "\u0000" + e.text + "\u0001");
  return h.digest("hex").slice(0, 16);
}

/** Format 4 packed, or unchanged when a weight would not survive packing. */
export function packClassifier(s: SerializedClassifier): PackedClassifier | SerializedClassifier {
  const q = new Int32Array(s.weights.length);
  for (let i = 0; i < s.weights.length; i++) {
    const n = Math.round(s.weights[i]! * WEIGHT_SCALE);
    if (n / WEIGHT_SCALE !== s.weights[i] || Math.abs(n) >= 2 ** 31) return s;
    q[i] = n;
  }
  const { format: _f, features, weights: _w, ...rest } = s;
  return {
    ...rest,
    format: "4-packed",
    features: Buffer.from(Uint32Array.from(features).buffer).toString("base64"),
    weights: Buffer.from(q.buffer).toString("base64"),
  };
}

/** Base64 to an aligned copy of its bytes. */
function bytesOf(b64: string): ArrayBuffer {
  const b = Buffer.from(b64, "base64");
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

export function unpackClassifier(p: PackedClassifier | SerializedClassifier): SerializedClassifier | undefined {
  if (p.format === 4) return p;
  if (p.format !== "4-packed") return undefined;
  const q = new Int32Array(bytesOf(p.weights));
  const weights = new Float64Array(q.length);
  for (let i = 0; i < q.length; i++) weights[i] = q[i]! / WEIGHT_SCALE;
  // fromJSON copies the weights into a Float64Array; any array-like of numbers will do.
  return { ...p, format: 4, features: Array.from(new Uint32Array(bytesOf(p.features))), weights: weights as unknown as number[] };
}

/** The build's snapshot when the examples match it; otherwise a fresh training run. */
export function loadOrTrainClassifier(cfg: SwitchboardConfig, snapshot = CLASSIFIER_SNAPSHOT): { classifier: TaskClassifier; source: "snapshot" | "trained" } {
  const hash = examplesHash(cfg);
  if (existsSync(snapshot)) {
    try {
      const s = unpackClassifier(JSON.parse(readFileSync(snapshot, "utf8")) as PackedClassifier | SerializedClassifier);
      if (s?.format === 4 && s.examplesHash === hash) return { classifier: TaskClassifier.fromJSON(s), source: "snapshot" };
    } catch {
      // A damaged snapshot is only a lost shortcut: train instead.
    }
  }
  return { classifier: TaskClassifier.train(trainingExamples(cfg)), source: "trained" };
}

export function writeClassifierSnapshot(cfg: SwitchboardConfig, file = CLASSIFIER_SNAPSHOT): TaskClassifier {
  const classifier = TaskClassifier.train(trainingExamples(cfg));
  writeFileSync(file, JSON.stringify(packClassifier(classifier.toJSON(examplesHash(cfg)))));
  return classifier;
}
