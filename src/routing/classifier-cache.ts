import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { endianness } from "node:os";
import { join } from "node:path";
import type { SwitchboardConfig } from "../config/schema.js";
import { PACKAGE_ROOT } from "../config/load.js";
import { TaskClassifier, type SerializedClassifier } from "./classifier.js";
import { trainingExamples } from "./router.js";

/** Written by the build next to the compiled code, so it always matches the feature code. */
export const CLASSIFIER_SNAPSHOT = join(PACKAGE_ROOT, "dist", "classifier.bin");

/**
 * The snapshot as the build writes it: "SBC1", the header's length (uint32), the header (JSON:
 * format 4's small fields, and how many features and weights follow), then the features as int32
 * and the weights as float64 (the values format 4 rounds them to), each at an 8-byte boundary,
 * little-endian. Start-up maps them as typed arrays: no parsing, no conversion, no copy (decoding
 * 520,000 packed weights took ~30 ms of every start, more than the rest of loading the model).
 */
const MAGIC = "SBC1";

interface SnapshotHeader extends Omit<SerializedClassifier, "features" | "weights"> {
  features: number;
  weights: number;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

export function examplesHash(cfg: SwitchboardConfig): string {
  const h = createHash("sha256");
  for (const e of trainingExamples(cfg)) h.update(e.label + "\u0000" + e.text + "\u0001");
  return h.digest("hex").slice(0, 16);
}

/** A format 4 snapshot as the binary file's bytes. */
export function encodeSnapshot(s: SerializedClassifier): Buffer {
  const { features, weights, ...small } = s;
  const head = Buffer.from(JSON.stringify({ ...small, features: features.length, weights: weights.length } satisfies SnapshotHeader));
  const featuresAt = align8(8 + head.length);
  const weightsAt = align8(featuresAt + 4 * features.length);
  const out = Buffer.alloc(weightsAt + 8 * weights.length);
  out.write(MAGIC, 0, "latin1");
  out.writeUInt32LE(head.length, 4);
  head.copy(out, 8);
  // Written through DataView so the file is little-endian whatever this machine is.
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  features.forEach((f, i) => view.setInt32(featuresAt + 4 * i, f, true));
  weights.forEach((w, i) => view.setFloat64(weightsAt + 8 * i, w, true));
  return out;
}

/** The snapshot's header and arrays, or undefined for bytes that are not one (or a big-endian machine, which trains instead). */
export function decodeSnapshot(bytes: Uint8Array): { header: SnapshotHeader; features: Int32Array; weights: Float64Array } | undefined {
  if (endianness() !== "LE" || bytes.byteLength < 8 || Buffer.from(bytes.buffer, bytes.byteOffset, 4).toString("latin1") !== MAGIC) return undefined;
  const headLen = new DataView(bytes.buffer, bytes.byteOffset + 4, 4).getUint32(0, true);
  const header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headLen).toString("utf8")) as SnapshotHeader;
  const featuresAt = align8(8 + headLen);
  const weightsAt = align8(featuresAt + 4 * header.features);
  if (header.format !== 4 || weightsAt + 8 * header.weights !== bytes.byteLength) return undefined;
  // Typed arrays need their element alignment: a buffer that starts off it is copied once.
  const own = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  return {
    header,
    features: new Int32Array(own.buffer, own.byteOffset + featuresAt, header.features),
    weights: new Float64Array(own.buffer, own.byteOffset + weightsAt, header.weights),
  };
}

/** The build's snapshot when the examples match it; otherwise a fresh training run. */
export function loadOrTrainClassifier(cfg: SwitchboardConfig, snapshot = CLASSIFIER_SNAPSHOT): { classifier: TaskClassifier; source: "snapshot" | "trained" } {
  const hash = examplesHash(cfg);
  if (existsSync(snapshot)) {
    try {
      const s = decodeSnapshot(readFileSync(snapshot));
      if (s && s.header.examplesHash === hash) {
        const { header, features, weights } = s;
        return { classifier: TaskClassifier.fromArrays({ features, weights, bias: Float64Array.from(header.bias), temperature: header.temperature }, header.stats), source: "snapshot" };
      }
    } catch {
      // A damaged snapshot is only a lost shortcut: train instead.
    }
  }
  return { classifier: TaskClassifier.train(trainingExamples(cfg)), source: "trained" };
}

export function writeClassifierSnapshot(cfg: SwitchboardConfig, file = CLASSIFIER_SNAPSHOT): TaskClassifier {
  const classifier = TaskClassifier.train(trainingExamples(cfg));
  writeFileSync(file, encodeSnapshot(classifier.toJSON(examplesHash(cfg))));
  return classifier;
}
