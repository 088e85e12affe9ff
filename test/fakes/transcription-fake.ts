// Wire-faithful fake of OpenAI's POST /v1/audio/transcriptions (multipart upload), for the real
// `openai` SDK: `new OpenAI({ apiKey, baseURL: fake.url })` then `audio.transcriptions.create(...)`.
// response_format json -> { text, usage }; text -> text/plain with a trailing newline (as OpenAI sends);
// verbose_json -> { task, language, duration, text, segments, usage }; srt / vtt -> subtitle text.
import { randomId } from "./fake-server.js";
import {
  bearerToken,
  startServiceFake,
  type ErrorReply,
  type ServiceFake,
  type ServiceFault,
  type ServiceStatusFault,
} from "./service-fake.js";

export type { ServiceFake, ServiceFault, ServiceRequest } from "./service-fake.js";

export interface TranscriptionSegmentInput {
  start: number;
  end: number;
  text: string;
}

export interface TranscriptionReply {
  text?: string;
  /** Defaults to the text split into sentences spread over the duration. */
  segments?: TranscriptionSegmentInput[];
  /** Seconds; defaults to the upload's size at 16000 bytes/s (128 kbps), at least 1 s. */
  duration?: number;
  language?: string;
}

export type TranscriptionStep = { fault: ServiceFault } | TranscriptionReply;

export type TranscriptionFake = ServiceFake<TranscriptionStep>;

export const DEFAULT_TRANSCRIPT = "hello from the fake transcription";

const openaiError = (status: number, message: string, type: string, code: string | null, param: string | null = null): ErrorReply => ({
  status,
  body: { error: { message, type, param, code } },
});

const STATUS_DEFAULTS: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: "Invalid file format.", type: "invalid_request_error", code: null },
  401: { message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" },
  413: { message: "Maximum content size limit (26214400) exceeded.", type: "invalid_request_error", code: null },
  429: { message: "Rate limit reached for whisper-1 in organization org-fake on requests per min (RPM): Limit 50, Used 50, Requested 1.", type: "requests", code: "rate_limit_exceeded" },
  500: { message: "The server had an error while processing your request. Sorry about that!", type: "server_error", code: null },
  503: { message: "The engine is currently overloaded, please try again later.", type: "server_error", code: null },
};

function statusError(f: ServiceStatusFault): ErrorReply {
  const d = STATUS_DEFAULTS[f.status] ?? (f.status >= 500 ? STATUS_DEFAULTS[500]! : STATUS_DEFAULTS[400]!);
  return openaiError(f.status, f.message ?? d.message, d.type, d.code);
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function defaultSegments(text: string, duration: number): TranscriptionSegmentInput[] {
  const sentences = text.match(/[^.!?]+[.!?]*\s*/g)?.map((s) => s.trim()).filter(Boolean) ?? [text];
  const total = sentences.reduce((n, s) => n + s.length, 0) || 1;
  let t = 0;
  return sentences.map((s) => {
    const start = t;
    t += (duration * s.length) / total;
    return { start: round2(start), end: round2(t), text: ` ${s}` }; // Whisper segments start with a space
  });
}

const stamp = (sec: number, sep: "," | ".") => {
  const ms = Math.round(sec * 1000);
  const h = Math.floor(ms / 3600000);
  const m = Math.floor((ms % 3600000) / 60000);
  const s = Math.floor((ms % 60000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(h)}:${pad(m)}:${pad(s)}${sep}${pad(ms % 1000, 3)}`;
};

/** Start a fake OpenAI transcription server; give `url` (ends in /v1) to `new OpenAI({ baseURL: url })`. */
export function startTranscriptionFake(): Promise<TranscriptionFake> {
  return startServiceFake<TranscriptionStep>({
    urlSuffix: "/v1",
    handle(ex) {
      const { rec } = ex;
      if (rec.method !== "POST" || rec.path !== "/v1/audio/transcriptions") {
        return ex.error(openaiError(404, `Invalid URL (${rec.method} ${rec.path})`, "invalid_request_error", null));
      }
      const key = bearerToken(rec.headers);
      if (!key) {
        return ex.error(
          openaiError(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error",
            null,
          ),
        );
      }
      if (key === "bad-key") {
        return ex.error(openaiError(401, `Incorrect API key provided: ${key}.`, "invalid_request_error", "invalid_api_key"));
      }

      const fields: Record<string, string> = rec.body?.fields ?? {};
      const file = ex.parts?.find((p) => p.name === "file" && p.filename !== undefined);
      if (!file) return ex.error(openaiError(400, "1 validation error for Request\nbody -> file\n  field required (type=value_error.missing)", "invalid_request_error", null));
      if (!fields.model) return ex.error(openaiError(400, "you must provide a model parameter", "invalid_request_error", null));
      const format = fields.response_format ?? "json";
      if (!["json", "text", "verbose_json", "srt", "vtt"].includes(format)) {
        return ex.error(openaiError(400, `Invalid response_format '${format}'.`, "invalid_request_error", null, "response_format"));
      }

      const step = ex.take();
      if (step && "fault" in step) return ex.fault(step.fault, statusError);

      const text = step?.text ?? DEFAULT_TRANSCRIPT;
      const duration = step?.duration ?? Math.max(1, round2(file.data.length / 16000));
      const segments = step?.segments ?? defaultSegments(text, duration);
      const headers = { "x-request-id": randomId("req_") };

      switch (format) {
        case "text":
          return ex.send(200, `${text}\n`, { "content-type": "text/plain; charset=utf-8", ...headers });
        case "srt":
          return ex.send(200, segments.map((s, i) => `${i + 1}\n${stamp(s.start, ",")} --> ${stamp(s.end, ",")}\n${s.text.trim()}\n\n`).join(""), {
            "content-type": "text/plain; charset=utf-8",
            ...headers,
          });
        case "vtt":
          return ex.send(200, `WEBVTT\n\n${segments.map((s) => `${stamp(s.start, ".")} --> ${stamp(s.end, ".")}\n${s.text.trim()}\n\n`).join("")}`, {
            "content-type": "text/plain; charset=utf-8",
            ...headers,
          });
        case "verbose_json":
          return ex.json(
            200,
            {
              task: "transcribe",
              language: step?.language ?? "english",
              duration,
              text,
              segments: segments.map((s, id) => ({
                id,
                seek: 0,
                start: s.start,
                end: s.end,
                text: s.text,
                tokens: [],
                temperature: 0,
                avg_logprob: -0.2,
                compression_ratio: 1.2,
                no_speech_prob: 0.01,
              })),
              usage: { type: "duration", seconds: Math.ceil(duration) },
            },
            headers,
          );
        default:
          return ex.json(200, { text, usage: { type: "duration", seconds: Math.ceil(duration) } }, headers);
      }
    },
  });
}
