// voiceover (ElevenLabs fake) and transcribe (OpenAI transcription fake) over MCP: saved audio with
// duration, cost and content blocks; fallbacks down the configured chains; auth errors without keys in
// the output; local and http(s) audio inputs.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startMcpHarness, toolOverlay, type Attempt, type ErrorBody, type McpHarness } from "../helpers/mcp-harness.js";
import { expectedAudioBytes, startElevenLabsFake, type ElevenLabsFake } from "../fakes/elevenlabs-fake.js";
import { DEFAULT_TRANSCRIPT, startTranscriptionFake, type TranscriptionFake } from "../fakes/transcription-fake.js";

const KEYS = { elevenlabs: "xi-test-VOICEKEY-5150", openai: "sk-test-VOICEKEY-6160" } as const;
const MAX_INLINE = 2000;
const DEFAULT_VOICE = "JBFqnCBsd6RMkjVDRZzb";

interface VoiceOut {
  file: { path: string; uri: string; mimeType: string; bytes: number };
  durationSeconds?: number;
  voice: string;
  model: string;
  provider: string;
  decision: { mode: string; routedModel: string };
  attempts: Attempt[];
  costUsd: number;
}
interface TranscribeOut {
  text: string;
  language?: string;
  durationSeconds?: number;
  segments: Array<{ start: number; end: number; text: string }>;
  model: string;
  provider: string;
  decision: { mode: string; routedModel: string };
  attempts: Attempt[];
  costUsd: number;
}

let root: string;
let inDir: string;
let outDir: string;
let eleven: ElevenLabsFake;
let stt: TranscriptionFake;
let audioServer: Server;
let audioOrigin: string;
let h: McpHarness;

function startHarness(env: NodeJS.ProcessEnv): Promise<McpHarness> {
  return startMcpHarness({
    env,
    secrets: Object.values(KEYS),
    clientName: "voice-tests",
    parentDir: root,
    prefix: "cfg-",
    overlay: toolOverlay({
      files: { allowedInputDirs: [inDir], outputDir: outDir, maxInlineBytes: MAX_INLINE, maxFileBytes: 1_000_000 },
      jobs: { transcription: { default: ["openai:whisper-1", "openai:gpt-4o-mini-transcribe"] } },
    }),
  });
}

/** `seconds` of 16 kHz mono 16-bit silence as a WAV file: a 44-byte header + 32000 bytes a second. */
function wav(seconds: number): Buffer {
  const data = Math.round(seconds * 16000) * 2;
  const buf = Buffer.alloc(44 + data);
  buf.write("RIFF", 0, "latin1");
  buf.writeUInt32LE(36 + data, 4);
  buf.write("WAVEfmt ", 8, "latin1");
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(16000, 24);
  buf.writeUInt32LE(32000, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write("data", 36, "latin1");
  buf.writeUInt32LE(data, 40);
  return buf;
}

const CLIP = Buffer.alloc(32000, 0x55); // served as /clip.mp3: 2 s at the fake's 16000 bytes/s
const audioRequests: string[] = [];

beforeAll(async () => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "switchboard-voice-")));
  inDir = join(root, "in");
  outDir = join(root, "out");
  mkdirSync(inDir);
  mkdirSync(outDir);
  audioServer = createHttpServer((req, res) => {
    audioRequests.push(req.url ?? "");
    if (req.url === "/clip.mp3") {
      res.writeHead(200, { "content-type": "audio/mpeg", "content-length": String(CLIP.length) });
      res.end(CLIP);
    } else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    }
  });
  await new Promise<void>((resolve) => audioServer.listen(0, "127.0.0.1", () => resolve()));
  audioOrigin = `http://127.0.0.1:${(audioServer.address() as AddressInfo).port}`;
  [eleven, stt] = await Promise.all([startElevenLabsFake(), startTranscriptionFake()]);
  h = await startHarness({ ELEVENLABS_API_KEY: KEYS.elevenlabs, ELEVENLABS_BASE_URL: eleven.url, OPENAI_API_KEY: KEYS.openai, OPENAI_BASE_URL: stt.url });
});
afterAll(async () => {
  await h?.close();
  await Promise.all([eleven?.close(), stt?.close()]);
  audioServer?.closeAllConnections();
  await new Promise<void>((resolve) => (audioServer ? audioServer.close(() => resolve()) : resolve()));
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  eleven.reset();
  stt.reset();
  audioRequests.length = 0;
});

