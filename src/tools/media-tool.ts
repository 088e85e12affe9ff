import { z } from "zod";
import { fileContent } from "../jobs/file-content.js";
import type { MediaInputs, MediaJob } from "../jobs/media-job.js";
import { defineTool } from "./define-tool.js";
import { servedFields, servedOutput } from "./served-output.js";

/** Inputs every media tool takes besides its own. */
export const imageInput = z.string().min(1).describe("URL, or a path in files.allowedInputDirs.");
const common = {
  tenant: z.string().optional(),
  requestId: z.string().max(200).optional(),
};

const savedFile = z.object({ path: z.string(), uri: z.string(), mimeType: z.string(), bytes: z.number(), sourceUrl: z.string().optional() });
const mediaOutput = {
  files: z.array(savedFile).describe("Saved results, also sent as resource links."),
  predictionId: z.string(),
  ...servedOutput,
};

/** One media tool: its own inputs, mapped onto the shared Replicate job runner. */
export function mediaTool<I extends z.ZodRawShape>(spec: { name: string; title: string; description: string; job: MediaJob; input: I; toInputs: (args: z.infer<z.ZodObject<I>>) => MediaInputs }) {
  return defineTool({
    name: spec.name,
    title: spec.title,
    description: `${spec.description} Runs on Replicate (chain: jobs.media.${spec.job}) with fallbacks; needs REPLICATE_API_TOKEN.`,
    input: { ...spec.input, ...common },
    output: mediaOutput,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    run: async (args, ctx) => {
      const t0 = performance.now();
      const a = args as z.infer<z.ZodObject<I>> & { tenant?: string; requestId?: string };
      const { runMediaJob } = await import("../jobs/media-job.js");
      const r = await runMediaJob(ctx.runtime, spec.job, spec.toInputs(a), {
        ...(a.tenant ? { tenant: a.tenant } : {}),
        ...(a.requestId ? { requestId: a.requestId } : {}),
        signal: ctx.extra.signal,
        progress: ctx.status,
        remote: ctx.remote,
      });
      ctx.serve(r);
      return {
        files: r.files,
        predictionId: r.predictionId,
        ...servedFields(r, t0),
      };
    },
    // Inline bytes only under the configured cap (clients cap results near 1 MB).
    content: (out, runtime) => fileContent(out.files as Parameters<typeof fileContent>[0], runtime.config.files.maxInlineBytes),
  });
}
