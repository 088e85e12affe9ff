import type { SwitchboardConfig } from "../../config/schema.js";

/**
 * Provider prefixes other gateways use that name a different provider here: LiteLLM calls Google
 * AI Studio `gemini/`.
 */
const PROVIDER_ALIASES: Record<string, string> = { gemini: "google" };

/**
 * The catalog id a `<provider>/<model>` name means, the form OpenRouter (`openai/gpt-4.1-mini`,
 * `anthropic/claude-sonnet-4.5`) and LiteLLM (`gemini/gemini-2.5-pro`, `openrouter/google/…`) use,
 * so code written for either keeps its model names. OpenRouter writes Claude's versions with a
 * dot (`4.5`) where Anthropic's ids have a dash (`4-5`): both are tried. Undefined when the prefix
 * is no provider here or the provider has no such model.
 */
export function slashedModelId(cfg: SwitchboardConfig, name: string): string | undefined {
  const slash = name.indexOf("/");
  if (slash <= 0 || slash === name.length - 1) return undefined;
  const prefix = name.slice(0, slash).toLowerCase();
  const provider = Object.hasOwn(PROVIDER_ALIASES, prefix) ? PROVIDER_ALIASES[prefix]! : prefix;
  if (!Object.hasOwn(cfg.providers, provider)) return undefined;
  const model = name.slice(slash + 1);
  for (const id of [`${provider}:${model}`, `${provider}:${model.replace(/(\d)\.(\d)/g, "$1-$2")}`]) {
    if (Object.hasOwn(cfg.models, id)) return id;
  }
  return undefined;
}
