// Shared plumbing of the "service" fakes (tavily, perplexity, replicate, elevenlabs, transcription):
// an ephemeral node:http server on 127.0.0.1 that records every request (JSON, multipart or raw)
// before anything else happens, then hands it to a provider handler that answers from a queue of
// scripted steps or a default. The chat fakes keep using fake-server.ts.
import type { IncomingMessage, ServerResponse } from "node:http";
import { listenLoopback } from "./loopback.js";

export interface MultipartFile {
  field: string;
  filename: string;
  size: number;
  contentType?: string;
}

/** How a multipart/form-data body is recorded. Repeated text fields are joined with ",". */
export interface MultipartBody {
  fields: Record<string, string>;
  files: MultipartFile[];
}

export interface ServiceRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /**
   * Parsed JSON; a MultipartBody for multipart/form-data; the text for text/*; otherwise the raw
   * body's length in bytes (a number); undefined when empty.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary wire payloads
  body: any;
  receivedAt: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each fake narrows its own step type
export interface ServiceFake<S = any> {
  /** Base URL to hand to the SDK. */
  url: string;
  requests: ServiceRequest[];
  enqueue(...steps: S[]): void;
  /** Clear the step queue, the recorded requests and any per-fake state. */
  reset(): void;
  /** Stops listening and destroys every connection, hanging ones included. */
  close(): Promise<void>;
  /** Resolves once at least `n` requests have been recorded (counting since the last reset). */
  waitForRequests(n: number): Promise<ServiceRequest[]>;
}

export type ServiceFault =
  | { kind: "status"; status: number; retryAfter?: number; message?: string }
  /** Never answer: the client's timeout/abort or close() ends the socket. */
  | { kind: "hang" }
  /** Destroy the socket without answering. */
  | { kind: "reset" };

export type ServiceStatusFault = Extract<ServiceFault, { kind: "status" }>;

export interface ErrorReply {
  status: number;
  body: unknown;
  /** Defaults to application/json. */
  contentType?: string;
}

export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** One request as seen by a provider handler. */
export interface Exchange<S> {
  rec: ServiceRequest;
  raw: Buffer;
  parts: MultipartPart[] | undefined;
  req: IncomingMessage;
  res: ServerResponse;
  /** "http://127.0.0.1:PORT" */
  origin: string;
  /** The next queued step, if any (removes it). */
  take(): S | undefined;
  json(status: number, payload: unknown, headers?: Record<string, string>): void;
  send(status: number, body: Buffer | string, headers: Record<string, string>): void;
  error(e: ErrorReply, headers?: Record<string, string>): void;
  /** Apply a fault; status faults are rendered with `statusError`. */
  fault(f: ServiceFault, statusError: (f: ServiceStatusFault) => ErrorReply): void;
}

export interface ServiceDefinition<S> {
  /** Appended to the origin to form ServiceFake.url ("" or "/v1"). */
  urlSuffix: string;
  handle(ex: Exchange<S>): void | Promise<void>;
  onReset?(): void;
}

export function bearerToken(headers: ServiceRequest["headers"], schemes: string[] = ["Bearer"]): string {
  const auth = headers["authorization"];
  if (typeof auth !== "string") return "";
  for (const scheme of schemes) {
    if (auth.toLowerCase().startsWith(scheme.toLowerCase() + " ")) return auth.slice(scheme.length + 1).trim();
  }
  return "";
}

export function slugify(s: string, max = 40): string {
  const slug = s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, max)
    .replace(/-+$/g, "");
  return slug || "query";
}

function headerParam(header: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|;)\\s*${key}\\*?=(?:"([^"]*)"|([^;]*))`, "i").exec(header);
  return m ? (m[1] ?? m[2]?.trim()) : undefined;
}

