import { providerOf } from "../../config/catalog.js";
import type { SwitchboardConfig } from "../../config/schema.js";
import { chatRequestFor, type LlmCallSpec } from "../../jobs/llm-call.js";
import { countBreakpoints, MAX_BREAKPOINTS } from "../../providers/cache-hints.js";
import { anthropicThinking, askedEffort, DEFAULT_EFFORTS, effortOf } from "../../providers/reasoning.js";
import type { Sampling } from "../../providers/types.js";

/**
 * What the serving model was sent of what a request asked for beyond the common core (cache
 * breakpoints, reasoning, temperature and the other sampling settings, PDFs by URL): translated, passed or dropped, one note each, for the
 * `x-switchboard-notes` header. It reads the request exactly as the call built it
 * (chatRequestFor) and the rules the adapters follow, so the notes say what was sent.
 */

/** The clients' names of the sampling settings (the same on both APIs). */
const SAMPLING_FIELDS: Record<keyof Sampling, string> = { topP: "top_p", topK: "top_k", seed: "seed", presencePenalty: "presence_penalty", frequencyPenalty: "frequency_penalty" };

/** How the client asked for reasoning: Anthropic's `thinking` or OpenAI's `reasoning_effort`. */
export type ReasoningField = "thinking" | "reasoning_effort" | "reasoning.effort";

export function translationNotes(cfg: SwitchboardConfig, spec: LlmCallSpec, model: string, field: ReasoningField): string[] {
  const breakpoints = countBreakpoints({ messages: spec.messages, systemBlocks: spec.systemBlocks, tools: spec.functionTools });
  const linked = spec.messages.reduce((n, m) => n + (m.documents ?? []).filter((d) => "url" in d).length, 0);
  const sampling = Object.entries(spec.sampling ?? {}).filter(([, v]) => v !== undefined).map(([k]) => k as keyof Sampling);
  // Most requests ask for none of these: no request to rebuild on every call then.
  if (!breakpoints && !spec.reasoning && spec.temperature === undefined && !linked && !sampling.length) return [];
  const entry = Object.hasOwn(cfg.models, model) ? cfg.models[model] : undefined;
  const provider = providerOf(model);
  const api = Object.hasOwn(cfg.providers, provider) ? cfg.providers[provider]!.api : undefined;
  const req = chatRequestFor(entry, model, spec);
  const notes: string[] = [];

  if (breakpoints) {
    if (api === "anthropic") {
      notes.push(
        breakpoints > MAX_BREAKPOINTS
          ? `cache_control: kept the last ${MAX_BREAKPOINTS} of ${breakpoints} breakpoints (Anthropic's limit)`
          : `cache_control passed to Anthropic (${breakpoints} breakpoint${breakpoints > 1 ? "s" : ""})`,
      );
    } else if (provider === "openai") notes.push("cache_control dropped: OpenAI caches prompts automatically");
    else notes.push(`cache_control dropped: ${provider} takes no cache breakpoints`);
  }

  if (spec.reasoning) {
    if (!req.reasoning) notes.push(`${field} dropped: ${model} takes no reasoning setting`);
    else if (api === "anthropic") {
      const plan = anthropicThinking(req)!;
      if ("skipped" in plan) notes.push(`${field} dropped: ${plan.skipped}`);
      else {
        const raised = plan.maxTokens > req.maxOutputTokens ? `, max_tokens raised to ${plan.maxTokens}` : "";
        const settings = `budget_tokens ${plan.budgetTokens}${raised}`;
        notes.push(
          field === "thinking"
            ? `thinking passed to Anthropic (${settings})`
            : `${field} passed to Anthropic as thinking (${settings}); its thinking is not returned (${field === "reasoning_effort" ? "Chat Completions has no field for it" : "no reasoning items are returned"})`,
        );
      }
    } else {
      const accepted = req.reasoningEfforts ?? DEFAULT_EFFORTS;
      const sent = effortOf(req.reasoning, accepted);
      const asked = askedEffort(req.reasoning);
      notes.push(`${field} passed as reasoning_effort=${sent}${sent !== asked ? ` (${asked} asked; ${model} takes ${accepted.join(", ")})` : ""}`);
    }
  }

  // Anthropic fetches a PDF by URL; OpenAI's Chat Completions takes PDFs as data only (openai.ts filePart).
  if (linked && api !== "anthropic") notes.push(`document URL${linked > 1 ? "s" : ""} sent as ${linked > 1 ? "links" : "a link"}: ${model} takes PDFs as data only`);

  // The sampling settings the serving model was not sent: all of them to a model that refuses
  // sampling settings or to Anthropic (whose current API takes none); top_k to OpenAI's.
  const unsent = sampling.filter((k) => !req.sampling || api === "anthropic" || k === "topK");
  if (unsent.length) {
    const why = !req.sampling ? `${model} takes none` : api === "anthropic" ? "Anthropic's Messages API takes none" : `${model}'s API takes no top_k`;
    notes.push(`${unsent.map((k) => SAMPLING_FIELDS[k]).join(", ")} dropped: ${why}`);
  }

  if (spec.temperature !== undefined) {
    if (req.temperature === undefined) notes.push(`temperature dropped: ${model} takes none`);
    // The adapter never sends one (the current Messages API takes none; thinking would refuse it anyway).
    else if (api === "anthropic") notes.push("temperature dropped: Anthropic's Messages API takes none");
  }
  return notes;
}
