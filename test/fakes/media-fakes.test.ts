import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { tavily } from "@tavily/core";
import OpenAI, { toFile } from "openai";
import Replicate, { type ApiError, type Prediction } from "replicate";
import { ElevenLabsClient, ElevenLabsError, ElevenLabsTimeoutError } from "@elevenlabs/elevenlabs-js";
import { startTavilyFake, type TavilyFake } from "./tavily-fake.js";
import { startPerplexityFake, type PerplexityFake } from "./perplexity-fake.js";
import { PNG_SIGNATURE, startReplicateFake, type ReplicateFake } from "./replicate-fake.js";
import { expectedAudioBytes, startElevenLabsFake, type ElevenLabsFake } from "./elevenlabs-fake.js";
import { DEFAULT_TRANSCRIPT, startTranscriptionFake, type TranscriptionFake } from "./transcription-fake.js";

let tav: TavilyFake;
let pplx: PerplexityFake;
let rep: ReplicateFake;
let eleven: ElevenLabsFake;
let stt: TranscriptionFake;

beforeAll(async () => {
  [tav, pplx, rep, eleven, stt] = await Promise.all([
    startTavilyFake(),
    startPerplexityFake(),
    startReplicateFake(),
    startElevenLabsFake(),
    startTranscriptionFake(),
  ]);
});
afterAll(() => Promise.all([tav, pplx, rep, eleven, stt].map((f) => f?.close())));
beforeEach(() => {
  for (const f of [tav, pplx, rep, eleven, stt]) f.reset();
});

