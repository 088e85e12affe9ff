// Unit tests of the file plumbing behind the media, voice and transcription jobs: which inputs are
// accepted (URL schemes, allowed folders, symlinks, size), where outputs are written, and how provider
// results are downloaded (size cap, failures), against a local http server.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SwitchboardConfig } from "../../src/config/schema.js";
import { download, extOf, mimeOf, readInput, resolveInput, saveOutput } from "../../src/jobs/files.js";
import { SwitchboardError, type ErrorBody } from "../../src/errors.js";

const MAX_FILE = 1000;

let root: string;
let inDir: string;
let outDir: string;
let outsideDir: string;

/** Only `files` is read by these functions. */
function config(files: Partial<SwitchboardConfig["files"]> = {}): SwitchboardConfig {
  return { files: { allowedInputDirs: [inDir], outputDir: outDir, maxInlineBytes: 500, maxFileBytes: MAX_FILE, ...files } } as unknown as SwitchboardConfig;
}

/** The structured error `fn` throws (fails the test when it does not throw one). */
function errorOf(fn: () => unknown): ErrorBody {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SwitchboardError);
    return (err as SwitchboardError).body;
  }
  throw new Error("expected a SwitchboardError");
}
async function rejectionOf(p: Promise<unknown>): Promise<ErrorBody> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SwitchboardError);
    return (err as SwitchboardError).body;
  }
  throw new Error("expected a SwitchboardError");
}

beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "switchboard-files-")));
  inDir = join(root, "in");
  outDir = join(root, "out");
  outsideDir = join(root, "outside");
  for (const d of [inDir, join(inDir, "nested"), outsideDir, join(root, "in-other")]) mkdirSync(d, { recursive: true });
  writeFileSync(join(inDir, "photo.png"), Buffer.alloc(100, 1));
  writeFileSync(join(inDir, "nested", "Voice.WAV"), Buffer.alloc(10, 2));
  writeFileSync(join(inDir, "notes.xyz"), "x");
  writeFileSync(join(inDir, "exact.bin"), Buffer.alloc(MAX_FILE));
  writeFileSync(join(inDir, "big.bin"), Buffer.alloc(MAX_FILE + 1));
  writeFileSync(join(outsideDir, "secret.png"), "secret");
  writeFileSync(join(root, "in-other", "a.png"), "a");
  symlinkSync(join(outsideDir, "secret.png"), join(inDir, "escape.png"));
  symlinkSync(join(outsideDir), join(inDir, "escape-dir"));
  symlinkSync(join(inDir, "photo.png"), join(inDir, "alias.png"));
  symlinkSync(inDir, join(root, "in-link"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("resolveInput: URLs", () => {
  it.each([
    ["https://example.com/cat.png", "https://example.com/cat.png"],
    ["http://127.0.0.1:8080/a.wav?x=1", "http://127.0.0.1:8080/a.wav?x=1"],
    ["  https://example.com/a b.png  ", "https://example.com/a%20b.png"],
    ["HTTPS://Example.COM/x.png", "https://example.com/x.png"],
  ])("accepts %j as a URL (%s)", (value, href) => {
    expect(resolveInput(value, "image", config())).toEqual({ kind: "url", url: href });
  });

  it.each([
    ["file:///etc/passwd", "file:"],
    ["ftp://example.com/cat.png", "ftp:"],
    ["javascript:alert(1)", "javascript:"],
    ["data:image/png;base64,iVBORw0KGgo=", "data:"],
    ["blob:https://example.com/1234", "blob:"],
    ["gopher://example.com/", "gopher:"],
  ])("refuses %j (%s scheme) with invalid_request", (value, scheme) => {
    const err = errorOf(() => resolveInput(value, "image", config()));
    expect(err).toMatchObject({ code: "invalid_request", field: "image", retryable: false });
    expect(err.message).toContain(`${scheme} scheme`);
    expect(err.validValues).toEqual(["http", "https", "local path"]);
  });

  it("refuses an unparsable URL", () => {
    const err = errorOf(() => resolveInput("http://", "audio", config()));
    expect(err).toMatchObject({ code: "invalid_request", field: "audio" });
    expect(err.message).toMatch(/not a valid URL/);
  });

  it("takes a Windows drive path for a path, not a scheme", () => {
    const err = errorOf(() => resolveInput("C:\\images\\cat.png", "image", config()));
    expect(err.message).not.toMatch(/scheme/);
    expect(err.message).toMatch(/no file at/);
  });
});

describe("resolveInput: local files", () => {
  it("accepts a file inside an allowed folder, with size, name and MIME type", () => {
    expect(resolveInput(join(inDir, "photo.png"), "image", config())).toEqual({
      kind: "file",
      path: join(inDir, "photo.png"),
      bytes: 100,
      name: "photo.png",
      mimeType: "image/png",
    });
  });

  it("accepts files in subfolders; the MIME type comes from the extension, case-insensitively", () => {
    const ref = resolveInput(join(inDir, "nested", "Voice.WAV"), "audio", config());
    expect(ref).toMatchObject({ kind: "file", name: "Voice.WAV", mimeType: "audio/wav", bytes: 10 });
    expect(resolveInput(join(inDir, "notes.xyz"), "image", config())).toMatchObject({ mimeType: "application/octet-stream" });
  });

  it("resolves a relative path from the working folder", () => {
    const rel = relative(process.cwd(), join(inDir, "photo.png"));
    expect(resolveInput(rel, "image", config())).toMatchObject({ kind: "file", path: join(inDir, "photo.png") });
  });

  it("follows a symlink that stays inside, and reports the real path", () => {
    expect(resolveInput(join(inDir, "alias.png"), "image", config())).toMatchObject({ kind: "file", path: join(inDir, "photo.png"), name: "photo.png" });
  });

  it("accepts a file reached through an allowed folder given as a symlink", () => {
    const cfg = config({ allowedInputDirs: [join(root, "in-link")] });
    expect(resolveInput(join(root, "in-link", "photo.png"), "image", cfg)).toMatchObject({ kind: "file", path: join(inDir, "photo.png") });
    expect(resolveInput(join(inDir, "photo.png"), "image", cfg)).toMatchObject({ kind: "file" });
  });

  it("expands $TMPDIR in allowedInputDirs", () => {
    const cfg = config({ allowedInputDirs: ["$TMPDIR"] });
    expect(resolveInput(join(inDir, "photo.png"), "image", cfg)).toMatchObject({ kind: "file", bytes: 100 });
  });

  it.each([
    ["a file outside every allowed folder", () => join(outsideDir, "secret.png")],
    ["a sibling folder sharing the allowed folder's name as a prefix", () => join(root, "in-other", "a.png")],
    ["a ../ traversal", () => join(inDir, "..", "outside", "secret.png")],
    ["a symlink inside pointing to a file outside", () => join(inDir, "escape.png")],
    ["a file under a symlinked folder that leads outside", () => join(inDir, "escape-dir", "secret.png")],
    ["a system file", () => "/etc/hosts"],
  ])("refuses %s", (_what, value) => {
    const err = errorOf(() => resolveInput(value(), "image", config()));
    expect(err).toMatchObject({ code: "invalid_request", field: "image", retryable: false });
    expect(err.message).toMatch(/outside the folders Switchboard may read/);
    expect(err.validValues).toEqual([inDir]);
    expect(err.hint).toContain("files.allowedInputDirs");
  });

  it("refuses a missing file, and a folder", () => {
    expect(errorOf(() => resolveInput(join(inDir, "nope.png"), "image", config())).message).toMatch(/no file at/);
    expect(errorOf(() => resolveInput(join(inDir, "nested"), "image", config())).message).toMatch(/is not a file/);
  });

  it("enforces files.maxFileBytes: at the limit is fine, one byte over is refused", () => {
    expect(resolveInput(join(inDir, "exact.bin"), "image", config())).toMatchObject({ kind: "file", bytes: MAX_FILE });
    const err = errorOf(() => resolveInput(join(inDir, "big.bin"), "image", config()));
    expect(err).toMatchObject({ code: "invalid_request", field: "image" });
    expect(err.message).toContain(`${MAX_FILE + 1} bytes, over the ${MAX_FILE}-byte limit`);
  });

  it("readInput returns the file's bytes", async () => {
    const ref = resolveInput(join(inDir, "photo.png"), "image", config());
    if (ref.kind !== "file") throw new Error("expected a file ref");
    expect((await readInput(ref)).equals(Buffer.alloc(100, 1))).toBe(true);
  });
});

describe("saveOutput", () => {
  it("writes the bytes under outputDir with the job name, a timestamp and the MIME type's extension", () => {
    const data = Buffer.from("png bytes");
    const f = saveOutput(config(), data, { job: "upscaling", mimeType: "image/png", sourceUrl: "https://cdn.example/x.png", env: {} });
    expect(dirname(f.path)).toBe(outDir);
    expect(basename(f.path)).toMatch(/^upscaling-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-[0-9a-f]{6}\.png$/);
    expect(readFileSync(f.path).equals(data)).toBe(true);
    expect(f).toMatchObject({ mimeType: "image/png", bytes: data.length, sourceUrl: "https://cdn.example/x.png" });
    expect(fileURLToPath(f.uri)).toBe(f.path);
    expect(f.uri.startsWith("file://")).toBe(true);
  });

  it("never reuses a name, even for many saves in the same millisecond", () => {
    const paths = Array.from({ length: 200 }, (_, i) => saveOutput(config(), Buffer.from(String(i)), { job: "burst", mimeType: "audio/mpeg", env: {} }).path);
    expect(new Set(paths).size).toBe(200);
    paths.forEach((p, i) => expect(readFileSync(p, "utf8")).toBe(String(i)));
  });

  it.each(["../../escape", "a/b\\c", "..", "/etc/passwd", "job name with spaces"])("keeps job %j inside outputDir", (job) => {
    const f = saveOutput(config(), Buffer.from("x"), { job, mimeType: "image/png", env: {} });
    expect(dirname(f.path)).toBe(outDir);
    expect(basename(f.path)).toMatch(/^[A-Za-z0-9_-]+\.png$/);
  });

  it("creates a missing outputDir, and SWITCHBOARD_OUTPUT_DIR overrides it", () => {
    const nested = join(root, "made", "on", "demand");
    const f = saveOutput(config({ outputDir: nested }), Buffer.from("x"), { job: "j", mimeType: "image/png", env: {} });
    expect(dirname(f.path)).toBe(nested);
    const override = join(root, "override");
    const g = saveOutput(config({ outputDir: nested }), Buffer.from("y"), { job: "j", mimeType: "image/png", env: { SWITCHBOARD_OUTPUT_DIR: override } });
    expect(dirname(g.path)).toBe(override);
    expect(readdirSync(override)).toEqual([basename(g.path)]);
  });

  it("expands $TMPDIR in outputDir", () => {
    const name = relative(realpathSync(tmpdir()), root);
    expect(name.startsWith("..")).toBe(false);
    const f = saveOutput(config({ outputDir: `$TMPDIR/${name}/tmp-out` }), Buffer.from("x"), { job: "j", mimeType: "image/png", env: {} });
    expect(realpathSync(dirname(f.path))).toBe(join(root, "tmp-out"));
  });

  it("maps MIME types to extensions and back", () => {
    expect(extOf("audio/mpeg")).toBe(".mp3");
    expect(extOf("audio/mpeg; charset=binary")).toBe(".mp3");
    expect(extOf("audio/L16")).toBe(".pcm");
    expect(extOf("application/x-unknown")).toBe(".bin");
    expect(mimeOf("a/b/c.JPEG")).toBe("image/jpeg");
    expect(mimeOf("noext")).toBe("application/octet-stream");
  });
});

describe("download", () => {
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const send = (status: number, body: Buffer | string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "content-length": String(Buffer.byteLength(body)), ...headers });
        res.end(body);
      };
      switch (req.url) {
        case "/img":
          return send(200, Buffer.from("PNGDATA"), { "content-type": "image/png" });
        case "/clip.wav":
          return send(200, Buffer.alloc(20), { "content-type": "application/octet-stream" });
        case "/untyped.mp3":
          return send(200, Buffer.alloc(20));
        case "/params":
          return send(200, Buffer.alloc(20), { "content-type": "audio/mpeg; charset=binary" });
        case "/exact":
          return send(200, Buffer.alloc(MAX_FILE), { "content-type": "image/png" });
        case "/declared-big":
          return send(200, Buffer.alloc(MAX_FILE + 1), { "content-type": "image/png" });
        case "/chunked-big":
          // No content-length: the cap must hold on the bytes actually received.
          res.writeHead(200, { "content-type": "image/png" });
          for (let i = 0; i < 3; i++) res.write(Buffer.alloc(MAX_FILE / 2));
          return void res.end();
        case "/missing":
          return send(404, "not found", { "content-type": "text/plain" });
        case "/broken":
          return send(500, "boom", { "content-type": "text/plain" });
        case "/hang":
          return; // never answers
        case "/hop":
          return send(302, "", { location: "/img" });
        case "/to-inside":
          return send(302, "", { location: "/inside-only" });
        case "/loop":
          return send(302, "", { location: "/loop" });
        default:
          return send(400, "bad route");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const signal = () => AbortSignal.timeout(5000);

  it("returns the bytes and the served content type", async () => {
    const r = await download(`${origin}/img`, config(), signal());
    expect(r.data.toString()).toBe("PNGDATA");
    expect(r.mimeType).toBe("image/png");
  });

  it("falls back to the URL's extension when the type is missing or generic, and drops parameters", async () => {
    expect((await download(`${origin}/clip.wav`, config(), signal())).mimeType).toBe("audio/wav");
    expect((await download(`${origin}/untyped.mp3`, config(), signal())).mimeType).toBe("audio/mpeg");
    expect((await download(`${origin}/params`, config(), signal())).mimeType).toBe("audio/mpeg");
  });

  it("accepts a result exactly at files.maxFileBytes", async () => {
    expect((await download(`${origin}/exact`, config(), signal())).data.length).toBe(MAX_FILE);
  });

  it.each(["/declared-big", "/chunked-big"])("refuses %s over files.maxFileBytes with invalid_request", async (path) => {
    const err = await rejectionOf(download(`${origin}${path}`, config(), signal()));
    expect(err).toMatchObject({ code: "invalid_request", retryable: false });
    expect(err.message).toContain(`${MAX_FILE}-byte limit`);
  });

  it.each([
    ["/missing", 404],
    ["/broken", 500],
  ])("a non-200 answer (%s) -> retryable provider_unavailable naming the status", async (path, status) => {
    const err = await rejectionOf(download(`${origin}${path}`, config(), signal()));
    expect(err).toMatchObject({ code: "provider_unavailable", retryable: true });
    expect(err.message).toContain(String(status));
  });

  it("with a hop check, follows redirects by hand and checks every hop", async () => {
    const hops: string[] = [];
    const r = await download(`${origin}/hop`, config(), signal(), async (u) => void hops.push(new URL(u).pathname));
    expect(r.data.toString()).toBe("PNGDATA");
    expect(hops).toEqual(["/img"]);
  });

  it("with a hop check, a redirect the check refuses is never fetched", async () => {
    const requested: string[] = [];
    const onRequest = (req: { url?: string }) => requested.push(req.url ?? "");
    server.on("request", onRequest);
    try {
      const refuse = async (u: string) => {
        throw new SwitchboardError({ code: "invalid_request", message: `refused ${new URL(u).pathname}`, retryable: false });
      };
      const err = await rejectionOf(download(`${origin}/to-inside`, config(), signal(), refuse));
      expect(err).toMatchObject({ code: "invalid_request", message: "refused /inside-only" });
      expect(requested).toEqual(["/to-inside"]);
    } finally {
      server.off("request", onRequest);
    }
  });

  it("with a hop check, gives up after 5 redirects", async () => {
    const err = await rejectionOf(download(`${origin}/loop`, config(), signal(), async () => undefined));
    expect(err.message).toMatch(/redirected more than 5 times/);
  });

  it("stops when the signal aborts", async () => {
    const ac = new AbortController();
    const pending = download(`${origin}/hang`, config(), ac.signal);
    ac.abort();
    await expect(pending).rejects.toThrow(/abort/i);
  });

  it("a connection refused rejects", async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", () => resolve()));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    await expect(download(`http://127.0.0.1:${port}/x.png`, config(), signal())).rejects.toThrow();
  });
});
