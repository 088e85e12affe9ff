// Service adapters' errors as the real SDKs raise them (against the loopback fakes), through
// each adapter's own normalisation and then toProviderFailure.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ElevenLabsAdapter } from "../../src/providers/elevenlabs.js";
import { ProviderFailure, toProviderFailure } from "../../src/providers/errors.js";
import { OpenAITranscriber } from "../../src/providers/openai-audio.js";
import { ReplicateAdapter } from "../../src/providers/replicate.js";
import { PerplexityAdapter, TavilyAdapter } from "../../src/providers/retrieval.js";
import { startElevenLabsFake, type ElevenLabsFake } from "../fakes/elevenlabs-fake.js";
import { startPerplexityFake, type PerplexityFake } from "../fakes/perplexity-fake.js";
import { startReplicateFake, type ReplicateFake } from "../fakes/replicate-fake.js";
import { startTavilyFake, type TavilyFake } from "../fakes/tavily-fake.js";
import { startTranscriptionFake, type TranscriptionFake } from "../fakes/transcription-fake.js";

const KEY = "svc-SECRET-KEY-0123456789";

async function failure(p: Promise<unknown>, provider: string): Promise<ProviderFailure> {
  try {
    await p;
  } catch (err) {
    const f = toProviderFailure(err, { provider, secrets: [KEY] });
    expect(f.message).not.toContain(KEY);
    return f;
  }
  throw new Error("expected the call to fail");
}

const signal = () => AbortSignal.timeout(10000);
const pick = (f: ProviderFailure) => ({ code: f.code, retryable: f.retryable, status: f.status, retryAfterMs: f.retryAfterMs });

let tav: TavilyFake;
let pplx: PerplexityFake;
let rep: ReplicateFake;
let el: ElevenLabsFake;
let stt: TranscriptionFake;

beforeAll(async () => {
  [tav, pplx, rep, el, stt] = await Promise.all([startTavilyFake(), startPerplexityFake(), startReplicateFake(), startElevenLabsFake(), startTranscriptionFake()]);
});
afterAll(async () => {
  await Promise.all([tav, pplx, rep, el, stt].map((f) => f?.close()));
});
beforeEach(() => {
  for (const f of [tav, pplx, rep, el, stt]) f.reset();
});

describe("Tavily (@tavily/core throws message-only errors)", () => {
  const q = { question: "q", kind: "web" as const, maxSources: 3 };
  const search = (key = KEY) => new TavilyAdapter({ apiKey: key, baseUrl: tav.url }, "advanced").retrieve(q);

  it.each([
    [401, { code: "auth_failed", retryable: false, status: 401, retryAfterMs: undefined }],
    [403, { code: "auth_failed", retryable: false, status: 401, retryAfterMs: undefined }],
    [429, { code: "rate_limited", retryable: true, status: 429, retryAfterMs: undefined }],
    [432, { code: "rate_limited", retryable: true, status: 429, retryAfterMs: undefined }],
    [433, { code: "rate_limited", retryable: true, status: 429, retryAfterMs: undefined }],
    [500, { code: "provider_unavailable", retryable: true, status: undefined, retryAfterMs: undefined }],
  ])("%i", async (status, want) => {
    tav.enqueue({ fault: { kind: "status", status } });
    expect(pick(await failure(search(), "tavily"))).toEqual(want);
  });

  it("a rejected key", async () => {
    expect(pick(await failure(search("bad-key"), "tavily"))).toMatchObject({ code: "auth_failed", status: 401 });
  });

  it("a key echoed in the message is scrubbed", async () => {
    tav.enqueue({ fault: { kind: "status", status: 400, message: `Query rejected for key ${KEY}` } });
    const f = await failure(search(), "tavily");
    expect(f.code).toBe("provider_unavailable");
    expect(f.message).toBe("tavily call failed: Query rejected for key [redacted]");
  });

  it("a reset socket -> provider_unavailable", async () => {
    tav.enqueue({ fault: { kind: "reset" } });
    expect(pick(await failure(search(), "tavily"))).toMatchObject({ code: "provider_unavailable", retryable: true });
  });
});

describe("Perplexity (OpenAI SDK)", () => {
  const ask = () => new PerplexityAdapter({ apiKey: KEY, baseUrl: pplx.url }, "sonar").retrieve({ question: "q", kind: "web", maxSources: 3 }, signal());

  it.each([
    [401, "auth_failed", false],
    [429, "rate_limited", true],
    [400, "invalid_request", false],
    [503, "provider_unavailable", true],
  ] as const)("%i -> %s", async (status, code, retryable) => {
    pplx.enqueue({ fault: { kind: "status", status, retryAfter: 2 } });
    const f = await failure(ask(), "perplexity");
    expect(pick(f)).toMatchObject({ code, retryable, status });
    if (status === 429 || status === 503) expect(f.retryAfterMs).toBe(2000);
  });
});

