// Wire-faithful fake of Replicate's HTTP API (files, predictions, output delivery), for the real
// `replicate` SDK: `new Replicate({ auth, baseUrl: fake.url })` (url ends in /v1).
//
// Prediction lifecycle: create -> "starting"; each GET advances it: `polls` GETs answer "processing",
// the next one answers the terminal state ("succeeded" with output, or "failed"). With the
// `Prefer: wait` header (sync mode, sent by replicate.run and predictions.create({ wait })), create
// answers the terminal state at once. Outputs are served by the fake at /files/:name as real PNGs.
import { createHash, randomBytes } from "node:crypto";
import { deflateSync } from "node:zlib";
import {
  bearerToken,
  startServiceFake,
  type ErrorReply,
  type Exchange,
  type ServiceFake,
  type ServiceFault,
  type ServiceStatusFault,
} from "./service-fake.js";

export type { ServiceFake, ServiceFault, ServiceRequest } from "./service-fake.js";

export type ReplicateStep =
  /** polls: GETs answering "processing" before the one answering "succeeded" (default 1). bytes: pad each output PNG to at least this size. */
  | { outcome: "succeed"; polls?: number; output?: "url" | "list"; bytes?: number }
  /** polls as above (default 1), then "failed" with `error`. */
  | { outcome: "fail"; error: string; polls?: number }
  /** Stays "processing" until canceled. */
  | { outcome: "never" }
  /** Applied to the create request itself. */
  | { fault: ServiceFault };

export type ReplicateFake = ServiceFake<ReplicateStep> & {
  /** A URL served by the fake (GET, no auth) that returns a real PNG. */
  outputUrl(name: string): string;
};

// ---- PNG ------------------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([len, typeAndData, crc]);
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A valid 1x1 RGBA PNG; with `minBytes`, a tEXt chunk before IEND pads it to at least that size. */
export function tinyPng(minBytes = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0); // width
  ihdr.writeUInt32BE(1, 4); // height
  ihdr.set([8, 6, 0, 0, 0], 8); // bit depth 8, RGBA, deflate, adaptive filter, no interlace
  const head = Buffer.concat([PNG_SIGNATURE, pngChunk("IHDR", ihdr), pngChunk("IDAT", deflateSync(Buffer.from([0, 0x33, 0x99, 0xff, 0xff])))]);
  const iend = pngChunk("IEND", Buffer.alloc(0));
  const base = head.length + iend.length;
  if (minBytes <= base) return Buffer.concat([head, iend]);
  const keyword = Buffer.from("Comment\0", "latin1");
  const pad = Buffer.alloc(Math.max(0, minBytes - base - 12 - keyword.length), 0x2e);
  return Buffer.concat([head, pngChunk("tEXt", Buffer.concat([keyword, pad])), iend]);
}

// ---- wire -----------------------------------------------------------------------------------

const problem = (status: number, title: string, detail: string, extra: object = {}): ErrorReply => ({
  status,
  body: { title, detail, status, ...extra },
  contentType: "application/problem+json",
});

const STATUS_DEFAULTS: Record<number, { title: string; detail: string }> = {
  400: { title: "Bad request", detail: "The request could not be understood." },
  401: { title: "Unauthenticated", detail: "You did not pass a valid authentication token" },
  402: {
    title: "Insufficient credit",
    detail: "You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing to purchase credit.",
  },
  403: { title: "Forbidden", detail: "You do not have permission to perform this action." },
  404: { title: "Not found", detail: "The requested resource could not be found." },
  422: { title: "Input validation failed", detail: "- input: Additional property is not allowed\n" },
  429: { title: "Request was throttled", detail: "Request was throttled. Your rate limit resets in ~1s." },
  500: { title: "Internal server error", detail: "An unexpected error occurred." },
};

