import { createRequire } from "node:module";
import type OpenAI from "openai";
import { sdkLogger } from "./sdk-logger.js";

export interface Transcript {
  text: string;
  language?: string;
  durationSeconds?: number;
  /** Seconds the provider bills (models that report usage instead of a duration). */
  billedSeconds?: number;
  segments: Array<{ start: number; end: number; text: string }>;
}

const require = createRequire(import.meta.url);
/** The SDK loads with the first transcriber built, never at start-up. */
const loadSdk = (): typeof import("openai") => require("openai") as typeof import("openai");

/** OpenAI speech to text. Whisper gives segments (verbose_json); the 4o models give text only. */
export class OpenAITranscriber {
  private readonly client: OpenAI;

  constructor(opts: { apiKey: string; baseUrl: string }) {
    const { default: OpenAISdk } = loadSdk();
    this.client = new OpenAISdk({ apiKey: opts.apiKey, baseURL: opts.baseUrl, maxRetries: 0, logger: sdkLogger, logLevel: "warn" });
  }

  async transcribe(req: { data: Buffer; name: string; mimeType: string; model: string; language?: string; prompt?: string }, signal: AbortSignal): Promise<Transcript> {
    const file = await loadSdk().toFile(req.data, req.name, { type: req.mimeType });
    const verbose = req.model.startsWith("whisper");
    const res = (await this.client.audio.transcriptions.create(
      {
        file,
        model: req.model,
        response_format: verbose ? "verbose_json" : "json",
        ...(verbose ? { timestamp_granularities: ["segment"] } : {}),
        ...(req.language ? { language: req.language } : {}),
        ...(req.prompt ? { prompt: req.prompt } : {}),
      } as OpenAI.Audio.TranscriptionCreateParamsNonStreaming,
      { signal },
    )) as { text: string; language?: string; duration?: number; usage?: { seconds?: number }; segments?: Array<{ start: number; end: number; text: string }> };
    return {
      text: res.text,
      ...(res.language ? { language: res.language } : {}),
      ...(typeof res.duration === "number" ? { durationSeconds: res.duration } : {}),
      ...(typeof res.usage?.seconds === "number" ? { billedSeconds: res.usage.seconds } : {}),
      segments: (res.segments ?? []).map((s) => ({ start: s.start, end: s.end, text: s.text.trim() })),
    };
  }
}
