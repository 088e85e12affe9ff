import { z } from "zod";
import { transcribe } from "../jobs/voice.js";
import { defineTool } from "./define-tool.js";
import { servedFields, servedOutput } from "./served-output.js";

export const transcribeTool = defineTool({
  name: "transcribe",
  title: "Transcribe audio",
  description:
    "Turn speech into text with segments (start/end seconds) through OpenAI's transcription API (model chain from config " +
    "jobs.transcription: Whisper gives segments, the 4o models text only). Audio by http(s) URL or an allowed local path. Needs OPENAI_API_KEY.",
  input: {
    audio: z.string().min(1).describe("The audio: an http(s) URL, or a path to a local file inside an allowed folder."),
    language: z.string().regex(/^[a-z]{2}$/).optional().describe("ISO-639-1 language of the audio, if known (improves accuracy)."),
    prompt: z.string().max(1000).optional().describe("Words or names to expect (spelling hints)."),
    tenant: z.string().optional(),
    requestId: z.string().max(200).optional(),
  },
  output: {
    text: z.string(),
    language: z.string().optional(),
    durationSeconds: z.number().optional(),
    segments: z.array(z.object({ start: z.number(), end: z.number(), text: z.string() })),
    ...servedOutput,
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  run: async (args, ctx) => {
    const t0 = performance.now();
    const r = await transcribe(ctx.runtime, args, { signal: ctx.extra.signal, progress: ctx.status, remote: ctx.remote });
    ctx.serve(r);
    return {
      text: r.text,
      ...(r.language ? { language: r.language } : {}),
      ...(r.durationSeconds !== undefined ? { durationSeconds: r.durationSeconds } : {}),
      segments: r.segments,
      ...servedFields(r, t0),
    };
  },
});