function statusError(f: ServiceStatusFault): ErrorReply {
  const d = STATUS_DEFAULTS[f.status] ?? (f.status >= 500 ? STATUS_DEFAULTS[500]! : STATUS_DEFAULTS[400]!);
  return problem(f.status, d.title, f.message ?? d.detail);
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const replicateId = () => Array.from(randomBytes(26), (b) => ALPHABET[b % 36]).join("");
const versionHash = (s: string) => createHash("sha256").update(s).digest("hex");

interface StoredFile {
  id: string;
  name: string;
  content_type: string;
  size: number;
  data: Buffer;
  metadata: unknown;
  created_at: string;
  expires_at: string;
}

type Outcome = Exclude<ReplicateStep, { fault: ServiceFault }>;

interface Prediction {
  id: string;
  model: string;
  version: string;
  input: unknown;
  status: "starting" | "processing" | "succeeded" | "failed" | "canceled";
  outcome: Outcome;
  pollsLeft: number;
  output: unknown;
  error: string | null;
  logs: string;
  created_at: string;
  started_at?: string;
  completed_at?: string;
}

const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

function sniffType(data: Buffer, declared: string | undefined): string {
  if (declared && declared !== "application/octet-stream") return declared;
  if (data.subarray(0, 8).equals(PNG_SIGNATURE)) return "image/png";
  if (data[0] === 0xff && data[1] === 0xd8) return "image/jpeg";
  if (data.subarray(0, 4).toString("latin1") === "RIFF" && data.subarray(8, 12).toString("latin1") === "WAVE") return "audio/wav";
  if (data.subarray(0, 3).toString("latin1") === "ID3" || (data[0] === 0xff && ((data[1] ?? 0) & 0xe0) === 0xe0)) return "audio/mpeg";
  return declared ?? "application/octet-stream";
}

/** Start a fake Replicate server; give `url` (ends in /v1) to `new Replicate({ baseUrl: url })`. */
export async function startReplicateFake(): Promise<ReplicateFake> {
  const files = new Map<string, StoredFile>();
  const predictions = new Map<string, Prediction>();
  const outputs = new Map<string, Buffer>();
  let origin = "";
  const outputUrl = (name: string) => `${origin}/files/${encodeURIComponent(name)}`;

  const fileView = (f: StoredFile) => ({
    id: f.id,
    name: f.name,
    content_type: f.content_type,
    size: f.size,
    etag: createHash("md5").update(f.data).digest("hex"),
    checksums: { sha256: createHash("sha256").update(f.data).digest("hex"), md5: createHash("md5").update(f.data).digest("hex") },
    metadata: f.metadata,
    created_at: f.created_at,
    expires_at: f.expires_at,
    urls: { get: `${origin}/v1/files/${f.id}` },
  });

  const predictionView = (p: Prediction) => ({
    id: p.id,
    model: p.model,
    version: p.version,
    input: p.input,
    logs: p.logs,
    output: p.output,
    data_removed: false,
    error: p.error,
    source: "api",
    status: p.status,
    created_at: p.created_at,
    ...(p.started_at ? { started_at: p.started_at } : {}),
    ...(p.completed_at ? { completed_at: p.completed_at } : {}),
    urls: {
      cancel: `${origin}/v1/predictions/${p.id}/cancel`,
      get: `${origin}/v1/predictions/${p.id}`,
      web: `https://replicate.com/p/${p.id}`,
    },
    ...(p.status === "succeeded" ? { metrics: { predict_time: 0.01, total_time: 0.02 } } : {}),
  });

  const start = (p: Prediction) => {
    if (p.status === "starting") {
      p.status = "processing";
      p.started_at = new Date().toISOString();
      p.logs = "Running prediction...\n";
    }
  };

  const finish = (p: Prediction) => {
    start(p);
    p.completed_at = new Date().toISOString();
    const o = p.outcome;
    if (o.outcome === "succeed") {
      const names = o.output === "list" ? [`${p.id}-0.png`, `${p.id}-1.png`] : [`${p.id}.png`];
      if (o.bytes) for (const n of names) outputs.set(n, tinyPng(o.bytes));
      p.output = o.output === "list" ? names.map(outputUrl) : outputUrl(names[0]!);
      p.status = "succeeded";
      p.logs += "Done.\n";
    } else if (o.outcome === "fail") {
      p.status = "failed";
      p.error = o.error;
      p.logs += `${o.error}\n`;
    }
  };

  /** One GET's worth of progress. */
  const advance = (p: Prediction) => {
    if (TERMINAL.has(p.status)) return;
    if (p.outcome.outcome === "never") return start(p);
    if (p.pollsLeft > 0) {
      p.pollsLeft--;
      return start(p);
    }
    finish(p);
  };

  const createPrediction = (ex: Exchange<ReplicateStep>, modelRef: string | undefined) => {
    const body = ex.rec.body && typeof ex.rec.body === "object" ? ex.rec.body : {};
    let model: string;
    let version: string;
    if (modelRef === undefined) {
      if (typeof body.version !== "string" || body.version === "") {
        return ex.error(
          problem(422, "Invalid version or not permitted", "The specified version does not exist (or perhaps you don't have permission to use it?)"),
        );
      }
      // "owner/name:hash" is accepted as well as a bare version hash.
      const colon = body.version.indexOf(":");
      model = colon >= 0 ? body.version.slice(0, colon) : "fake-owner/fake-model";
      version = colon >= 0 ? body.version.slice(colon + 1) : body.version;
    } else {
      model = modelRef;
      version = versionHash(model);
    }
    if (!body.input || typeof body.input !== "object") {
      return ex.error(
        problem(422, "Input validation failed", "- input: Input is required\n", {
          invalid_fields: [{ type: "required", field: "input", description: "input is required" }],
        }),
      );
    }

    const step = ex.take();
    if (step && "fault" in step) return ex.fault(step.fault, statusError);
    const outcome: Outcome = step ?? { outcome: "succeed" };
    const p: Prediction = {
      id: replicateId(),
      model,
      version,
      input: body.input,
      status: "starting",
      outcome,
      pollsLeft: outcome.outcome === "never" ? 0 : Math.max(0, outcome.polls ?? 1),
      output: null,
      error: null,
      logs: "",
      created_at: new Date().toISOString(),
    };
    predictions.set(p.id, p);
    const prefer = String(ex.rec.headers["prefer"] ?? "");
    if (/^wait\b/.test(prefer)) {
      if (outcome.outcome === "never") start(p);
      else finish(p);
    }
    ex.json(201, predictionView(p));
  };

  const fake = await startServiceFake<ReplicateStep>({
    urlSuffix: "/v1",
    onReset: () => {
      files.clear();
      predictions.clear();
      outputs.clear();
    },
    handle(ex) {
      const { rec } = ex;
      const segs = rec.path.split("/").filter(Boolean).map(decodeURIComponent);
      const notFound = () => ex.error(problem(404, "Not found", "The requested resource could not be found."));

      // Output delivery (replicate.delivery in production): public, no auth.
      if (segs[0] === "files" && segs.length === 2 && rec.method === "GET") {
        const png = outputs.get(segs[1]!) ?? tinyPng();
        return ex.send(200, png, { "content-type": "image/png" });
      }
      if (segs[0] !== "v1") return notFound();

      const token = bearerToken(rec.headers, ["Bearer", "Token"]);
      if (!token) return ex.error(problem(401, "Unauthenticated", "You did not pass an authentication token"));
      if (token === "bad-key") return ex.error(problem(401, "Unauthenticated", "You did not pass a valid authentication token"));

      const [, a, b, c, d] = segs;
      const n = segs.length;
      const m = rec.method;

      if (a === "files") {
        if (n === 2 && m === "POST") {
          const content = ex.parts?.find((p) => p.name === "content");
          if (!content) return ex.error(problem(400, "Bad request", "Missing file content"));
          const metaPart = ex.parts?.find((p) => p.name === "metadata");
          let metadata: unknown = {};
          try {
            if (metaPart) metadata = JSON.parse(metaPart.data.toString("utf8"));
          } catch {
            return ex.error(problem(400, "Bad request", "Invalid metadata JSON"));
          }
          const now = Date.now();
          const f: StoredFile = {
            id: replicateId(),
            name: content.filename ?? "file",
            content_type: sniffType(content.data, content.contentType),
            size: content.data.length,
            data: content.data,
            metadata,
            created_at: new Date(now).toISOString(),
            expires_at: new Date(now + 24 * 3600 * 1000).toISOString(),
          };
          files.set(f.id, f);
          return ex.json(201, fileView(f));
        }
        if (n === 2 && m === "GET") return ex.json(200, { next: null, previous: null, results: [...files.values()].reverse().map(fileView) });
        const f = b === undefined ? undefined : files.get(b);
        if (!f) return notFound();
        if (n === 3 && m === "GET") return ex.json(200, fileView(f));
        if (n === 3 && m === "DELETE") {
          files.delete(f.id);
          ex.res.writeHead(204).end();
          return;
        }
        if (n === 4 && c === "download" && m === "GET") return ex.send(200, f.data, { "content-type": f.content_type });
        return notFound();
      }

      if (a === "predictions") {
        if (n === 2 && m === "POST") return createPrediction(ex, undefined);
        if (n === 2 && m === "GET") return ex.json(200, { next: null, previous: null, results: [...predictions.values()].reverse().map(predictionView) });
        const p = b === undefined ? undefined : predictions.get(b);
        if (!p) return notFound();
        if (n === 3 && m === "GET") {
          advance(p);
          return ex.json(200, predictionView(p));
        }
        if (n === 4 && c === "cancel" && m === "POST") {
          if (!TERMINAL.has(p.status)) {
            p.status = "canceled";
            p.completed_at = new Date().toISOString();
          }
          return ex.json(200, predictionView(p));
        }
        return notFound();
      }

      // POST /v1/models/{owner}/{name}/predictions and /v1/deployments/{owner}/{name}/predictions
      if ((a === "models" || a === "deployments") && n === 5 && d === "predictions" && m === "POST") {
        return createPrediction(ex, `${b}/${c}`);
      }
      return notFound();
    },
  });
  origin = fake.origin;
  return Object.assign(fake, { outputUrl });
}
