import { envValue } from "../config/env.js";
import type { SwitchboardConfig } from "../config/schema.js";
import { AnthropicAdapter } from "./anthropic.js";
import { OpenAIAdapter } from "./openai.js";
import type { LlmAdapter } from "./types.js";

/**
 * Adapters by provider name, built from config and the environment on first use and rebuilt
 * when the base URL or key changes. Keys are read from env here and nowhere else.
 */
export class ProviderRegistry {
  private readonly cache = new Map<string, { fingerprint: string; adapter: LlmAdapter }>();

  constructor(
    private readonly config: () => SwitchboardConfig,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The adapter for an LLM provider, or undefined when it has no credentials (or isn't an LLM API). */
  adapter(provider: string): LlmAdapter | undefined {
    const p = this.config().providers[provider];
    if (!p || (p.api !== "openai" && p.api !== "openai-compatible" && p.api !== "anthropic")) return undefined;
    const key = envValue(this.env, p.apiKeyEnv);
    if (p.apiKeyEnv !== null && !key) return undefined;
    if (p.apiKeyEnv === null && !p.enabled) return undefined;
    const fingerprint = `${p.api}|${p.baseUrl}|${key ?? ""}`;
    const hit = this.cache.get(provider);
    if (hit?.fingerprint === fingerprint) return hit.adapter;
    const adapter = p.api === "anthropic" ? new AnthropicAdapter({ apiKey: key!, baseURL: p.baseUrl }) : new OpenAIAdapter(provider, { apiKey: key, baseURL: p.baseUrl });
    this.cache.set(provider, { fingerprint, adapter });
    return adapter;
  }

  /** Every configured key value, so error messages can be scrubbed of them. */
  secrets(): string[] {
    return Object.values(this.config().providers)
      .map((p) => envValue(this.env, p.apiKeyEnv))
      .filter((v): v is string => !!v);
  }

  /** Key and base URL of any provider (LLM or service), or undefined when it has no key. */
  credentials(provider: string): { key: string; baseUrl: string } | undefined {
    const p = this.config().providers[provider];
    if (!p) return undefined;
    const key = envValue(this.env, p.apiKeyEnv);
    return key ? { key, baseUrl: p.baseUrl } : undefined;
  }

  keyEnv(provider: string): string | undefined {
    return this.config().providers[provider]?.apiKeyEnv ?? undefined;
  }
}
