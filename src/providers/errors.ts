import type { ErrorCode } from "../errors.js";

/**
 * One failed attempt at one provider:model, mapped into the shared taxonomy. The failover
 * chain decides from `code` what to do next; `retryable` says whether the same model may
 * be tried again.
 */
export class ProviderFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "ProviderFailure";
  }
}

/** A stream that stopped before its end marker (connection cut mid-answer). Thrown by every streaming adapter. */
export class StreamIncompleteError extends Error {
  constructor(readonly provider: string) {
    super(`${provider} stream ended before the answer was complete`);
    this.name = "StreamIncompleteError";
  }
}

const CONTEXT_RE = /context[_ ]length|maximum context|context window|too many tokens|prompt is too long|input is too long|reduce the length/i;
const FILTER_RE = /content[_ ]?(filter|policy|management)|safety system|flagged|moderation/i;

interface SdkLikeError {
  name?: string;
  status?: number;
  message?: string;
  headers?: Headers | Record<string, string> | undefined;
  error?: unknown;
  code?: string;
  cause?: unknown;
}

/** Maps an SDK or network error to a ProviderFailure; `secrets` are scrubbed from messages. */
export function toProviderFailure(err: unknown, opts: { provider: string; secrets?: string[]; timedOut?: boolean; cancelled?: boolean }): ProviderFailure {
  if (err instanceof ProviderFailure) return err;
  const e = (err ?? {}) as SdkLikeError;
  // openai v6 leaves `name` as "Error" on its connection and abort errors: read the class name too.
  const name = e.name && e.name !== "Error" ? e.name : ((err as object | null)?.constructor?.name ?? e.name);
  const raw = redact(String(e.message ?? err), opts.secrets ?? []);
  const p = opts.provider;

  if (opts.cancelled) return new ProviderFailure("cancelled", "the request was cancelled by the caller", false);
  if (opts.timedOut || name === "APIConnectionTimeoutError" || name === "TimeoutError" || name === "TaskCancelledError") {
    return new ProviderFailure("timeout", `${p} did not answer in time`, true);
  }
  if (name === "APIUserAbortError" || name === "AbortError") return new ProviderFailure("cancelled", "the request was aborted", false);
  if (name === "StreamIncompleteError") return new ProviderFailure("provider_unavailable", `${p} cut the stream before the answer was complete`, true);
  if (err instanceof SyntaxError) return new ProviderFailure("provider_unavailable", `${p} sent a malformed response`, true);
  if (name === "APIConnectionError" || (e.status === undefined && isNetworkError(e))) {
    return new ProviderFailure("provider_unavailable", `cannot reach ${p} (${raw})`, true);
  }

  const status = e.status;
  const body = bodyText(e.error);
  const detail = redact(body || raw, opts.secrets ?? []);
  if (status === 401 || status === 403) {
    return new ProviderFailure("auth_failed", `${p} rejected the credentials (${status})`, false, status);
  }
  if (status === 429) {
    return new ProviderFailure("rate_limited", `${p} is rate limiting requests`, true, status, retryAfterMs(e.headers));
  }
  if (status === 408 || status === 409 || (status !== undefined && status >= 500)) {
    return new ProviderFailure("provider_unavailable", `${p} failed with ${status}${detail ? `: ${truncate(detail)}` : ""}`, true, status, retryAfterMs(e.headers));
  }
  if (status !== undefined && status >= 400) {
    if (CONTEXT_RE.test(detail) || /context_length_exceeded/.test(String(e.code ?? ""))) {
      return new ProviderFailure("context_length_exceeded", `the input is longer than this model's context window (${truncate(detail)})`, false, status);
    }
    if (FILTER_RE.test(detail)) return new ProviderFailure("content_filtered", `${p}'s content filter refused the request`, false, status);
    return new ProviderFailure("invalid_request", `${p} refused the request (${status}): ${truncate(detail)}`, false, status);
  }
  if (String(raw).match(/JSON|Unexpected token|parse/i)) return new ProviderFailure("provider_unavailable", `${p} sent a malformed response`, true);
  return new ProviderFailure("provider_unavailable", `${p} call failed: ${truncate(raw)}`, true);
}

function isNetworkError(e: SdkLikeError): boolean {
  const code = (e.cause as { code?: string } | undefined)?.code ?? e.code;
  return /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|UND_ERR|socket hang up|\bterminated\b|other side closed/i.test(`${code ?? ""} ${e.message ?? ""}`);
}

function bodyText(b: unknown): string {
  if (!b || typeof b !== "object") return typeof b === "string" ? b : "";
  const o = b as { message?: unknown; error?: { message?: unknown; code?: unknown } };
  return String(o.message ?? o.error?.message ?? "");
}

/** Retry-After in seconds or as an HTTP date; OpenAI also sends retry-after-ms. */
export function retryAfterMs(headers: SdkLikeError["headers"]): number | undefined {
  if (!headers) return undefined;
  const get = (k: string) => (typeof (headers as Headers).get === "function" ? (headers as Headers).get(k) : (headers as Record<string, string>)[k]) ?? undefined;
  const ms = Number(get("retry-after-ms"));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const v = get("retry-after");
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

const KEY_PATTERNS = [/sk-[A-Za-z0-9_*-]{6,}/g, /Bearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, /(api[_-]?key|x-api-key)["':=\s]+[A-Za-z0-9._*-]{8,}/gi];

/** Removes known secrets and anything shaped like a key. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("[redacted]");
  for (const re of KEY_PATTERNS) out = out.replace(re, "[redacted]");
  return out;
}

const truncate = (s: string, n = 300) => (s.length > n ? s.slice(0, n) + "…" : s);
