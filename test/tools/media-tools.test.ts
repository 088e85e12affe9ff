// remove_background, upscale_image, style_transfer and generative_fill over MCP against the Replicate
// fake: predictions created with the configured model and parameter names, polled to the end, outputs
// downloaded and saved under the output folder; local inputs uploaded, unsafe inputs refused before any
// request; failures, timeouts and cancellation (which must cancel the prediction), and progress.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, Progress } from "@modelcontextprotocol/sdk/types.js";
import { startMcpHarness, toolOverlay, type Attempt, type ErrorBody, type McpHarness } from "../helpers/mcp-harness.js";
import { PNG_SIGNATURE, startReplicateFake, tinyPng, type ReplicateFake } from "../fakes/replicate-fake.js";
import type { ServiceRequest } from "../fakes/service-fake.js";

const TOKEN = "r8_test-MEDIAKEY-4242";
const MAX_INLINE = 2000;

interface SavedFile {
  path: string;
  uri: string;
  mimeType: string;
  bytes: number;
  sourceUrl?: string;
}
interface MediaOut {
  files: SavedFile[];
  model: string;
  provider: string;
  predictionId: string;
  decision: { mode: string; routedModel: string; reason: string };
  attempts: Attempt[];
  costUsd: number;
  latencyMs: number;
}

let root: string;
let inDir: string;
let outDir: string;
let outsideDir: string;
let rep: ReplicateFake;
let h: McpHarness;

function startHarness(env: NodeJS.ProcessEnv, mediaTimeoutMs = 2000): Promise<McpHarness> {
  return startMcpHarness({
    env,
    secrets: [TOKEN],
    clientName: "media-tests",
    parentDir: root,
    prefix: "cfg-",
    overlay: toolOverlay({
      files: { allowedInputDirs: [inDir], outputDir: outDir, maxInlineBytes: MAX_INLINE, maxFileBytes: 1_000_000 },
      jobSettings: { media: { timeoutMs: mediaTimeoutMs } },
    }),
  });
}

