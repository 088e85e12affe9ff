import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { SwitchboardConfig } from "../../src/config/schema.js";
import { AnthropicAdapter } from "../../src/providers/anthropic.js";
import { ElevenLabsAdapter } from "../../src/providers/elevenlabs.js";
import { OpenAITranscriber } from "../../src/providers/openai-audio.js";
import { OpenAIAdapter } from "../../src/providers/openai.js";
import { ProviderRegistry } from "../../src/providers/registry.js";
import { ReplicateAdapter } from "../../src/providers/replicate.js";
import { PerplexityAdapter, TavilyAdapter } from "../../src/providers/retrieval.js";
import { startTavilyFake, type TavilyFake } from "../fakes/tavily-fake.js";
import { startTranscriptionFake, type TranscriptionFake } from "../fakes/transcription-fake.js";

const SHIPPED = loadConfig({ env: {} }).config;

let config: SwitchboardConfig;
let env: NodeJS.ProcessEnv;
let reg: ProviderRegistry;

beforeEach(() => {
  config = structuredClone(SHIPPED);
  env = {};
  reg = new ProviderRegistry(() => config, env);
});

/** Points a provider somewhere else the way a config reload does: a new config object. */
function moveProvider(name: string, baseUrl: string) {
  config = { ...config, providers: { ...config.providers, [name]: { ...config.providers[name]!, baseUrl } } };
}

type Accessor = (r: ProviderRegistry) => unknown;

// [what, key env, accessor, the class it builds]
const ACCESSORS: Array<[string, string, Accessor, abstract new (...a: never[]) => unknown]> = [
  ["adapter(openai)", "OPENAI_API_KEY", (r) => r.adapter("openai"), OpenAIAdapter],
  ["adapter(anthropic)", "ANTHROPIC_API_KEY", (r) => r.adapter("anthropic"), AnthropicAdapter],
  ["adapter(openrouter)", "OPENROUTER_API_KEY", (r) => r.adapter("openrouter"), OpenAIAdapter],
  ["retrieval(tavily:advanced)", "TAVILY_API_KEY", (r) => r.retrieval("tavily:advanced"), TavilyAdapter],
  ["retrieval(perplexity:sonar-pro)", "PERPLEXITY_API_KEY", (r) => r.retrieval("perplexity:sonar-pro"), PerplexityAdapter],
  ["media(replicate:…)", "REPLICATE_API_TOKEN", (r) => r.media("replicate:851-labs/background-remover"), ReplicateAdapter],
  ["voice(elevenlabs:…)", "ELEVENLABS_API_KEY", (r) => r.voice("elevenlabs:eleven_multilingual_v2"), ElevenLabsAdapter],
  ["transcriber(openai:whisper-1)", "OPENAI_API_KEY", (r) => r.transcriber("openai:whisper-1"), OpenAITranscriber],
];

const PROVIDER_OF: Record<string, string> = {
  OPENAI_API_KEY: "openai",
  ANTHROPIC_API_KEY: "anthropic",
  OPENROUTER_API_KEY: "openrouter",
  TAVILY_API_KEY: "tavily",
  PERPLEXITY_API_KEY: "perplexity",
  REPLICATE_API_TOKEN: "replicate",
  ELEVENLABS_API_KEY: "elevenlabs",
};

describe.each(ACCESSORS)("%s", (_what, keyEnv, get, cls) => {
  it("is undefined without a key", () => {
    expect(get(reg)).toBeUndefined();
  });

  it.each([[""], ["   "], [`\${${keyEnv}}`], ["${}"]])("counts %j as unset", (value) => {
    env[keyEnv] = value;
    expect(get(reg)).toBeUndefined();
  });

  it("builds with a key, and caches what it built", () => {
    env[keyEnv] = "key-one-1234";
    const a = get(reg);
    expect(a).toBeInstanceOf(cls);
    expect(get(reg)).toBe(a);
  });

  it("rebuilds when the key changes, and when it changes back", () => {
    env[keyEnv] = "key-one-1234";
    const a = get(reg);
    env[keyEnv] = "key-two-5678";
    const b = get(reg);
    expect(b).toBeInstanceOf(cls);
    expect(b).not.toBe(a);
    expect(get(reg)).toBe(b);
    env[keyEnv] = "key-one-1234";
    expect(get(reg)).not.toBe(b);
  });

  it("rebuilds when the base URL changes, not when other config changes", () => {
    env[keyEnv] = "key-one-1234";
    const a = get(reg);
    config = { ...config, jobSettings: structuredClone(config.jobSettings) };
    expect(get(reg)).toBe(a);
    moveProvider(PROVIDER_OF[keyEnv]!, "http://127.0.0.1:9/v1");
    const b = get(reg);
    expect(b).toBeInstanceOf(cls);
    expect(b).not.toBe(a);
  });

  it("goes back to undefined when the key is removed", () => {
    env[keyEnv] = "key-one-1234";
    expect(get(reg)).toBeDefined();
    env[keyEnv] = "";
    expect(get(reg)).toBeUndefined();
  });
});