/** The rejection of `p`, failing the test if it resolves. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected the promise to reject");
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------

describe("tavily fake (@tavily/core)", () => {
  const client = () => tavily({ apiKey: "tvly-test", apiBaseURL: tav.url });

  it("returns three deterministic results and records the Bearer key and snake_case body", async () => {
    const res = await client().search("Best pizza in Naples", {
      topic: "news",
      searchDepth: "advanced",
      includeDomains: ["news.example.com"],
      includeAnswer: true,
      includeRawContent: "markdown",
    });
    expect(res.query).toBe("Best pizza in Naples");
    expect(res.results).toHaveLength(3);
    expect(res.results[0]).toMatchObject({
      title: "Best pizza in Naples — result 1",
      url: "https://news.example.com/best-pizza-in-naples-1",
      score: 0.9,
      publishedDate: expect.any(String),
      rawContent: expect.stringContaining("Snippet 1 about Best pizza in Naples"),
    });
    expect(res.answer).toContain("Best pizza in Naples");
    expect(res.responseTime).toBeTypeOf("number");
    expect(res.requestId).toBeTypeOf("string");

    const [req] = tav.requests;
    expect(req).toMatchObject({ method: "POST", path: "/search" });
    expect(req?.headers["authorization"]).toBe("Bearer tvly-test");
    expect(req?.body).toMatchObject({
      query: "Best pizza in Naples",
      topic: "news",
      search_depth: "advanced",
      include_domains: ["news.example.com"],
      include_answer: true,
    });
  });

  it("honours max_results and serves scripted results verbatim", async () => {
    const five = await client().search("rust async", { maxResults: 5 });
    expect(five.results.map((r) => r.url)).toEqual([1, 2, 3, 4, 5].map((n) => `https://example.org/rust-async-${n}`));
    expect(tav.requests[0]?.body.max_results).toBe(5);
    expect(five.results[0]?.rawContent).toBeNull();

    tav.enqueue({ results: [{ title: "Only", url: "https://only.example/x", content: "c", score: 0.5, published_date: "2024-01-01" }], answer: "scripted" });
    const one = await client().search("anything");
    expect(one.answer).toBe("scripted");
    expect(one.results).toEqual([expect.objectContaining({ title: "Only", url: "https://only.example/x", score: 0.5, publishedDate: "2024-01-01" })]);
  });

  it("rejects a bad key with Tavily's error text (the SDK drops the status)", async () => {
    const err = await rejection(tavily({ apiKey: "bad-key", apiBaseURL: tav.url }).search("x"));
    expect(err.message).toBe("Unauthorized: missing or invalid API key.");
    expect(tav.requests).toHaveLength(1);
  });

  it("surfaces a status fault as a plain Error carrying detail.error", async () => {
    tav.enqueue({ fault: { kind: "status", status: 429, retryAfter: 2 } });
    const err = await rejection(client().search("x"));
    expect(err.message).toMatch(/excessive requests/);
  });

  it("hang: the request is recorded and the SDK's own timeout fires", async () => {
    tav.enqueue({ fault: { kind: "hang" } });
    const pending = rejection(client().search("slow", { timeout: 0.2 }));
    await tav.waitForRequests(1);
    expect((await pending).message).toBe("Request timed out after 0.2 seconds.");
  });
});

// ---------------------------------------------------------------------------------------------

describe("perplexity fake (openai SDK)", () => {
  const client = (apiKey = "pplx-test") => new OpenAI({ apiKey, baseURL: pplx.url, maxRetries: 0 });
  const ask = (content: string) => ({ model: "sonar", messages: [{ role: "user" as const, content }] });

  it("answers at the root /chat/completions with [n] markers, citations and search_results", async () => {
    const { data, response } = await client().chat.completions.create(ask("Who won the 2022 World Cup?")).withResponse();
    expect(data.choices[0]?.message.content).toMatch(/\[1\].*\[2\]/);
    const extra = data as unknown as { citations: string[]; search_results: Array<{ title: string; url: string; date: string }> };
    expect(extra.citations).toEqual(["https://example.org/who-won-the-2022-world-cup-1", "https://example.com/who-won-the-2022-world-cup-2"]);
    expect(extra.search_results.map((r) => r.url)).toEqual(extra.citations);
    expect(extra.search_results[0]).toMatchObject({ title: expect.any(String), date: expect.any(String) });
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    expect(data.usage?.total_tokens).toBeGreaterThan(0);

    const [req] = pplx.requests;
    expect(req).toMatchObject({ method: "POST", path: "/chat/completions", body: { model: "sonar" } });
    expect(req?.headers["authorization"]).toBe("Bearer pplx-test");
  });

  it("serves a scripted { text, citations } and streams citations on every chunk", async () => {
    pplx.enqueue({ text: "scripted [1]", citations: ["https://a.example/1"] });
    const res = await client().chat.completions.create(ask("q"));
    expect(res.choices[0]?.message.content).toBe("scripted [1]");
    expect((res as unknown as { citations: string[] }).citations).toEqual(["https://a.example/1"]);

    pplx.enqueue({ text: "streamed answer [1]", citations: ["https://b.example/1"], chunks: 3 });
    const stream = await client().chat.completions.create({ ...ask("q"), stream: true });
    let text = "";
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      expect((chunk as unknown as { citations: string[] }).citations).toEqual(["https://b.example/1"]);
    }
    expect(chunks).toBe(3);
    expect(text).toBe("streamed answer [1]");
  });

  it("a bad key gets Perplexity's HTML 401, surfacing as AuthenticationError", async () => {
    const err = await rejection(client("bad-key").chat.completions.create(ask("q")));
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.message).toContain("401 Authorization Required");
  });

  it("status and hang faults surface as the SDK's errors", async () => {
    pplx.enqueue({ fault: { kind: "status", status: 429, retryAfter: 3 } });
    const rate = await rejection(client().chat.completions.create(ask("q")));
    expect(rate).toBeInstanceOf(OpenAI.RateLimitError);
    expect((rate as InstanceType<typeof OpenAI.RateLimitError>).headers.get("retry-after")).toBe("3");

    pplx.enqueue({ fault: { kind: "hang" } });
    const hung = rejection(client().chat.completions.create(ask("q"), { timeout: 200 }));
    await pplx.waitForRequests(2);
    expect(await hung).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });
});

// ---------------------------------------------------------------------------------------------

describe("replicate fake (replicate SDK)", () => {
  const client = (auth = "r8_test") => new Replicate({ auth, baseUrl: rep.url });
  const VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa";

  it("files.create uploads a Buffer; a prediction references it, polls to success, and its output is a PNG", async () => {
    const replicate = client();
    const upload = Buffer.concat([PNG_SIGNATURE, Buffer.alloc(100, 1)]);
    const file = await replicate.files.create(upload, { purpose: "test" });
    expect(file).toMatchObject({ size: 108, content_type: "image/png", metadata: { purpose: "test" } });
    expect(file.urls.get).toBe(`${rep.url}/files/${file.id}`);
    const uploadReq = rep.requests[0];
    expect(uploadReq).toMatchObject({ method: "POST", path: "/v1/files" });
    expect(uploadReq?.headers["authorization"]).toBe("Bearer r8_test");
    expect(uploadReq?.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    expect(uploadReq?.body.files).toEqual([
      expect.objectContaining({ field: "content", filename: expect.stringMatching(/^buffer_/), size: 108 }),
      expect.objectContaining({ field: "metadata", contentType: "application/json" }),
    ]);

    const created = await replicate.predictions.create({ version: VERSION, input: { image: file.urls.get, prompt: "a cat" } });
    expect(created).toMatchObject({ status: "starting", version: VERSION, input: { image: file.urls.get, prompt: "a cat" } });
    expect(created.urls.get).toBe(`${rep.url}/predictions/${created.id}`);

    const seen: string[] = [];
    const done = await replicate.wait(created, { interval: 1 }, async (p) => (seen.push(p.status), false));
    expect(seen).toEqual(["processing"]);
    expect(done.status).toBe("succeeded");
    expect(rep.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /v1/files",
      "POST /v1/predictions",
      `GET /v1/predictions/${created.id}`,
      `GET /v1/predictions/${created.id}`,
    ]);

    const png = Buffer.from(await (await fetch(done.output as string)).arrayBuffer());
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(png.subarray(-8, -4).toString("latin1")).toBe("IEND");
  });

  it("uploads Buffer inputs automatically and serves list outputs, padded to a size, for models/{owner}/{name}", async () => {
    rep.enqueue({ outcome: "succeed", polls: 0, output: "list", bytes: 300_000 });
    const replicate = client();
    const created = await replicate.predictions.create({ model: "acme/painter", input: { image: Buffer.from("raw bytes") } });
    expect(rep.requests.map((r) => r.path)).toEqual(["/v1/files", "/v1/models/acme/painter/predictions"]);
    expect(created.model).toBe("acme/painter");
    expect(created.input).toEqual({ image: expect.stringMatching(new RegExp(`^${rep.url}/files/`)) });

    const done = await replicate.predictions.get(created.id);
    expect(done.status).toBe("succeeded");
    expect(done.output).toHaveLength(2);
    for (const url of done.output as string[]) {
      const res = await fetch(url);
      expect(res.headers.get("content-type")).toBe("image/png");
      const png = Buffer.from(await res.arrayBuffer());
      expect(png.length).toBeGreaterThanOrEqual(300_000);
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    }
    const direct = Buffer.from(await (await fetch(rep.outputUrl("any.png"))).arrayBuffer());
    expect(direct.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  });

  it("run() uses sync mode (Prefer: wait) and returns the http URL as a plain string", async () => {
    const output = await client().run("acme/painter", { input: { prompt: "x" } });
    expect(rep.requests[0]?.headers["prefer"]).toBe("wait");
    expect(typeof output).toBe("string");
    expect(output).toMatch(new RegExp(`^${rep.url.replace("/v1", "")}/files/.+\\.png$`));
  });

  it("fail: polling ends in status failed with the error, and wait() throws", async () => {
    rep.enqueue({ outcome: "fail", error: "CUDA out of memory" }, { outcome: "fail", error: "bad input", polls: 0 });
    const replicate = client();
    const a = await replicate.predictions.create({ version: VERSION, input: {} });
    expect((await rejection(replicate.wait(a, { interval: 1 }))).message).toBe("Prediction failed: CUDA out of memory");

    const b = await replicate.predictions.create({ version: VERSION, input: {} });
    const failed = await replicate.predictions.get(b.id);
    expect(failed).toMatchObject({ status: "failed", error: "bad input", output: null });
  });

  it("never + predictions.cancel -> canceled", async () => {
    rep.enqueue({ outcome: "never" });
    const replicate = client();
    const created = await replicate.predictions.create({ version: VERSION, input: {} });
    let polls = 0;
    const stopped = await replicate.wait(created, { interval: 1 }, async () => ++polls >= 3);
    expect(stopped.status).toBe("processing");
    const canceled = await replicate.predictions.cancel(created.id);
    expect(canceled.status).toBe("canceled");
    expect((await replicate.predictions.get(created.id)).status).toBe("canceled");
    expect(rep.requests.at(-2)).toMatchObject({ method: "POST", path: `/v1/predictions/${created.id}/cancel` });
  });

  it("status faults surface as ApiError; the SDK retries a POST only on 429", async () => {
    const replicate = client();
    rep.enqueue({ fault: { kind: "status", status: 500 } });
    const err = (await rejection(replicate.predictions.create({ version: VERSION, input: {} }))) as ApiError;
    expect(err.name).toBe("ApiError");
    expect(err.response.status).toBe(500);
    expect(err.message).toMatch(/failed with status 500/);
    expect(rep.requests).toHaveLength(1);

    rep.reset();
    rep.enqueue({ fault: { kind: "status", status: 429 } });
    const p: Prediction = await replicate.predictions.create({ version: VERSION, input: {} });
    expect(p.status).toBe("starting");
    expect(rep.requests).toHaveLength(2);

    const unauth = (await rejection(client("bad-key").predictions.get(p.id))) as ApiError;
    expect(unauth.response.status).toBe(401);
    expect(unauth.message).toContain("valid authentication token");
  });
});

// ---------------------------------------------------------------------------------------------

describe("elevenlabs fake (@elevenlabs/elevenlabs-js)", () => {
  const client = (apiKey = "el-test") => new ElevenLabsClient({ apiKey, baseUrl: eleven.url, maxRetries: 0 });
  const text = "Hello there, this is a test of the fake text to speech.";

  it("convert streams fake MP3 bytes whose length encodes the duration", async () => {
    const stream = await client().textToSpeech.convert("voice123", {
      text,
      modelId: "eleven_multilingual_v2",
      outputFormat: "mp3_44100_128",
      voiceSettings: { stability: 0.5, similarityBoost: 0.7 },
    });
    const audio = await readAll(stream);
    expect(audio.length).toBe(Math.round(text.length * 0.06 * 16000));
    expect(audio.length).toBe(expectedAudioBytes(text.length));
    expect([...audio.subarray(0, 2)]).toEqual([0xff, 0xfb]);

    const [req] = eleven.requests;
    expect(req).toMatchObject({ method: "POST", path: "/v1/text-to-speech/voice123", query: { output_format: "mp3_44100_128" } });
    expect(req?.headers["xi-api-key"]).toBe("el-test");
    expect(req?.body).toEqual({ text, model_id: "eleven_multilingual_v2", voice_settings: { stability: 0.5, similarity_boost: 0.7 } });
  });

  it("pcm_16000 is 32000 bytes of silence per second", async () => {
    const audio = await readAll(await client().textToSpeech.convert("v", { text: "x".repeat(50), outputFormat: "pcm_16000" }));
    expect(audio.length).toBe(3 * 32000);
    expect(audio.every((b) => b === 0)).toBe(true);
  });

  it("a bad key and status faults surface as ElevenLabsError with the detail body", async () => {
    const unauth = (await rejection(client("bad-key").textToSpeech.convert("v", { text: "hi" }))) as ElevenLabsError;
    expect(unauth).toBeInstanceOf(ElevenLabsError);
    expect(unauth.statusCode).toBe(401);
    expect(unauth.body).toEqual({ detail: { status: "invalid_api_key", message: "Invalid API key" } });

    eleven.enqueue({ fault: { kind: "status", status: 429 } });
    const busy = (await rejection(client().textToSpeech.convert("v", { text: "hi" }))) as ElevenLabsError;
    expect(busy.statusCode).toBe(429);
    expect(busy.body).toMatchObject({ detail: { status: "too_many_concurrent_requests" } });
  });

  it("hang: the SDK's timeout surfaces as a plain ElevenLabsError('\"timeout\"'), not ElevenLabsTimeoutError", async () => {
    eleven.enqueue({ fault: { kind: "hang" } });
    const pending = rejection(client().textToSpeech.convert("v", { text: "hi" }, { timeoutInSeconds: 0.2 }));
    await eleven.waitForRequests(1);
    const err = (await pending) as ElevenLabsError;
    // The fetcher aborts with the string reason "timeout", which misses its `error.name === "AbortError"` check.
    expect(err).toBeInstanceOf(ElevenLabsError);
    expect(err).not.toBeInstanceOf(ElevenLabsTimeoutError);
    expect(err.statusCode).toBeUndefined();
    expect(err.message).toContain("timeout");
  });
});

// ---------------------------------------------------------------------------------------------

describe("transcription fake (openai SDK audio.transcriptions)", () => {
  const client = (apiKey = "sk-test") => new OpenAI({ apiKey, baseURL: stt.url, maxRetries: 0 });
  const audio = () => toFile(Buffer.alloc(48_000, 0xaa), "speech.mp3", { type: "audio/mpeg" });

  it("json: returns { text } and records the multipart upload", async () => {
    const res = await client().audio.transcriptions.create({ file: await audio(), model: "whisper-1" });
    expect(res.text).toBe(DEFAULT_TRANSCRIPT);
    const [req] = stt.requests;
    expect(req).toMatchObject({ method: "POST", path: "/v1/audio/transcriptions" });
    expect(req?.headers["authorization"]).toBe("Bearer sk-test");
    expect(req?.body.fields).toMatchObject({ model: "whisper-1" });
    expect(req?.body.files).toEqual([{ field: "file", filename: "speech.mp3", size: 48_000, contentType: "audio/mpeg" }]);
  });

  it("text: a plain string with OpenAI's trailing newline", async () => {
    const res = await client().audio.transcriptions.create({ file: await audio(), model: "whisper-1", response_format: "text" });
    expect(res).toBe(`${DEFAULT_TRANSCRIPT}\n`);
  });

  it("verbose_json: duration, language and segments; scripted segments pass through", async () => {
    const res = await client().audio.transcriptions.create({
      file: await audio(),
      model: "whisper-1",
      response_format: "verbose_json",
      timestamp_granularities: ["segment"],
    });
    expect(res).toMatchObject({ task: "transcribe", language: "english", duration: 3, text: DEFAULT_TRANSCRIPT });
    expect(res.segments).toHaveLength(1);
    expect(res.segments?.[0]).toMatchObject({ id: 0, start: 0, end: 3, text: ` ${DEFAULT_TRANSCRIPT}`, tokens: [], avg_logprob: -0.2 });
    expect(stt.requests[0]?.body.fields).toMatchObject({ response_format: "verbose_json", "timestamp_granularities[]": "segment" });

    stt.enqueue({
      text: "one. two.",
      segments: [
        { start: 0, end: 1.5, text: "one." },
        { start: 1.5, end: 2.5, text: "two." },
      ],
    });
    const scripted = await client().audio.transcriptions.create({ file: await audio(), model: "whisper-1", response_format: "verbose_json" });
    expect(scripted.text).toBe("one. two.");
    expect(scripted.segments?.map((s) => [s.start, s.end, s.text])).toEqual([
      [0, 1.5, "one."],
      [1.5, 2.5, "two."],
    ]);
  });

  it("bad key and status faults surface as the openai SDK's errors", async () => {
    const unauth = await rejection(client("bad-key").audio.transcriptions.create({ file: await audio(), model: "whisper-1" }));
    expect(unauth).toBeInstanceOf(OpenAI.AuthenticationError);

    stt.enqueue({ fault: { kind: "status", status: 429 } });
    const rate = await rejection(client().audio.transcriptions.create({ file: await audio(), model: "whisper-1" }));
    expect(rate).toBeInstanceOf(OpenAI.RateLimitError);
    expect((rate as InstanceType<typeof OpenAI.RateLimitError>).code).toBe("rate_limit_exceeded");
  });
});