beforeAll(async () => {
  // realpath: the server compares resolved paths (macOS /var -> /private/var).
  root = realpathSync(mkdtempSync(join(tmpdir(), "switchboard-media-")));
  inDir = join(root, "in");
  outDir = join(root, "out");
  outsideDir = join(root, "outside");
  for (const d of [inDir, outDir, outsideDir]) mkdirSync(d);
  rep = await startReplicateFake();
  h = await startHarness({ REPLICATE_API_TOKEN: TOKEN, REPLICATE_BASE_URL: rep.url });
});
afterAll(async () => {
  await h?.close();
  await rep?.close();
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => rep.reset());

async function ok(name: string, args: Record<string, unknown>, opts?: RequestOptions): Promise<{ out: MediaOut; res: CallToolResult }> {
  const { res, out } = await h.call<MediaOut>(name, args, opts);
  expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
  return { out, res };
}
async function fail(name: string, args: Record<string, unknown>): Promise<ErrorBody> {
  const { res, err } = await h.call(name, args);
  expect(res.isError, JSON.stringify(res.structuredContent)).toBe(true);
  return err;
}

/** Resolves with the first request matching `pred`, waiting for more requests as they arrive. */
async function until(fake: ReplicateFake, pred: (r: ServiceRequest) => boolean): Promise<ServiceRequest> {
  for (;;) {
    const hit = fake.requests.find(pred);
    if (hit) return hit;
    await fake.waitForRequests(fake.requests.length + 1);
  }
}

const creates = () => rep.requests.filter((r) => r.method === "POST" && /\/predictions$/.test(r.path));
const isCancel = (r: ServiceRequest) => r.method === "POST" && /^\/v1\/predictions\/[a-z0-9]+\/cancel$/.test(r.path);
const IMAGE_URL = "https://images.example.com/cat.png";

describe("remove_background", () => {
  it("runs the configured model on an http URL, polls to success and saves the PNG under outputDir", async () => {
    rep.enqueue({ outcome: "succeed", polls: 2 });
    const { out, res } = await ok("remove_background", { image: IMAGE_URL });

    // The prediction: the model from jobs.media.backgroundRemoval, the input under services.params' name.
    const [create] = creates();
    expect(create).toBeDefined();
    expect(create!.path).toBe("/v1/models/851-labs/background-remover/predictions");
    expect(create!.body).toEqual({ input: { image: IMAGE_URL } });
    expect(create!.headers["authorization"]).toBe(`Bearer ${TOKEN}`);
    expect(create!.headers["prefer"]).toBeUndefined();
    const polls = rep.requests.filter((r) => r.method === "GET" && r.path === `/v1/predictions/${out.predictionId}`);
    expect(polls).toHaveLength(3); // two "processing", then "succeeded"

    expect(out.model).toBe("replicate:851-labs/background-remover");
    expect(out.provider).toBe("replicate");
    expect(out.predictionId).toMatch(/^[a-z0-9]{26}$/);
    expect(out.decision).toMatchObject({ mode: "vision_editing", routedModel: "replicate:851-labs/background-remover" });
    expect(out.attempts.map((a) => [a.model, a.outcome])).toEqual([["replicate:851-labs/background-remover", "ok"]]);
    // perSecond 0.000225 x the fake's predict_time 0.01 s
    expect(out.costUsd).toBeCloseTo(0.000225 * 0.01, 10);

    // The output was downloaded from the URL the prediction named and saved under outputDir.
    expect(out.files).toHaveLength(1);
    const f = out.files[0]!;
    expect(f.sourceUrl).toBe(rep.outputUrl(`${out.predictionId}.png`));
    expect(rep.requests.some((r) => r.method === "GET" && r.path === `/files/${out.predictionId}.png`)).toBe(true);
    expect(f.path.startsWith(outDir + sep)).toBe(true);
    expect(f.path).toMatch(/backgroundRemoval-[^/\\]+\.png$/);
    expect(f.uri).toBe(`file://${f.path}`);
    expect(fileURLToPath(f.uri)).toBe(f.path);
    expect(f.mimeType).toBe("image/png");
    const saved = readFileSync(f.path);
    expect(saved.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(saved.equals(tinyPng())).toBe(true);
    expect(f.bytes).toBe(saved.length);

    // Content: the JSON mirror, a resource link, and the image inline (it is under maxInlineBytes).
    expect(res.content.map((c) => c.type)).toEqual(["text", "resource_link", "image"]);
    expect(JSON.parse((res.content[0] as { text: string }).text)).toEqual(res.structuredContent);
    expect(res.content[1]).toMatchObject({ type: "resource_link", uri: f.uri, mimeType: "image/png", size: f.bytes, name: f.path.split(sep).pop() });
    expect(res.content[2]).toEqual({ type: "image", mimeType: "image/png", data: saved.toString("base64") });
  });

  it("links but does not inline an output over files.maxInlineBytes", async () => {
    rep.enqueue({ outcome: "succeed", bytes: MAX_INLINE + 3000 });
    const { out, res } = await ok("remove_background", { image: IMAGE_URL });
    const f = out.files[0]!;
    expect(f.bytes).toBeGreaterThan(MAX_INLINE);
    const saved = readFileSync(f.path);
    expect(saved.length).toBe(f.bytes);
    expect(saved.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(res.content.map((c) => c.type)).toEqual(["text", "resource_link"]);
    expect(res.content[1]).toMatchObject({ uri: f.uri, size: f.bytes });
  });

  it("saves every output of a list-shaped result under distinct names", async () => {
    rep.enqueue({ outcome: "succeed", output: "list" });
    const { out, res } = await ok("remove_background", { image: IMAGE_URL });
    expect(out.files).toHaveLength(2);
    expect(new Set(out.files.map((f) => f.path)).size).toBe(2);
    for (const f of out.files) expect(existsSync(f.path)).toBe(true);
    expect(out.files.map((f) => f.sourceUrl)).toEqual([rep.outputUrl(`${out.predictionId}-0.png`), rep.outputUrl(`${out.predictionId}-1.png`)]);
    expect(res.content.filter((c) => c.type === "resource_link")).toHaveLength(2);
  });

  it("uploads a local file inside an allowed folder through the files API and passes its URL", async () => {
    const local = join(inDir, "photo.png");
    const png = tinyPng(300);
    writeFileSync(local, png);
    const { out } = await ok("remove_background", { image: local });

    const upload = rep.requests.find((r) => r.method === "POST" && r.path === "/v1/files");
    expect(upload).toBeDefined();
    const content = (upload!.body as { files: Array<{ field: string; size: number; contentType?: string }> }).files.find((p) => p.field === "content");
    expect(content).toMatchObject({ size: png.length, contentType: "image/png" });
    // The upload comes before the prediction, whose input holds the uploaded file's URL.
    const [create] = creates();
    expect(rep.requests.indexOf(upload!)).toBeLessThan(rep.requests.indexOf(create!));
    const image = create!.body.input.image as string;
    expect(image).toMatch(new RegExp(`^${rep.url}/files/[a-z0-9]+$`));
    expect(image).not.toContain(local);
    expect(out.files).toHaveLength(1);
  });

  it("reports progress while polling, with increasing values", async () => {
    rep.enqueue({ outcome: "succeed", polls: 4 });
    const seen: Progress[] = [];
    await ok("remove_background", { image: IMAGE_URL }, { onprogress: (p) => void seen.push(p) });
    expect(seen.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
    expect(seen.some((p) => p.message === "replicate:851-labs/background-remover: processing")).toBe(true);
    expect(seen.at(-1)!.message).toBe("replicate:851-labs/background-remover: succeeded");
  });
});

describe("refused inputs: invalid_request before any provider request", () => {
  beforeAll(() => {
    writeFileSync(join(outsideDir, "secret.png"), tinyPng());
    symlinkSync(join(outsideDir, "secret.png"), join(inDir, "link.png"));
  });

  it.each([
    ["a path outside the allowed folders", () => join(outsideDir, "secret.png"), /outside the folders/],
    ["a system file", () => "/etc/hosts", /outside the folders/],
    ["a symlink inside pointing outside", () => join(inDir, "link.png"), /outside the folders/],
    ["a traversal out of the allowed folder", () => join(inDir, "..", "outside", "secret.png"), /outside the folders/],
    ["a missing file", () => join(inDir, "nope.png"), /no file at/],
    ["a folder", () => inDir, /is not a file/],
    ["a file: URL", () => `file://${join(inDir, "photo.png")}`, /file: scheme/],
    ["an ftp: URL", () => "ftp://example.com/cat.png", /ftp: scheme/],
    ["a javascript: URL", () => "javascript:alert(1)", /javascript: scheme/],
    ["a data: URL", () => `data:image/png;base64,${tinyPng().toString("base64")}`, /data: scheme/],
  ])("%s", async (_what, value, message) => {
    writeFileSync(join(inDir, "photo.png"), tinyPng());
    const err = await fail("remove_background", { image: value() });
    expect(err.code).toBe("invalid_request");
    expect(err.field).toBe("image");
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(message);
    expect(rep.requests).toHaveLength(0);
  });

  it("names the allowed folder in the hint when a path is outside", async () => {
    const err = await fail("remove_background", { image: "/etc/hosts" });
    expect(err.hint).toContain(inDir);
    expect(err.validValues).toEqual([inDir]);
  });

  it("checks every file input (a bad mask stops generative_fill too)", async () => {
    const err = await fail("generative_fill", { image: IMAGE_URL, mask: "ftp://example.com/mask.png", prompt: "a red balloon" });
    expect(err).toMatchObject({ code: "invalid_request", field: "mask" });
    expect(rep.requests).toHaveLength(0);
  });
});

describe("upscale_image, style_transfer, generative_fill", () => {
  it("upscale_image sends scale (default 4, or as given) on the upscaling model", async () => {
    const { out } = await ok("upscale_image", { image: IMAGE_URL, scale: 2 });
    expect(out.model).toBe("replicate:nightmareai/real-esrgan");
    await ok("upscale_image", { image: IMAGE_URL });
    const [first, second] = creates();
    expect(first!.path).toBe("/v1/models/nightmareai/real-esrgan/predictions");
    expect(first!.body.input).toEqual({ image: IMAGE_URL, scale: 2 });
    expect(second!.body.input).toEqual({ image: IMAGE_URL, scale: 4 });
  });

  it("upscale_image refuses a scale out of range", async () => {
    const err = await fail("upscale_image", { image: IMAGE_URL, scale: 16 });
    expect(err).toMatchObject({ code: "invalid_request", field: "scale" });
    expect(rep.requests).toHaveLength(0);
  });

  it("style_transfer maps image -> structure_image, styleImage -> style_image, prompt -> prompt", async () => {
    const { out } = await ok("style_transfer", { image: IMAGE_URL, styleImage: "https://images.example.com/monet.jpg", prompt: "watercolour, soft light" });
    expect(out.model).toBe("replicate:fofr/style-transfer");
    const [create] = creates();
    expect(create!.path).toBe("/v1/models/fofr/style-transfer/predictions");
    expect(create!.body.input).toEqual({ structure_image: IMAGE_URL, style_image: "https://images.example.com/monet.jpg", prompt: "watercolour, soft light" });
  });

  it("style_transfer uploads a local file used twice only once", async () => {
    const local = join(inDir, "same.png");
    writeFileSync(local, tinyPng());
    await ok("style_transfer", { image: local, styleImage: local });
    expect(rep.requests.filter((r) => r.path === "/v1/files")).toHaveLength(1);
    const input = creates()[0]!.body.input;
    expect(input.structure_image).toMatch(/\/v1\/files\/[a-z0-9]+$/);
    expect(input.style_image).toBe(input.structure_image);
    expect(input).not.toHaveProperty("prompt");
  });

  it("generative_fill sends image, mask and prompt and prices per image", async () => {
    const { out } = await ok("generative_fill", { image: IMAGE_URL, mask: "https://images.example.com/mask.png", prompt: "a red balloon" });
    expect(out.model).toBe("replicate:black-forest-labs/flux-fill-pro");
    expect(creates()[0]!.body.input).toEqual({ image: IMAGE_URL, mask: "https://images.example.com/mask.png", prompt: "a red balloon" });
    expect(out.costUsd).toBeCloseTo(0.05, 10);
  });

  it("generative_fill with an empty prompt -> invalid_request on prompt", async () => {
    const err = await fail("generative_fill", { image: IMAGE_URL, mask: "https://images.example.com/mask.png", prompt: "" });
    expect(err).toMatchObject({ code: "invalid_request", field: "prompt", retryable: false });
    expect(rep.requests).toHaveLength(0);
  });

  // A missing required argument is refused by the SDK's own validation with a plain-text error, not the
  // structured invalid_request (a src bug, reported separately): only the refusal itself is checked here.
  it.each([
    [{ image: IMAGE_URL, prompt: "a red balloon" }, "mask"],
    [{ image: IMAGE_URL, mask: "https://images.example.com/mask.png" }, "prompt"],
  ])("generative_fill refuses %j (no %s) before any request", async (args, field) => {
    const res = (await h.client.callTool({ name: "generative_fill", arguments: args })) as CallToolResult;
    expect(res.isError).toBe(true);
    expect(JSON.stringify(res.content)).toContain(field);
    expect(res.structuredContent).toBeUndefined();
    expect(rep.requests).toHaveLength(0);
  });
});

describe("failures", () => {
  it("a failed prediction -> structured provider_unavailable error with the reason and the attempt", async () => {
    rep.enqueue({ outcome: "fail", error: "CUDA out of memory" });
    const before = readdirSync(outDir).length;
    const err = await fail("remove_background", { image: IMAGE_URL });
    expect(err.code).toBe("provider_unavailable");
    expect(err.message).toContain("CUDA out of memory");
    expect(err.attempts).toEqual([expect.objectContaining({ model: "replicate:851-labs/background-remover", provider: "replicate", outcome: "error", errorCode: "provider_unavailable" })]);
    expect(creates()).toHaveLength(1);
    expect(readdirSync(outDir)).toHaveLength(before);
  });

  it("a 500 on create is retried on the same model", async () => {
    rep.enqueue({ fault: { kind: "status", status: 500 } });
    const { out } = await ok("remove_background", { image: IMAGE_URL });
    expect(out.attempts.map((a) => [a.outcome, a.errorCode])).toEqual([
      ["error", "provider_unavailable"],
      ["ok", undefined],
    ]);
    expect(out.attempts[0]!.message).toContain("500");
    expect(creates()).toHaveLength(2);
  });

  it("a prediction that never finishes -> timeout error, and the prediction is canceled", async () => {
    // Its own server with a 1 s media timeout, so the test does not wait the suite's 2 s.
    const quick = await startHarness({ REPLICATE_API_TOKEN: TOKEN, REPLICATE_BASE_URL: rep.url }, 1000);
    try {
      rep.enqueue({ outcome: "never" });
      const { res, err } = await quick.call("remove_background", { image: IMAGE_URL });
      expect(res.isError).toBe(true);
      expect(err.code).toBe("timeout");
      expect(err.retryable).toBe(true);
      expect(err.attempts).toEqual([expect.objectContaining({ model: "replicate:851-labs/background-remover", outcome: "error", errorCode: "timeout" })]);
      expect(creates()).toHaveLength(1);
      const cancel = await until(rep, isCancel);
      const polled = rep.requests.find((r) => r.method === "GET" && r.path.startsWith("/v1/predictions/"));
      expect(cancel.path).toBe(`${polled!.path}/cancel`);
    } finally {
      await quick.close();
    }
  });

  it("cancelling the tool call cancels the prediction", async () => {
    rep.enqueue({ outcome: "never" });
    const ac = new AbortController();
    const pending = h.client.callTool({ name: "remove_background", arguments: { image: IMAGE_URL } }, undefined, { signal: ac.signal });
    // Abort once the prediction exists and is being polled.
    const poll = await until(rep, (r) => r.method === "GET" && r.path.startsWith("/v1/predictions/"));
    ac.abort("user gave up");
    await expect(pending).rejects.toThrow();
    const cancel = await until(rep, isCancel);
    expect(cancel.path).toBe(`${poll.path}/cancel`);
    expect(creates()).toHaveLength(1);
  });

  it("missing REPLICATE_API_TOKEN -> no_provider_configured naming it", async () => {
    const keyless = await startHarness({ REPLICATE_BASE_URL: rep.url });
    try {
      const { res, err } = await keyless.call("remove_background", { image: IMAGE_URL });
      expect(res.isError).toBe(true);
      expect(err.code).toBe("no_provider_configured");
      expect(err.hint).toContain("REPLICATE_API_TOKEN");
      expect(err.attempts).toEqual([expect.objectContaining({ model: "replicate:851-labs/background-remover", outcome: "skipped", errorCode: "no_provider_configured" })]);
      expect(rep.requests).toHaveLength(0);
    } finally {
      await keyless.close();
    }
  });
});