describe("LLM adapters", () => {
  it("a keyless local provider is built only when enabled", () => {
    expect(reg.adapter("ollama")).toBeUndefined();
    config.providers.ollama!.enabled = true;
    const a = reg.adapter("ollama");
    expect(a).toBeInstanceOf(OpenAIAdapter);
    expect(a!.provider).toBe("ollama");
    expect(reg.adapter("ollama")).toBe(a);
  });

  it("service providers and unknown providers have no LLM adapter", () => {
    Object.assign(env, { TAVILY_API_KEY: "t-1234", REPLICATE_API_TOKEN: "r8-1234", ELEVENLABS_API_KEY: "el-1234" });
    for (const p of ["tavily", "replicate", "elevenlabs", "nope"]) expect(reg.adapter(p)).toBeUndefined();
  });

  it("the LLM adapter and the transcriber of one provider are separate clients, each cached", () => {
    env.OPENAI_API_KEY = "sk-test-1234567890";
    const llm = reg.adapter("openai");
    const stt = reg.transcriber("openai:whisper-1");
    expect(llm).toBeInstanceOf(OpenAIAdapter);
    expect(stt).toBeInstanceOf(OpenAITranscriber);
    expect(reg.adapter("openai")).toBe(llm);
    expect(reg.transcriber("openai:gpt-4o-mini-transcribe")).toBe(stt);
  });
});

describe("service accessors", () => {
  beforeEach(() => {
    Object.assign(env, {
      OPENAI_API_KEY: "sk-test-1234567890",
      ANTHROPIC_API_KEY: "ant-1234",
      TAVILY_API_KEY: "tvly-1234",
      PERPLEXITY_API_KEY: "pplx-1234",
      REPLICATE_API_TOKEN: "r8-1234",
      ELEVENLABS_API_KEY: "el-1234",
    });
  });

  it("are undefined for a provider that does not speak that kind of API", () => {
    expect(reg.retrieval("openai:gpt-4.1")).toBeUndefined();
    expect(reg.retrieval("replicate:x/y")).toBeUndefined();
    expect(reg.media("openai:gpt-image-1")).toBeUndefined();
    expect(reg.media("tavily:advanced")).toBeUndefined();
    expect(reg.voice("openai:tts-1")).toBeUndefined();
    expect(reg.voice("replicate:x/y")).toBeUndefined();
    expect(reg.transcriber("elevenlabs:scribe_v1")).toBeUndefined();
    expect(reg.transcriber("anthropic:claude-haiku-4-5")).toBeUndefined();
  });

  it("are undefined for an unknown provider or an id that is not provider:model", () => {
    expect(reg.retrieval("bing:web")).toBeUndefined();
    expect(reg.media("replicate")).toBeUndefined();
    expect(reg.voice("elevenlabs")).toBeUndefined();
    expect(reg.transcriber("openai")).toBeUndefined();
  });

  it("services are never keyless: an enabled local provider still needs a key for transcription", () => {
    config.providers.ollama!.enabled = true;
    expect(reg.adapter("ollama")).toBeDefined();
    expect(reg.transcriber("ollama:whisper")).toBeUndefined();
  });

  it("retrieval adapters are per model (Tavily's depth and Perplexity's model are part of the adapter)", () => {
    const advanced = reg.retrieval("tavily:advanced");
    const basic = reg.retrieval("tavily:basic");
    expect(basic).not.toBe(advanced);
    expect(reg.retrieval("tavily:basic")).toBe(basic);
    expect(reg.retrieval("perplexity:sonar")).not.toBe(reg.retrieval("perplexity:sonar-pro"));
    expect(reg.retrieval("perplexity:sonar")!.provider).toBe("perplexity");
  });

  it("media, voice and transcription clients are per provider (the model is named per call)", () => {
    expect(reg.media("replicate:a/b")).toBe(reg.media("replicate:c/d"));
    expect(reg.voice("elevenlabs:eleven_multilingual_v2")).toBe(reg.voice("elevenlabs:eleven_flash_v2_5"));
    expect(reg.transcriber("openai:whisper-1")).toBe(reg.transcriber("openai:gpt-4o-mini-transcribe"));
  });

  it("dispatches on the provider's api, so a second Tavily or Replicate account works under its own name", () => {
    config.providers["tavily-eu"] = { ...config.providers.tavily!, apiKeyEnv: "TAVILY_EU_KEY" };
    config.providers["replicate-team"] = { ...config.providers.replicate!, apiKeyEnv: "REPLICATE_TEAM_TOKEN" };
    expect(reg.retrieval("tavily-eu:basic")).toBeUndefined();
    env.TAVILY_EU_KEY = "tvly-eu-1234";
    env.REPLICATE_TEAM_TOKEN = "r8-team-1234";
    expect(reg.retrieval("tavily-eu:basic")).toBeInstanceOf(TavilyAdapter);
    expect(reg.retrieval("tavily-eu:basic")).not.toBe(reg.retrieval("tavily:basic"));
    expect(reg.media("replicate-team:a/b")).toBeInstanceOf(ReplicateAdapter);
    expect(reg.media("replicate-team:a/b")).not.toBe(reg.media("replicate:a/b"));
  });
});

