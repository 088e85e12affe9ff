import { modelName, providerOf } from "../config/catalog.js";
import { outputUrls } from "../providers/replicate.js";
import { ProviderFailure } from "../providers/errors.js";
import type { Attempt } from "../resilience/failover.js";
import type { Decision } from "../routing/types.js";
import type { Runtime } from "../runtime.js";
import { assertPublicUrl, download, readInput, resolveInput, saveOutput, type InputRef, type SavedFile } from "./files.js";
import { jobDecision, runServiceChain } from "./service-chain.js";
export type MediaJob = "backgroundRemoval" | "upscaling" | "styleTransfer" | "generativeFill";

/** Inputs by Switchboard's names; file inputs are URLs or local paths. */
export interface MediaInputs {
  image: string;
  mask?: string;
  styleImage?: string;
  prompt?: string;
  scale?: number;
}

const FILE_INPUTS = ["image", "mask", "styleImage"] as const;

export interface MediaOutcome {
  files: SavedFile[];
  model: string;
  provider: string;
  decision: Decision;
  attempts: Attempt[];
  costUsd: number;
  predictionId: string;
}

/**
 * A Replicate media job: validate inputs before spending anything, upload local files, run the
 * prediction with progress, cancel it on abort or timeout, save the outputs under the output folder.
 */
export async function runMediaJob(
  runtime: Runtime,
  job: MediaJob,
  inputs: MediaInputs,
  opts: { tenant?: string; requestId?: string; signal: AbortSignal; progress: (n: number, message: string) => void; remote?: boolean },
): Promise<MediaOutcome> {
  const cfg = runtime.config;
  const refs: Partial<Record<(typeof FILE_INPUTS)[number], InputRef>> = {};
  for (const k of FILE_INPUTS) if (inputs[k]) refs[k] = resolveInput(inputs[k]!, k, cfg, opts.remote);
  // The provider fetches these URLs, but on a network caller's behalf: the same SSRF check as a download.
  for (const k of FILE_INPUTS) {
    const ref = refs[k];
    if (opts.remote && ref?.kind === "url") await assertPublicUrl(ref.url, k, cfg);
  }
  const decision = jobDecision(
    runtime,
    { prompt: `${job}: ${inputs.prompt ?? "edit the image"}`, mode: "vision_editing", attachments: [{ kind: "image" }], ...(opts.tenant ? { tenant: opts.tenant } : {}), ...(opts.requestId ? { requestId: opts.requestId } : {}) },
    "media",
    job,
  );
  const settings = cfg.jobSettings.media;
  const uploads = new Map<string, string>();

  const chain = await runServiceChain(runtime, decision, {
    timeoutMs: settings.timeoutMs,
    signal: opts.signal,
    call: async (id, signal) => {
      const service = cfg.services[id];
      const replicate = runtime.providers.media(id);
      if (!replicate || !service) throw new ProviderFailure("invalid_request", `${id} is not a Replicate media model`, false);
      const params = service.params ?? {};
      const input: Record<string, unknown> = { ...(service.defaults ?? {}) };
      for (const [name, value] of Object.entries(inputs)) {
        if (value === undefined) continue;
        const target = params[name];
        if (!target) continue; // This model takes no such input.
        const ref = refs[name as (typeof FILE_INPUTS)[number]];
        if (!ref) input[target] = value;
        else if (ref.kind === "url") input[target] = ref.url;
        else {
          const key = `${id}|${ref.path}`;
          if (!uploads.has(key)) {
            opts.progress(0, `uploading ${ref.name}`);
            uploads.set(key, await replicate.upload(await readInput(ref), ref.name, ref.mimeType, signal));
          }
          input[target] = uploads.get(key);
        }
      }
      const prediction = await replicate.predict({ name: modelName(id), ...(service.version ? { version: service.version } : {}) }, input, {
        signal,
        pollIntervalMs: settings.pollIntervalMs,
        onPoll: (p, polls) => opts.progress(polls, `${id}: ${p.status}`),
      });
      const urls = outputUrls(prediction.output);
      if (!urls.length) throw new ProviderFailure("provider_unavailable", `${id} returned no output file`, false);
      const files: SavedFile[] = [];
      for (const url of urls) {
        const { data, mimeType } = await download(url, cfg, signal);
        files.push(saveOutput(cfg, data, { job, mimeType, sourceUrl: url, env: runtime.env }));
      }
      return { files, predictionId: prediction.id, predictSeconds: prediction.metrics?.predict_time };
    },
  });

  const price = cfg.services[chain.model]?.price ?? {};
  const r = chain.result;
  const costUsd = (price.perSecond ?? 0) * (r.predictSeconds ?? 0) + (price.perImage ?? 0) * r.files.length + (price.perRequest ?? 0);
  return { files: r.files, model: chain.model, provider: providerOf(chain.model), decision, attempts: chain.attempts, costUsd: Math.round(costUsd * 1e8) / 1e8, predictionId: r.predictionId };
}

