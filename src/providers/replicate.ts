import { createRequire } from "node:module";
import type Replicate from "replicate";
import type { Prediction } from "replicate";
import { setTimeout as sleep } from "node:timers/promises";
import { ProviderFailure } from "./errors.js";
import { normalizeHttpError } from "./http-error.js";

const require = createRequire(import.meta.url);
/** The SDK loads with the first adapter built, never at start-up. */
const loadSdk = (): typeof Replicate => {
  const mod = require("replicate") as typeof Replicate | { default: typeof Replicate };
  return "default" in mod ? mod.default : mod;
};

const TERMINAL = new Set(["succeeded", "failed", "canceled", "aborted"]);

/** Replicate predictions: upload inputs, create, poll to the end, cancel on abort or timeout. */
export class ReplicateAdapter {
  private readonly client: Replicate;

  constructor(opts: { token: string; baseUrl: string }) {
    const ReplicateSdk = loadSdk();
    this.client = new ReplicateSdk({ auth: opts.token, baseUrl: opts.baseUrl, useFileOutput: false });
  }

  async upload(data: Buffer, name: string, mimeType: string, signal: AbortSignal): Promise<string> {
    try {
      const file = await this.client.files.create(new Blob([data], { type: mimeType }), { filename: name }, { signal });
      return file.urls.get;
    } catch (err) {
      throw normalizeHttpError(err);
    }
  }

  /** Runs one prediction to a terminal state, reporting each poll. */
  async predict(
    model: { name: string; version?: string },
    input: Record<string, unknown>,
    opts: { signal: AbortSignal; pollIntervalMs: number; onPoll?: (p: Prediction, polls: number) => void },
  ): Promise<Prediction> {
    let prediction: Prediction;
    try {
      // Not aborted mid-flight: the server may create the prediction anyway, and without its id it
      // could never be cancelled. Create is quick; an abort is honoured right after it.
      prediction = await this.client.predictions.create({ ...(model.version ? { version: model.version } : { model: model.name }), input, signal: AbortSignal.timeout(30000) } as Parameters<Replicate["predictions"]["create"]>[0]);
    } catch (err) {
      throw normalizeHttpError(err);
    }
    if (opts.signal.aborted) {
      await this.cancel(prediction.id);
      throw opts.signal.reason ?? new Error("aborted");
    }
    let polls = 0;
    try {
      while (!TERMINAL.has(prediction.status)) {
        opts.onPoll?.(prediction, polls);
        await sleep(opts.pollIntervalMs, undefined, { signal: opts.signal });
        prediction = await this.client.predictions.get(prediction.id, { signal: opts.signal });
        polls++;
      }
    } catch (err) {
      // Aborted (the caller cancelled, or the attempt timed out): stop the paid work too.
      if (opts.signal.aborted) await this.cancel(prediction.id);
      throw normalizeHttpError(err);
    }
    opts.onPoll?.(prediction, polls);
    if (prediction.status === "failed") {
      throw new ProviderFailure("provider_unavailable", `replicate prediction ${prediction.id} failed: ${String(prediction.error ?? "no reason given").slice(0, 300)}`, false);
    }
    if (prediction.status !== "succeeded") {
      throw new ProviderFailure("provider_unavailable", `replicate prediction ${prediction.id} ended as ${prediction.status}`, false);
    }
    return prediction;
  }

  async cancel(id: string): Promise<void> {
    try {
      await this.client.predictions.cancel(id, { signal: AbortSignal.timeout(5000) });
    } catch {
      // Best effort: the prediction may already be over.
    }
  }
}

/** Output URLs of a prediction, whatever shape the model returns them in. */
export function outputUrls(output: unknown): string[] {
  if (typeof output === "string") return /^https?:/.test(output) ? [output] : [];
  if (Array.isArray(output)) return output.flatMap(outputUrls);
  if (output && typeof output === "object") return Object.values(output).flatMap(outputUrls);
  return [];
}
