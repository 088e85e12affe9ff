import type { JobKind, ServiceEntry, SwitchboardConfig } from "../config/schema.js";
import type { JobMatch, JobName } from "./job.js";
import type { Decision, DecisionAction } from "./types.js";

/**
 * What a decision tells the caller to do next: which Switchboard tool to call, with the arguments
 * the prompt gave, and for service jobs which configured chain runs it and what it costs.
 */

interface JobSpec {
  tool: string;
  kind: JobKind;
  /** The chain's key under config jobs.<kind>. */
  chain: string;
  title: string;
}

export const JOBS: Record<JobName, JobSpec> = {
  backgroundRemoval: { tool: "remove_background", kind: "media", chain: "backgroundRemoval", title: "background removal" },
  upscaling: { tool: "upscale_image", kind: "media", chain: "upscaling", title: "upscaling" },
  styleTransfer: { tool: "style_transfer", kind: "media", chain: "styleTransfer", title: "style transfer" },
  generativeFill: { tool: "generative_fill", kind: "media", chain: "generativeFill", title: "generative fill" },
  voiceover: { tool: "voiceover", kind: "voice", chain: "default", title: "voiceover" },
  dubbing: { tool: "voiceover", kind: "voice", chain: "default", title: "dubbing" },
  transcription: { tool: "transcribe", kind: "transcription", chain: "default", title: "transcription" },
  research: { tool: "research", kind: "retrieval", chain: "web", title: "web research" },
  systemOptimizer: { tool: "run_llm", kind: "llm", chain: "default", title: "log and performance analysis" },
  timelineEdit: { tool: "run_llm", kind: "llm", chain: "default", title: "timeline editing" },
  assetTagging: { tool: "run_llm", kind: "llm", chain: "default", title: "asset tagging" },
  clipSuggestions: { tool: "run_llm", kind: "llm", chain: "default", title: "clip suggestions" },
};

/** The configured service chain of a non-LLM job, or undefined when config has none for it. */
export function serviceChain(cfg: SwitchboardConfig, job: JobName): string[] | undefined {
  const spec = JOBS[job];
  const chains = cfg.jobs[spec.kind] as Record<string, string[]> | undefined;
  return chains && Object.hasOwn(chains, spec.chain) ? chains[spec.chain] : undefined;
}

/** The job a non-LLM mode runs when the prompt did not say which: the one its chain starts with. */
export function defaultJobOf(cfg: SwitchboardConfig, chain: string[]): JobName | undefined {
  return (Object.keys(JOBS) as JobName[]).find((name) => JOBS[name].kind !== "llm" && JOBS[name].kind !== "retrieval" && serviceChain(cfg, name)?.[0] === chain[0]);
}

/** The next call for a job found in the prompt (or the mode's default job). */
export function jobAction(cfg: SwitchboardConfig, job: JobMatch | undefined, name: JobName | undefined, text: string, mode: string): DecisionAction {
  if (!name) return { tool: "run_llm", arguments: { mode } };
  const spec = JOBS[name];
  const f = job?.found ?? {};
  switch (name) {
    case "backgroundRemoval":
    case "upscaling":
    case "styleTransfer":
    case "generativeFill":
      return {
        tool: spec.tool,
        arguments: {
          ...(f.file ? { image: f.file } : {}),
          ...(name === "upscaling" && f.scale ? { scale: f.scale } : {}),
          ...(name === "styleTransfer" && f.style ? { prompt: f.style } : {}),
          ...(name === "generativeFill" ? { prompt: f.fill ?? text.slice(0, 500) } : {}),
        },
        ...(name === "generativeFill" ? { note: "also pass mask: an image of the same size whose white areas are repainted" } : {}),
      };
    case "voiceover":
      return {
        tool: "voiceover",
        arguments: f.script ? { text: f.script } : {},
        ...(f.voice ? { note: `asked for a ${f.voice} voice: pass the matching ElevenLabs voice id as voice` } : {}),
      };
    case "dubbing":
      return dubbing(f.file, f.language, f.script);
    case "transcription":
      return { tool: "transcribe", arguments: f.file ? { audio: f.file } : {} };
    case "research": {
      const kind = f.recency ?? "web";
      const services = (cfg.jobs.retrieval as Record<string, string[]>)[kind];
      return { tool: "research", arguments: { question: text.slice(0, 4000), kind }, ...(services ? { services } : {}) };
    }
    default:
      return { tool: "run_llm", arguments: { mode } };
  }
}

/** Dubbing is translation then voice (and first a transcription when the speech is a recording). */
function dubbing(file: string | undefined, language: string | undefined, script: string | undefined): DecisionAction {
  const into = language ? ` into ${language}` : "";
  const steps: DecisionAction["steps"] = [
    ...(file || !script ? [{ tool: "transcribe", arguments: file ? { audio: file } : {} }] : []),
    { tool: "run_llm", arguments: { taskType: "translation", prompt: `Translate${into} for a voice dub, keeping timing and tone: <the ${script ? "script" : "transcript"}>` } },
    { tool: "voiceover", arguments: { text: "<the translation>" } },
  ];
  return { tool: "voiceover", arguments: {}, steps, note: "dubbing runs in steps: call each in order, feeding each result to the next" };
}

/** A service's cost in its own unit: per image, second, minute, 1k characters or request. */
export function serviceEstimate(service: ServiceEntry | undefined, job: JobMatch | undefined): Pick<Decision["estimate"], "costUsd" | "unit" | "unitPriceUsd" | "units"> {
  const p = service?.price ?? {};
  const chars = job?.found.script?.length;
  if (p.perThousandChars !== undefined) return priced("1k characters", p.perThousandChars, chars ? Math.max(chars / 1000, 0.001) : undefined);
  if (p.perImage !== undefined) return priced("image", p.perImage, 1);
  if (p.perRequest !== undefined) return priced("request", p.perRequest, 1);
  if (p.perMinute !== undefined) return priced("minute", p.perMinute, undefined);
  if (p.perSecond !== undefined) return priced("second", p.perSecond, undefined);
  return { costUsd: 0 };
}

function priced(unit: string, unitPriceUsd: number, units: number | undefined) {
  return { unit, unitPriceUsd, costUsd: round((units ?? 1) * unitPriceUsd), ...(units !== undefined ? { units: round(units, 3) } : {}) };
}

const round = (n: number, d = 6) => Math.round(n * 10 ** d) / 10 ** d;
