import { loadElevenLabsSdk } from "../providers/elevenlabs.js";
import { modelName, providerOf } from "../config/catalog.js";
import type { Transcript } from "../providers/openai-audio.js";
import { invalidRequest, SwitchboardError } from "../errors.js";
import { ProviderFailure } from "../providers/errors.js";
import type { Attempt } from "../resilience/failover.js";
import type { Decision } from "../routing/types.js";
import type { Runtime } from "../runtime.js";
import { assertPublicUrl, download, readInput, resolveInput, saveOutput, type SavedFile } from "./files.js";
import { jobDecision, runServiceChain } from "./service-chain.js";
export interface VoiceoverOutcome {
  file: SavedFile;
  durationSeconds?: number;
  model: string;
  provider: string;
  voice: string;
  decision: Decision;
  attempts: Attempt[];
  costUsd: number;
}

/** ElevenLabs output formats are `<codec>_<sample rate>[_<bitrate>]`. */
export function audioInfo(format: string, bytes: number): { mimeType: string; durationSeconds?: number } {
  const [codec, rate, bitrate] = format.split("_");
  if (codec === "mp3") return { mimeType: "audio/mpeg", ...(bitrate ? { durationSeconds: round((bytes * 8) / (Number(bitrate) * 1000)) } : {}) };
  if (codec === "pcm") return { mimeType: "audio/L16", durationSeconds: round(bytes / 2 / Number(rate)) };
  if (codec === "ulaw" || codec === "alaw") return { mimeType: "audio/basic", durationSeconds: round(bytes / Number(rate)) };
  if (codec === "wav") return { mimeType: "audio/wav", durationSeconds: round(Math.max(0, bytes - 44) / 2 / Number(rate)) };
  if (codec === "opus") return { mimeType: "audio/ogg" };
  return { mimeType: "application/octet-stream" };
}

export async function voiceover(
  runtime: Runtime,
  args: { text: string; voice?: string; model?: string; outputFormat?: string; tenant?: string; requestId?: string },
  opts: { signal: AbortSignal; progress: (n: number, message: string) => void },
): Promise<VoiceoverOutcome> {
  const cfg = runtime.config;
  const settings = cfg.jobSettings.voice;
  if (args.model && (!Object.hasOwn(cfg.services, args.model) || cfg.services[args.model]!.kind !== "voice")) {
    const valid = Object.entries(cfg.services).filter(([, s]) => s.kind === "voice").map(([k]) => k);
    throw invalidRequest(`unknown voice model "${args.model}"`, `use one of: ${valid.join(", ")}.`, { field: "model", validValues: valid });
  }
  const format = args.outputFormat ?? settings.defaultFormat;
  const voice = args.voice ?? settings.defaultVoice;
  let decision = jobDecision(runtime, { prompt: args.text, mode: "voice_generation", ...(args.tenant ? { tenant: args.tenant } : {}), ...(args.requestId ? { requestId: args.requestId } : {}) }, "voice", "default");
  if (args.model) decision = { ...decision, model: args.model, provider: providerOf(args.model), fallbacks: decision.fallbacks.filter((f) => f.model !== args.model) };
  await loadElevenLabsSdk();
  const chain = await runServiceChain(runtime, decision, {
    timeoutMs: settings.timeoutMs,
    signal: opts.signal,
    call: async (id, signal) => {
      opts.progress(0, `speaking with ${id}`);
      const tts = runtime.providers.voice(id);
      if (!tts) throw new ProviderFailure("invalid_request", `${id} is not an ElevenLabs voice model`, false);
      const audio = await tts.speak({ text: args.text, voiceId: voice, modelId: modelName(id), outputFormat: format }, signal);
      return audio;
    },
  });
  const info = audioInfo(format, chain.result.length);
  const file = saveOutput(cfg, chain.result, { job: "voiceover", mimeType: info.mimeType, env: runtime.env });
  const price = cfg.services[chain.model]?.price.perThousandChars ?? 0;
  return {
    file,
    ...(info.durationSeconds !== undefined ? { durationSeconds: info.durationSeconds } : {}),
    model: chain.model,
    provider: providerOf(chain.model),
    voice,
    decision,
    attempts: chain.attempts,
    costUsd: Math.round(((price * args.text.length) / 1000) * 1e8) / 1e8,
  };
}

