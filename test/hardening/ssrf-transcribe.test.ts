// Finding 12 of issue 13: transcribe checks for a key before it downloads anything, and an audio URL
// it cannot download is the caller's invalid_request naming the URL and the cause, never `internal`.
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMcpHarness, toolOverlay, type McpHarness } from "../helpers/mcp-harness.js";
import { startTranscriptionFake, type TranscriptionFake } from "../fakes/transcription-fake.js";

const KEY = "sk-test-TRANSCRIBEKEY-7070";
let audioServer: Server;
let audioOrigin: string;
let closedPort: number;
const audioRequests: string[] = [];
let stt: TranscriptionFake;
let keyed: McpHarness;
let bare: McpHarness;

beforeAll(async () => {
  audioServer = createHttpServer((req, res) => {
    audioRequests.push(req.url ?? "");
    if (req.url === "/stall.mp3") return; // never answers
    res.writeHead(200, { "content-type": "audio/mpeg" });
    res.end(Buffer.alloc(1600, 0x55));
  });
  await new Promise<void>((resolve) => audioServer.listen(0, "127.0.0.1", () => resolve()));
  audioOrigin = `http://127.0.0.1:${(audioServer.address() as AddressInfo).port}`;
  const probe = createHttpServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  stt = await startTranscriptionFake();
  const overlay = toolOverlay({ jobSettings: { transcription: { timeoutMs: 500 } } });
  keyed = await startMcpHarness({ env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: stt.url }, secrets: [KEY], overlay });
  bare = await startMcpHarness({ env: { OPENAI_BASE_URL: stt.url }, secrets: [KEY], overlay });
});
afterAll(async () => {
  await keyed?.close();
  await bare?.close();
  await stt?.close();
  audioServer?.closeAllConnections();
  await new Promise<void>((resolve) => (audioServer ? audioServer.close(() => resolve()) : resolve()));
});
beforeEach(() => {
  audioRequests.length = 0;
  stt.reset();
});

describe("transcribe", () => {
  it("without a key -> no_provider_configured, and the audio URL is never downloaded", async () => {
    const err = await bare.callFail("transcribe", { audio: `${audioOrigin}/clip.mp3` });
    expect(err.code).toBe("no_provider_configured");
    expect(err.hint).toContain("OPENAI_API_KEY");
    expect(audioRequests).toEqual([]);
    expect(stt.requests).toHaveLength(0);
  });

  it("an unreachable URL -> invalid_request naming the URL and the cause", async () => {
    const url = `http://127.0.0.1:${closedPort}/gone.wav`;
    const err = await keyed.callFail("transcribe", { audio: url });
    expect(err).toMatchObject({ code: "invalid_request", field: "audio", retryable: false });
    expect(err.message).toContain(url);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.message).not.toMatch(/Switchboard bug/);
    expect(stt.requests).toHaveLength(0);
  });

  it("a URL that never answers -> invalid_request naming the URL and the timeout", async () => {
    const url = `${audioOrigin}/stall.mp3`;
    const err = await keyed.callFail("transcribe", { audio: url });
    expect(err).toMatchObject({ code: "invalid_request", field: "audio" });
    expect(err.message).toContain(url);
    expect(err.message).toMatch(/no answer within 500 ms/);
  });

  it("a name that does not resolve -> invalid_request naming the URL", async () => {
    const url = "http://no-such-host.invalid/a.wav";
    const err = await keyed.callFail("transcribe", { audio: url });
    expect(err).toMatchObject({ code: "invalid_request", field: "audio" });
    expect(err.message).toContain(url);
  });

  it("the URL's credentials are not echoed", async () => {
    const err = await keyed.callFail("transcribe", { audio: `http://user:hunter2@127.0.0.1:${closedPort}/a.wav` });
    expect(err.code).toBe("invalid_request");
    expect(err.message).not.toContain("hunter2");
  });
});
