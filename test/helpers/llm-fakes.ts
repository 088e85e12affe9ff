// The two LLM provider fakes (OpenAI and Anthropic) side by side, the keys a Runtime gets for them,
// and the env that points a Runtime at them.
import { startOpenAIFake, type FakeServer, type RecordedRequest } from "../fakes/openai-fake.js";
import { startAnthropicFake } from "../fakes/anthropic-fake.js";

export type { FakeServer, RecordedRequest };

/** Distinctive keys: one shaped like an OpenAI key, one that no key pattern would catch. */
export const KEYS = { openai: "sk-test-SECRETKEY-123", anthropic: "ant-test-SECRETKEY-456" } as const;
/** What must never appear in a result when a Runtime holds KEYS. */
export const SECRETS = [KEYS.openai, KEYS.anthropic, "SECRETKEY"];

export interface Fakes {
  openai: FakeServer;
  anthropic: FakeServer;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakes(): Promise<Fakes> {
  const [openai, anthropic] = await Promise.all([startOpenAIFake(), startAnthropicFake()]);
  return {
    openai,
    anthropic,
    reset: () => {
      openai.reset();
      anthropic.reset();
    },
    close: async () => {
      await Promise.all([openai.close(), anthropic.close()]);
    },
  };
}

/** The env a Runtime gets: both keys and base URLs pointing at the fakes (or other URLs). */
export function fakeEnv(urls: { openai: string; anthropic: string }): NodeJS.ProcessEnv {
  return { OPENAI_API_KEY: KEYS.openai, ANTHROPIC_API_KEY: KEYS.anthropic, OPENAI_BASE_URL: urls.openai, ANTHROPIC_BASE_URL: urls.anthropic };
}

/** Requests a fake received for one model (the provider's own name, e.g. "gpt-4.1-mini"). */
export function requestsFor(fake: FakeServer, model: string): RecordedRequest[] {
  return fake.requests.filter((r) => r.body?.model === model);
}