export interface TranscribeOutcome extends Transcript {
  model: string;
  provider: string;
  decision: Decision;
  attempts: Attempt[];
  costUsd: number;
}

export async function transcribe(
  runtime: Runtime,
  args: { audio: string; language?: string; prompt?: string; tenant?: string; requestId?: string },
  opts: { signal: AbortSignal; progress: (n: number, message: string) => void; remote?: boolean },
): Promise<TranscribeOutcome> {
  const cfg = runtime.config;
  const ref = resolveInput(args.audio, "audio", cfg, opts.remote);
  if (opts.remote && ref.kind === "url") await assertPublicUrl(ref.url, "audio", cfg);
  const decision = jobDecision(runtime, { prompt: `transcribe ${ref.kind === "url" ? ref.url : ref.name}`, mode: "batch_transcription", attachments: [{ kind: "audio" }], ...(args.tenant ? { tenant: args.tenant } : {}), ...(args.requestId ? { requestId: args.requestId } : {}) }, "transcription", "default");
  // No key, no download: a call that cannot be transcribed fetches nothing.
  assertSomeKey(runtime, decision);
  opts.progress(0, "reading audio");
  const audio =
    ref.kind === "file"
      ? { data: await readInput(ref), name: ref.name, mimeType: ref.mimeType }
      : await downloadAudio(ref.url, cfg, opts.signal, opts.remote ? (u) => assertPublicUrl(u, "audio", cfg) : undefined);
  const chain = await runServiceChain(runtime, decision, {
    timeoutMs: cfg.jobSettings.transcription.timeoutMs,
    signal: opts.signal,
    call: (id, signal) => {
      opts.progress(1, `transcribing with ${id}`);
      const stt = runtime.providers.transcriber(id);
      if (!stt) throw new ProviderFailure("invalid_request", `${id} is not an OpenAI-compatible transcription model`, false);
      return stt.transcribe({ ...audio, model: modelName(id), ...(args.language ? { language: args.language } : {}), ...(args.prompt ? { prompt: args.prompt } : {}) }, signal);
    },
  });
  const perMinute = cfg.services[chain.model]?.price.perMinute ?? 0;
  const t = chain.result;
  return { ...t, model: chain.model, provider: providerOf(chain.model), decision, attempts: chain.attempts, costUsd: Math.round((perMinute * (t.durationSeconds ?? t.billedSeconds ?? 0)) / 60 * 1e8) / 1e8 };
}

const round = (n: number) => Math.round(n * 100) / 100;

/** The same no_provider_configured the chain would give, before anything is downloaded. */
function assertSomeKey(runtime: Runtime, decision: Decision): void {
  const chain = [decision.model, ...decision.fallbacks.map((f) => f.model)];
  if (chain.some((id) => runtime.providers.credentials(providerOf(id)))) return;
  const providers = [...new Set(chain.map(providerOf))];
  const envs = [...new Set(providers.map((p) => runtime.providers.keyEnv(p)).filter(Boolean))];
  throw new SwitchboardError({
    code: "no_provider_configured",
    message: `no provider in the chain has credentials (${providers.join(", ")})`,
    hint: `set ${envs.join(" or ")} in the server's environment.`,
    retryable: false,
  });
}

/** The caller's audio URL; a URL that cannot be fetched is the caller's input to fix, named with the cause. */
async function downloadAudio(url: string, cfg: Runtime["config"], signal: AbortSignal, checkHop?: (url: string) => Promise<void>): Promise<{ data: Buffer; name: string; mimeType: string }> {
  const timeoutMs = cfg.jobSettings.transcription.timeoutMs;
  const shown = (() => {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.href;
  })();
  try {
    const d = await download(url, cfg, AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]), checkHop);
    return { data: d.data, name: new URL(url).pathname.split("/").pop() || "audio", mimeType: d.mimeType };
  } catch (err) {
    if (err instanceof SwitchboardError || signal.aborted) throw err;
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const raw = e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    const cause = [url, new URL(url).href].reduce((text, u) => text.split(u).join(shown), raw);
    throw invalidRequest(`audio: cannot download ${shown}: ${cause}`, "check that the URL is right and reachable from the server, or pass a local file.", { field: "audio" });
  }
}