async function ok<T>(name: string, args: Record<string, unknown>, harness = h): Promise<{ out: T; res: CallToolResult }> {
  const { res, out } = await harness.call<T>(name, args);
  expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
  return { out, res };
}
async function fail(name: string, args: Record<string, unknown>, harness = h): Promise<ErrorBody> {
  const { res, err } = await harness.call(name, args);
  expect(res.isError, JSON.stringify(res.structuredContent)).toBe(true);
  return err;
}

describe("voiceover", () => {
  it("saves mp3 (the configured default format) with duration, cost, a resource link and the audio inline when small", async () => {
    const text = "Hi";
    const { out, res } = await ok<VoiceOut>("voiceover", { text });

    const expectedBytes = expectedAudioBytes(text.length, "mp3_44100_128");
    expect(expectedBytes).toBeLessThanOrEqual(MAX_INLINE);
    expect(out.model).toBe("elevenlabs:eleven_multilingual_v2");
    expect(out.provider).toBe("elevenlabs");
    expect(out.voice).toBe(DEFAULT_VOICE);
    expect(out.decision).toMatchObject({ mode: "voice_generation", routedModel: "elevenlabs:eleven_multilingual_v2" });
    expect(out.attempts.map((a) => [a.model, a.outcome]), JSON.stringify(out.attempts)).toEqual([["elevenlabs:eleven_multilingual_v2", "ok"]]);
    expect(out.file.mimeType).toBe("audio/mpeg");
    expect(out.file.bytes).toBe(expectedBytes);
    expect(out.file.path.startsWith(outDir + sep)).toBe(true);
    expect(out.file.path).toMatch(/voiceover-[^/\\]+\.mp3$/);
    const saved = readFileSync(out.file.path);
    expect(saved.length).toBe(expectedBytes);
    expect([...saved.subarray(0, 2)]).toEqual([0xff, 0xfb]); // an MPEG frame header
    // 128 kbps = 16000 bytes/s
    expect(out.durationSeconds).toBeCloseTo(expectedBytes / 16000, 2);
    // eleven_multilingual_v2: 0.3 per 1000 characters
    expect(out.costUsd).toBeCloseTo((0.3 * text.length) / 1000, 10);

    const [req] = eleven.requests;
    expect(eleven.requests).toHaveLength(1);
    expect(req!.path).toBe(`/v1/text-to-speech/${DEFAULT_VOICE}`);
    expect(req!.query.output_format).toBe("mp3_44100_128");
    expect(req!.body).toMatchObject({ text, model_id: "eleven_multilingual_v2" });
    expect(req!.headers["xi-api-key"]).toBe(KEYS.elevenlabs);

    expect(res.content.map((c) => c.type)).toEqual(["text", "resource_link", "audio"]);
    expect(res.content[1]).toMatchObject({ uri: out.file.uri, mimeType: "audio/mpeg", size: expectedBytes });
    expect(res.content[2]).toEqual({ type: "audio", mimeType: "audio/mpeg", data: saved.toString("base64") });
  });

  it("uses the requested model and voice; a large result is linked, not inlined", async () => {
    const text = "This sentence is long enough to be over the inline cap.";
    const { out, res } = await ok<VoiceOut>("voiceover", { text, model: "elevenlabs:eleven_flash_v2_5", voice: "voice-abc" });
    expect(out.model).toBe("elevenlabs:eleven_flash_v2_5");
    expect(out.voice).toBe("voice-abc");
    expect(out.file.bytes).toBe(expectedAudioBytes(text.length));
    expect(out.file.bytes).toBeGreaterThan(MAX_INLINE);
    expect(out.durationSeconds).toBeCloseTo((out.file.bytes * 8) / 128000, 2);
    expect(out.costUsd).toBeCloseTo((0.15 * text.length) / 1000, 10);
    expect(eleven.requests[0]!.path).toBe("/v1/text-to-speech/voice-abc");
    expect(eleven.requests[0]!.body.model_id).toBe("eleven_flash_v2_5");
    expect(res.content.map((c) => c.type)).toEqual(["text", "resource_link"]);
  });

  it("pcm_16000: duration = bytes / 32000, saved as audio/L16", async () => {
    const text = "Ten chars.";
    const { out } = await ok<VoiceOut>("voiceover", { text, outputFormat: "pcm_16000" });
    expect(eleven.requests[0]!.query.output_format).toBe("pcm_16000");
    expect(out.file.bytes).toBe(expectedAudioBytes(text.length, "pcm_16000"));
    expect(out.durationSeconds).toBe(Math.round((out.file.bytes / 32000) * 100) / 100);
    expect(out.durationSeconds).toBeCloseTo(text.length * 0.06, 2);
    expect(out.file.mimeType).toBe("audio/L16");
    expect(out.file.path).toMatch(/\.pcm$/);
  });

  it("a 500 on the first model -> retried, then the second model of jobs.voice.default answers", async () => {
    eleven.enqueue({ fault: { kind: "status", status: 500 } }, { fault: { kind: "status", status: 500 } });
    const text = "Fallback please.";
    const { out } = await ok<VoiceOut>("voiceover", { text });
    expect(out.model).toBe("elevenlabs:eleven_flash_v2_5");
    expect(out.attempts.map((a) => [a.model, a.outcome, a.errorCode])).toEqual([
      ["elevenlabs:eleven_multilingual_v2", "error", "provider_unavailable"],
      ["elevenlabs:eleven_multilingual_v2", "error", "provider_unavailable"],
      ["elevenlabs:eleven_flash_v2_5", "ok", undefined],
    ]);
    expect(eleven.requests.map((r) => r.body.model_id)).toEqual(["eleven_multilingual_v2", "eleven_multilingual_v2", "eleven_flash_v2_5"]);
    // Priced at the model that answered.
    expect(out.costUsd).toBeCloseTo((0.15 * text.length) / 1000, 10);
  });

  it("401 -> auth_failed naming ELEVENLABS_API_KEY, not retried, and no key in the output", async () => {
    eleven.enqueue({ fault: { kind: "status", status: 401 } }, { fault: { kind: "status", status: 401 } });
    const err = await fail("voiceover", { text: "Hello there." });
    expect(err.code).toBe("auth_failed");
    expect(err.retryable).toBe(false);
    expect(err.hint).toContain("ELEVENLABS_API_KEY");
    expect(err.attempts?.map((a) => [a.model, a.errorCode])).toEqual([
      ["elevenlabs:eleven_multilingual_v2", "auth_failed"],
      ["elevenlabs:eleven_flash_v2_5", "auth_failed"],
    ]);
    expect(JSON.stringify(err)).not.toContain(KEYS.elevenlabs);
  });

  it("unknown model -> invalid_request listing the voice models, before any request", async () => {
    const err = await fail("voiceover", { text: "Hello.", model: "elevenlabs:eleven_v9" });
    expect(err).toMatchObject({ code: "invalid_request", field: "model", retryable: false });
    expect(err.validValues).toEqual(["elevenlabs:eleven_multilingual_v2", "elevenlabs:eleven_flash_v2_5"]);
    expect(eleven.requests).toHaveLength(0);
  });

  it("a malformed outputFormat -> invalid_request on outputFormat", async () => {
    const err = await fail("voiceover", { text: "Hello.", outputFormat: "flac" });
    expect(err).toMatchObject({ code: "invalid_request", field: "outputFormat" });
    expect(eleven.requests).toHaveLength(0);
  });
});

