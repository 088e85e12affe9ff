import { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import { normalizeHttpError } from "./http-error.js";

/** ElevenLabs text to speech through the official SDK (its retries off). */
export class ElevenLabsAdapter {
  private readonly client: ElevenLabsClient;

  constructor(opts: { apiKey: string; baseUrl: string }) {
    this.client = new ElevenLabsClient({ apiKey: opts.apiKey, baseUrl: opts.baseUrl, maxRetries: 0, timeoutInSeconds: 600 });
  }

  async speak(req: { text: string; voiceId: string; modelId: string; outputFormat: string }, signal: AbortSignal): Promise<Buffer> {
    try {
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