describe("a rebuilt client talks to the new base URL with the new key", () => {
  let tavA: TavilyFake;
  let tavB: TavilyFake;
  let sttA: TranscriptionFake;
  let sttB: TranscriptionFake;
  beforeAll(async () => {
    [tavA, tavB, sttA, sttB] = await Promise.all([startTavilyFake(), startTavilyFake(), startTranscriptionFake(), startTranscriptionFake()]);
  });
  afterAll(async () => {
    await Promise.all([tavA, tavB, sttA, sttB].map((f) => f?.close()));
  });

  const q = { question: "what changed", kind: "news" as const, maxSources: 2 };
  const signal = () => AbortSignal.timeout(10000);

  it("retrieval (Tavily, depth from the model name)", async () => {
    moveProvider("tavily", tavA.url);
    env.TAVILY_API_KEY = "tvly-first-1111";
    await reg.retrieval("tavily:basic")!.retrieve(q, signal());
    moveProvider("tavily", tavB.url);
    env.TAVILY_API_KEY = "tvly-second-2222";
    await reg.retrieval("tavily:basic")!.retrieve(q, signal());
    expect(tavA.requests).toHaveLength(1);
    expect(tavB.requests).toHaveLength(1);
    expect(tavA.requests[0]!.headers["authorization"]).toBe("Bearer tvly-first-1111");
    expect(tavB.requests[0]!.headers["authorization"]).toBe("Bearer tvly-second-2222");
    expect((tavB.requests[0]!.body as Record<string, unknown>).search_depth).toBe("basic");
  });

  it("transcription", async () => {
    const audio = { data: Buffer.from("RIFF0000WAVEfmt "), name: "a.wav", mimeType: "audio/wav", model: "whisper-1" };
    moveProvider("openai", sttA.url);
    env.OPENAI_API_KEY = "sk-test-first-1111";
    await reg.transcriber("openai:whisper-1")!.transcribe(audio, signal());
    moveProvider("openai", sttB.url);
    env.OPENAI_API_KEY = "sk-test-second-2222";
    await reg.transcriber("openai:whisper-1")!.transcribe(audio, signal());
    expect(sttA.requests.map((r) => r.headers["authorization"])).toEqual(["Bearer sk-test-first-1111"]);
    expect(sttB.requests.map((r) => r.headers["authorization"])).toEqual(["Bearer sk-test-second-2222"]);
  });
});
