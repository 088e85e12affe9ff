import { z } from "zod";
import { defineTool } from "./define-tool.js";
import { servedFields, servedOutput } from "./served-output.js";

export const transcribeTool = defineTool({
  name: "transcribe",
  title: "Transcribe audio",
  description:
    "Speech to text with timed segments through OpenAI (chain: jobs.transcription; the 4o models give text only). Needs OPENAI_API_KEY.",
  input: {
    audio: z.string().min(1).describe("URL, or a path in files.allowedInputDirs."),
    language: z.string().regex(/^[a-z]{2}$/).optional().describe("ISO-639-1 code, if known."),
    prompt: z.string().max(1000).optional().describe("Words or names to expect."),
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
    const { transcribe } = await import("../jobs/voice.js");
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
