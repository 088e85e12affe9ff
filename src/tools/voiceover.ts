import { z } from "zod";
import { fileContent } from "../jobs/file-content.js";
import { defineTool } from "./define-tool.js";
import { servedFields, servedOutput } from "./served-output.js";

export const voiceoverTool = defineTool({
  name: "voiceover",
  title: "Speak text as a voiceover",
  description:
    "Speak text with ElevenLabs (chain: jobs.voice, with fallbacks) and save the audio; returns a resource link with " +
    "duration and size. Needs ELEVENLABS_API_KEY.",
  input: {
    text: z.string().min(1).max(10000).describe("What to say."),
    voice: z.string().min(1).optional().describe("ElevenLabs voice id."),
    model: z.string().optional().describe("Voice model, e.g. elevenlabs:eleven_flash_v2_5."),
    outputFormat: z.string().regex(/^(mp3|pcm|wav|ulaw|alaw|opus)_\d+(_\d+)?$/).optional().describe("e.g. mp3_44100_128 or pcm_16000."),
    tenant: z.string().optional(),
    requestId: z.string().max(200).optional(),
  },
  output: {
    file: z.object({ path: z.string(), uri: z.string(), mimeType: z.string(), bytes: z.number() }),
    durationSeconds: z.number().optional(),
    voice: z.string(),
    ...servedOutput,
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  run: async (args, ctx) => {
    const t0 = performance.now();
    const { voiceover } = await import("../jobs/voice.js");
    const r = await voiceover(ctx.runtime, args, { signal: ctx.extra.signal, progress: ctx.status });
    ctx.serve(r);
    return {
      file: r.file,
      ...(r.durationSeconds !== undefined ? { durationSeconds: r.durationSeconds } : {}),
      voice: r.voice,
      ...servedFields(r, t0),
    };
  },
  content: (out, runtime) => fileContent([out.file], runtime.config.files.maxInlineBytes),
});