describe("Replicate (ApiError with a fetch Response)", () => {
  const predict = (token = KEY) =>
    new ReplicateAdapter({ token, baseUrl: rep.url }).predict({ name: "owner/model" }, { image: "https://example.org/a.png" }, { signal: signal(), pollIntervalMs: 5 });

  it.each([
    [401, "auth_failed", false],
    [402, "invalid_request", false],
    [422, "invalid_request", false],
    [500, "provider_unavailable", true],
  ] as const)("create %i -> %s", async (status, code, retryable) => {
    rep.enqueue({ fault: { kind: "status", status } });
    expect(pick(await failure(predict(), "replicate"))).toMatchObject({ code, retryable, status });
  });

  it("create 429 (after the SDK's own retries) -> rate_limited with Retry-After", async () => {
    for (let i = 0; i < 6; i++) rep.enqueue({ fault: { kind: "status", status: 429, retryAfter: 7 } });
    expect(pick(await failure(predict(), "replicate"))).toEqual({ code: "rate_limited", retryable: true, status: 429, retryAfterMs: 7000 });
  });

  it("422's detail reaches the message", async () => {
    rep.enqueue({ fault: { kind: "status", status: 422, message: "- input.image: Does not match format 'uri'" } });
    const f = await failure(predict(), "replicate");
    expect(f.message).toContain("Does not match format 'uri'");
  });

  it("a failed prediction is already a ProviderFailure: not retryable, with the model's reason", async () => {
    rep.enqueue({ outcome: "fail", error: "CUDA out of memory" });
    const f = await failure(predict(), "replicate");
    expect(pick(f)).toMatchObject({ code: "provider_unavailable", retryable: false });
    expect(f.message).toMatch(/^replicate prediction \S+ failed: CUDA out of memory$/);
  });

  it("upload errors are normalised too", async () => {
    const f = await failure(new ReplicateAdapter({ token: "", baseUrl: rep.url }).upload(Buffer.from("x"), "a.png", "image/png", signal()), "replicate");
    expect(pick(f)).toMatchObject({ code: "auth_failed", status: 401 });
  });
});

describe("ElevenLabs (statusCode, body, rawResponse)", () => {
  const speak = (key = KEY) =>
    new ElevenLabsAdapter({ apiKey: key, baseUrl: el.url }).speak({ text: "hello", voiceId: "v1", modelId: "eleven_flash_v2_5", outputFormat: "mp3_44100_128" }, signal());

  it.each([
    [400, "invalid_request", false],
    [401, "auth_failed", false],
    [402, "invalid_request", false],
    [404, "invalid_request", false],
    [500, "provider_unavailable", true],
    [503, "provider_unavailable", true],
  ] as const)("%i -> %s", async (status, code, retryable) => {
    el.enqueue({ fault: { kind: "status", status } });
    expect(pick(await failure(speak(), "elevenlabs"))).toMatchObject({ code, retryable, status });
  });

  it("429 -> rate_limited, with Retry-After read from rawResponse (it used to be dropped)", async () => {
    el.enqueue({ fault: { kind: "status", status: 429, retryAfter: 3 } });
    expect(pick(await failure(speak(), "elevenlabs"))).toEqual({ code: "rate_limited", retryable: true, status: 429, retryAfterMs: 3000 });
  });

  it("the body's message reaches a 4xx failure, a key in it scrubbed", async () => {
    el.enqueue({ fault: { kind: "status", status: 400, message: `voice settings invalid for ${KEY}` } });
    const f = await failure(speak(), "elevenlabs");
    expect(f.message).toContain("voice settings invalid for [redacted]");
  });

  it("a rejected key", async () => {
    expect(pick(await failure(speak("bad-key"), "elevenlabs"))).toMatchObject({ code: "auth_failed", status: 401 });
  });
});

describe("OpenAI transcription", () => {
  const transcribe = (key = KEY) =>
    new OpenAITranscriber({ apiKey: key, baseUrl: stt.url }).transcribe({ data: Buffer.from("RIFF0000WAVEfmt "), name: "a.wav", mimeType: "audio/wav", model: "whisper-1" }, signal());

  it("a rejected key -> auth_failed, the echoed key not repeated", async () => {
    const f = await failure(transcribe("bad-key"), "openai");
    expect(pick(f)).toMatchObject({ code: "auth_failed", status: 401 });
  });

  it("429 with Retry-After", async () => {
    stt.enqueue({ fault: { kind: "status", status: 429, retryAfter: 1 } });
    expect(pick(await failure(transcribe(), "openai"))).toEqual({ code: "rate_limited", retryable: true, status: 429, retryAfterMs: 1000 });
  });
});
