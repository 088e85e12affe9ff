import type { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import { normalizeHttpError } from "./http-error.js";

type Sdk = typeof import("@elevenlabs/elevenlabs-js");
let sdk: Promise<Sdk> | undefined;

/** The SDK takes seconds to load: only voice jobs pay, once, and before any attempt's clock starts. */
export const loadElevenLabsSdk = (): Promise<Sdk> => (sdk ??= import("@elevenlabs/elevenlabs-js"));

/** ElevenLabs text to speech through the official SDK (its retries off). */
export class ElevenLabsAdapter {
  private client: ElevenLabsClient | undefined;

  constructor(private readonly opts: { apiKey: string; baseUrl: string }) {}

  async speak(req: { text: string; voiceId: string; modelId: string; outputFormat: string }, signal: AbortSignal): Promise<Buffer> {
    try {
      const { ElevenLabsClient } = await loadElevenLabsSdk();
      this.client ??= new ElevenLabsClient({ apiKey: this.opts.apiKey, baseUrl: this.opts.baseUrl, maxRetries: 0, timeoutInSeconds: 600 });
      const stream = await this.client.textToSpeech.convert(
        req.voiceId,
        { text: req.text, modelId: req.modelId, outputFormat: req.outputFormat as never },
        { abortSignal: signal },
      );
      const chunks: Uint8Array[] = [];
      for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
      return Buffer.concat(chunks);
    } catch (err) {
      throw normalizeHttpError(err);
    }
  }
}