describe("transcribe", () => {
  it("transcribes a local WAV on Whisper with segments, duration and per-minute cost", async () => {
    const local = join(inDir, "speech.wav");
    const audio = wav(3);
    writeFileSync(local, audio);
    const { out } = await ok<TranscribeOut>("transcribe", { audio: local, language: "en", prompt: "Switchboard" });

    expect(out.text).toBe(DEFAULT_TRANSCRIPT);
    expect(out.model).toBe("openai:whisper-1");
    expect(out.provider).toBe("openai");
    expect(out.decision).toMatchObject({ mode: "batch_transcription", routedModel: "openai:whisper-1" });
    expect(out.language).toBe("english");
    const duration = Math.round((audio.length / 16000) * 100) / 100; // the fake: 16000 bytes/s
    expect(out.durationSeconds).toBe(duration);
    expect(out.segments).toEqual([{ start: 0, end: duration, text: DEFAULT_TRANSCRIPT }]);
    // whisper-1: 0.006 per minute
    expect(out.costUsd).toBeCloseTo((0.006 * duration) / 60, 10);
    expect(out.attempts.map((a) => [a.model, a.outcome])).toEqual([["openai:whisper-1", "ok"]]);

    expect(stt.requests).toHaveLength(1);
    const body = stt.requests[0]!.body as { fields: Record<string, string>; files: Array<{ field: string; filename: string; size: number; contentType?: string }> };
    expect(body.fields).toMatchObject({ model: "whisper-1", response_format: "verbose_json", language: "en", prompt: "Switchboard" });
    expect(Object.entries(body.fields).find(([k]) => k.startsWith("timestamp_granularities"))?.[1]).toBe("segment");
    expect(body.files).toEqual([{ field: "file", filename: "speech.wav", size: audio.length, contentType: "audio/wav" }]);
    expect(stt.requests[0]!.headers["authorization"]).toBe(`Bearer ${KEYS.openai}`);
  });

  it("downloads an http(s) URL input, then uploads it under its own name", async () => {
    const { out } = await ok<TranscribeOut>("transcribe", { audio: `${audioOrigin}/clip.mp3` });
    expect(audioRequests).toEqual(["/clip.mp3"]);
    expect(out.text).toBe(DEFAULT_TRANSCRIPT);
    expect(out.durationSeconds).toBe(2);
    expect(out.costUsd).toBeCloseTo((0.006 * 2) / 60, 10);
    const body = stt.requests[0]!.body as { files: Array<{ filename: string; size: number; contentType?: string }> };
    expect(body.files[0]).toMatchObject({ filename: "clip.mp3", size: CLIP.length, contentType: "audio/mpeg" });
  });

  it("an audio URL that answers 404 -> provider_unavailable, and nothing is sent to transcription", async () => {
    const err = await fail("transcribe", { audio: `${audioOrigin}/gone.mp3` });
    expect(err.code).toBe("provider_unavailable");
    expect(err.message).toContain("404");
    expect(stt.requests).toHaveLength(0);
  });

  it("503 on Whisper -> retried, then gpt-4o-mini-transcribe answers (text only)", async () => {
    writeFileSync(join(inDir, "short.wav"), wav(1));
    stt.enqueue({ fault: { kind: "status", status: 503 } }, { fault: { kind: "status", status: 503 } }, { text: "fallback transcript" });
    const { out } = await ok<TranscribeOut>("transcribe", { audio: join(inDir, "short.wav") });
    expect(out.model).toBe("openai:gpt-4o-mini-transcribe");
    expect(out.text).toBe("fallback transcript");
    expect(out.segments).toEqual([]);
    expect(out.attempts.map((a) => [a.model, a.outcome, a.errorCode])).toEqual([
      ["openai:whisper-1", "error", "provider_unavailable"],
      ["openai:whisper-1", "error", "provider_unavailable"],
      ["openai:gpt-4o-mini-transcribe", "ok", undefined],
    ]);
    expect(stt.requests.map((r) => [r.body.fields.model, r.body.fields.response_format])).toEqual([
      ["whisper-1", "verbose_json"],
      ["whisper-1", "verbose_json"],
      ["gpt-4o-mini-transcribe", "json"],
    ]);
  });

  it.each([
    ["a path outside the allowed folder", () => join(root, "elsewhere.wav"), /outside the folders/],
    ["a missing file", () => join(inDir, "missing.wav"), /no file at/],
    ["a file: URL", () => `file://${join(inDir, "speech.wav")}`, /file: scheme/],
  ])("%s -> invalid_request on audio before any request", async (_what, value, message) => {
    writeFileSync(join(root, "elsewhere.wav"), wav(1));
    const err = await fail("transcribe", { audio: value() });
    expect(err).toMatchObject({ code: "invalid_request", field: "audio", retryable: false });
    expect(err.message).toMatch(message);
    expect(stt.requests).toHaveLength(0);
    expect(audioRequests).toHaveLength(0);
  });
});

describe("without keys", () => {
  let bare: McpHarness;
  beforeAll(async () => {
    bare = await startHarness({ ELEVENLABS_BASE_URL: eleven.url, OPENAI_BASE_URL: stt.url });
  });
  afterAll(() => bare?.close());

  it("voiceover -> no_provider_configured naming ELEVENLABS_API_KEY", async () => {
    const err = await fail("voiceover", { text: "Hello." }, bare);
    expect(err.code).toBe("no_provider_configured");
    expect(err.hint).toContain("ELEVENLABS_API_KEY");
    expect(eleven.requests).toHaveLength(0);
  });

  it("transcribe -> no_provider_configured naming OPENAI_API_KEY", async () => {
    writeFileSync(join(inDir, "k.wav"), wav(1));
    const err = await fail("transcribe", { audio: join(inDir, "k.wav") }, bare);
    expect(err.code).toBe("no_provider_configured");
    expect(err.hint).toContain("OPENAI_API_KEY");
    expect(stt.requests).toHaveLength(0);
  });
});
