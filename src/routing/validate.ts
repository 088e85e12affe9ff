import { tenantAllows } from "../config/catalog.js";
import { LATENCY_CLASSES, TASK_TYPES, type SwitchboardConfig } from "../config/schema.js";
import { invalidRequest, unknownValue } from "../errors.js";
import type { RouteInput } from "./types.js";

/** The refusal of a request with nothing to answer (the compatible APIs restate its hint in their own fields). */
export const EMPTY_PROMPT = "the prompt is empty";

/** Rejects a request the router cannot read, with a hint the caller can act on. */
export function validate(input: RouteInput, cfg: SwitchboardConfig): void {
  const hasPrompt = typeof input.prompt === "string" && input.prompt.trim().length > 0;
  const hasMessages = Array.isArray(input.messages) && input.messages.some((m) => m.content?.trim());
  // An image or a document alone is something to answer about ("what is this?" left unsaid).
  const hasMedia = (input.attachments ?? []).some((a) => a.kind === "image" || a.kind === "document");
  if (!hasPrompt && !hasMessages && !hasMedia) {
    throw invalidRequest(EMPTY_PROMPT, "pass the task text in `prompt`, or chat turns in `messages` with at least one non-empty content.", { field: "prompt" });
  }
  const size = (input.prompt?.length ?? 0) + (input.messages ?? []).reduce((n, m) => n + (m.content?.length ?? 0), 0);
  if (size > cfg.router.maxPromptChars) {
    throw invalidRequest(
      `the prompt is ${size.toLocaleString("en")} characters, over the limit of ${cfg.router.maxPromptChars.toLocaleString("en")}`,
      "send the large material as an attachment with its token count (attachments[].tokens) or as contextTokens, or raise router.maxPromptChars in your config.",
      { field: "prompt" },
    );
  }
  // Own properties only: "__proto__", "constructor" or "toString" name no mode, model or tenant.
  if (input.mode && !Object.hasOwn(cfg.modes, input.mode)) throw unknownValue("mode", input.mode, Object.keys(cfg.modes));
  if (input.taskType && !(TASK_TYPES as readonly string[]).includes(input.taskType)) throw unknownValue("taskType", input.taskType, [...TASK_TYPES]);
  if (input.model && !Object.hasOwn(cfg.models, input.model)) throw unknownValue("model", input.model, Object.keys(cfg.models));
  if (input.tenant !== undefined && !Object.hasOwn(cfg.tenants, input.tenant)) throw unknownValue("tenant", input.tenant, Object.keys(cfg.tenants));
  if (input.latency && !(LATENCY_CLASSES as readonly string[]).includes(input.latency)) throw unknownValue("latency", input.latency, [...LATENCY_CLASSES]);
  const tenant = input.tenant ?? cfg.router.defaultTenant;
  if (input.model && !tenantAllows(cfg.tenants[tenant]!, input.model)) {
    throw invalidRequest(`tenant "${tenant}" does not allow model ${input.model}`, "pick a model the tenant allows, or leave model out to let Switchboard choose.", { field: "model" });
  }
  for (const [i, id] of (input.fallbacks ?? []).entries()) {
    if (!Object.hasOwn(cfg.models, id)) throw unknownValue(`fallbacks.${i}`, id, Object.keys(cfg.models));
    if (!tenantAllows(cfg.tenants[tenant]!, id)) {
      throw invalidRequest(`tenant "${tenant}" does not allow model ${id}`, "list only models the tenant allows as fallbacks, or leave them out to let Switchboard choose.", { field: `fallbacks.${i}` });
    }
  }
}