/** Minimal multipart/form-data parser (what fetch's FormData produces). */
export function parseMultipart(raw: Buffer, contentType: string): MultipartPart[] {
  const boundary = headerParam(contentType, "boundary");
  if (!boundary) return [];
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = raw.indexOf(delimiter);
  while (pos >= 0) {
    let start = pos + delimiter.length;
    if (raw.subarray(start, start + 2).toString() === "--") break; // closing delimiter
    if (raw.subarray(start, start + 2).toString() === "\r\n") start += 2;
    const next = raw.indexOf(delimiter, start);
    if (next < 0) break;
    let end = next;
    if (raw.subarray(end - 2, end).toString() === "\r\n") end -= 2;
    const chunk = raw.subarray(start, end);
    const headerEnd = chunk.indexOf("\r\n\r\n");
    if (headerEnd >= 0) {
      const headers: Record<string, string> = {};
      for (const line of chunk.subarray(0, headerEnd).toString("utf8").split("\r\n")) {
        const i = line.indexOf(":");
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const disposition = headers["content-disposition"] ?? "";
      parts.push({
        name: headerParam(disposition, "name") ?? "",
        filename: headerParam(disposition, "filename"),
        contentType: headers["content-type"],
        data: Buffer.from(chunk.subarray(headerEnd + 4)),
      });
    }
    pos = next;
  }
  return parts;
}

export function summarizeMultipart(parts: MultipartPart[]): MultipartBody {
  const fields: Record<string, string> = {};
  const files: MultipartFile[] = [];
  for (const p of parts) {
    if (p.filename !== undefined) {
      files.push({ field: p.name, filename: p.filename, size: p.data.length, ...(p.contentType ? { contentType: p.contentType } : {}) });
    } else {
      const value = p.data.toString("utf8");
      fields[p.name] = p.name in fields ? `${fields[p.name]},${value}` : value;
    }
  }
  return { fields, files };
}

export async function startServiceFake<S>(def: ServiceDefinition<S>): Promise<ServiceFake<S> & { origin: string }> {
  const requests: ServiceRequest[] = [];
  let queue: S[] = [];
  let waiters: Array<{ count: number; resolve: (r: ServiceRequest[]) => void }> = [];
  let origin = "";

  const record = (rec: ServiceRequest) => {
    requests.push(rec);
    waiters = waiters.filter((w) => (requests.length >= w.count ? (w.resolve([...requests]), false) : true));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const contentType = String(req.headers["content-type"] ?? "");
    let parts: MultipartPart[] | undefined;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary wire payloads
    let body: any = undefined;
    if (raw.length > 0) {
      if (/^multipart\/form-data/i.test(contentType)) {
        parts = parseMultipart(raw, contentType);
        body = summarizeMultipart(parts);
      } else if (/json/i.test(contentType) || /^\s*[[{]/.test(raw.subarray(0, 16).toString("utf8"))) {
        try {
          body = JSON.parse(raw.toString("utf8"));
        } catch {
          body = raw.toString("utf8");
        }
      } else if (/^text\//i.test(contentType)) {
        body = raw.toString("utf8");
      } else {
        body = raw.length;
      }
    }
    const url = new URL(req.url ?? "/", origin);
    const rec: ServiceRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      body,
      receivedAt: Date.now(),
    };
    record(rec);

    const send = (status: number, payload: Buffer | string, headers: Record<string, string>) => {
      if (res.destroyed) return;
      res.writeHead(status, { "content-length": String(Buffer.byteLength(payload)), ...headers });
      res.end(payload);
    };
    const json = (status: number, payload: unknown, headers: Record<string, string> = {}) =>
      send(status, typeof payload === "string" ? payload : JSON.stringify(payload), { "content-type": "application/json", ...headers });
    const error = (e: ErrorReply, headers: Record<string, string> = {}) => {
      const contentType = e.contentType ?? "application/json";
      const text = typeof e.body === "string" ? e.body : JSON.stringify(e.body);
      send(e.status, text, { "content-type": contentType, ...headers });
    };
    const ex: Exchange<S> = {
      rec,
      raw,
      parts,
      req,
      res,
      origin,
      take: () => queue.shift(),
      json,
      send,
      error,
      fault(f, statusError) {
        switch (f.kind) {
          case "hang":
            return; // never answer
          case "reset":
            req.socket.destroy();
            return;
          case "status":
            return error(statusError(f), f.retryAfter === undefined ? {} : { "retry-after": String(f.retryAfter) });
        }
      },
    };
    await def.handle(ex);
  }

  const server = await listenLoopback(handle);
  origin = server.origin;

  return {
    url: origin + def.urlSuffix,
    origin,
    requests,
    enqueue: (...steps) => void queue.push(...steps),
    reset: () => {
      queue = [];
      requests.length = 0;
      def.onReset?.();
    },
    waitForRequests: (n) =>
      requests.length >= n ? Promise.resolve([...requests]) : new Promise((resolve) => waiters.push({ count: n, resolve })),
    close: async () => {
      await server.close();
    },
  };
}
