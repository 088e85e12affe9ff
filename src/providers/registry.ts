import { modelName, providerOf } from "../config/catalog.js";
import { envValue } from "../config/env.js";
import type { SwitchboardConfig } from "../config/schema.js";
import { AnthropicAdapter } from "./anthropic.js";
import { ElevenLabsAdapter } from "./elevenlabs.js";
import { OpenAITranscriber } from "./openai-audio.js";
import { OpenAIAdapter } from "./openai.js";
import { ReplicateAdapter } from "./replicate.js";
import { PerplexityAdapter, TavilyAdapter, type RetrievalAdapter } from "./retrieval.js";
import type { LlmAdapter } from "./types.js";

type ProviderConfig = SwitchboardConfig["providers"][string];

/** A service provider with a key, as the service accessors need it. */
interface Keyed {
  provider: string;
  model: string;
  api: ProviderConfig["api"];
  key: string;
  baseUrl: string;
  /** Changes when anything the client was built from changes. */
  fingerprint: string;
}

/**
 * Every provider client Switchboard calls, built from config and the environment on first use,
 * cached, and rebuilt when the provider's API, base URL or key changes. Keys are read from env
 * here and nowhere else.
 *
 * `adapter(provider)` takes a provider name (LLM chains look up adapters by provider); the
 * service accessors take a catalog id (`provider:model`). Each returns undefined when the provider
 * has no key or does not speak that kind of API.
 */
export class ProviderRegistry {
  private readonly cache = new Map<string, { fingerprint: string; client: unknown }>();

  constructor(
    private readonly config: () => SwitchboardConfig,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The chat adapter for an LLM provider, or undefined when it has no credentials (or isn't an LLM API). */
  adapter(provider: string): LlmAdapter | undefined {
    const p = this.config().providers[provider];
    if (!p || (p.api !== "openai" && p.api !== "openai-compatible" && p.api !== "anthropic")) return undefined;
    const key = envValue(this.env, p.apiKeyEnv);
    if (p.apiKeyEnv !== null && !key) return undefined;
    if (p.apiKeyEnv === null && !p.enabled) return undefined;
    return this.cached(`llm|${provider}`, `${p.api}|${p.baseUrl}|${key ?? ""}`, () =>
      p.api === "anthropic" ? new AnthropicAdapter({ apiKey: key!, baseURL: p.baseUrl }) : new OpenAIAdapter(provider, { apiKey: key, baseURL: p.baseUrl }),
    );
  }

  /** Web retrieval for `tavily:<depth>` (basic, else advanced) or `perplexity:<model>`. */
  retrieval(id: string): RetrievalAdapter | undefined {
    const s = this.keyed(id);
    if (!s) return undefined;
    const opts = { apiKey: s.key, baseUrl: s.baseUrl };
    if (s.api === "tavily") return this.cached(`retrieval|${id}`, s.fingerprint, () => new TavilyAdapter(opts, s.model === "basic" ? "basic" : "advanced"));
    if (s.provider === "perplexity") return this.cached(`retrieval|${id}`, s.fingerprint, () => new PerplexityAdapter(opts, s.model));
    return undefined;
  }

  /** Replicate predictions (the model is named per call: `modelName(id)`). */
  media(id: string): ReplicateAdapter | undefined {
    const s = this.keyed(id);
    if (s?.api !== "replicate") return undefined;
    return this.cached(`media|${s.provider}`, s.fingerprint, () => new ReplicateAdapter({ token: s.key, baseUrl: s.baseUrl }));
  }

  /** ElevenLabs text to speech (its SDK still loads on first use). */
  voice(id: string): ElevenLabsAdapter | undefined {
    const s = this.keyed(id);
    if (s?.api !== "elevenlabs") return undefined;
    return this.cached(`voice|${s.provider}`, s.fingerprint, () => new ElevenLabsAdapter({ apiKey: s.key, baseUrl: s.baseUrl }));
  }

  /** Speech to text on an OpenAI(-compatible) provider. */
  transcriber(id: string): OpenAITranscriber | undefined {
    const s = this.keyed(id);
    if (s?.api !== "openai" && s?.api !== "openai-compatible") return undefined;
    return this.cached(`transcriber|${s.provider}`, s.fingerprint, () => new OpenAITranscriber({ apiKey: s.key, baseUrl: s.baseUrl }));
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

  /** The provider of a catalog id, when it is configured and has a key (services are never keyless). */
  private keyed(id: string): Keyed | undefined {
    if (!id.includes(":")) return undefined;
    const provider = providerOf(id);
    const p = this.config().providers[provider];
    const creds = this.credentials(provider);
    if (!p || !creds) return undefined;
    return { provider, model: modelName(id), api: p.api, key: creds.key, baseUrl: creds.baseUrl, fingerprint: `${p.api}|${creds.baseUrl}|${creds.key}` };
  }

  private cached<T>(slot: string, fingerprint: string, build: () => T): T {
    const hit = this.cache.get(slot);
    if (hit?.fingerprint === fingerprint) return hit.client as T;
    const client = build();
    this.cache.set(slot, { fingerprint, client });
    return client;
  }
}
