/**
 * SDKs report HTTP failures in different shapes (axios `response.status`, fetch `Response`,
 * `statusCode` with `rawResponse`). This gives them the `status`/`headers` shape the error mapping reads.
 */
export function normalizeHttpError(err: unknown): unknown {
  const e = err as {
    name?: string;
    message?: string;
    status?: number;
    statusCode?: number;
    response?: { status?: number; headers?: unknown; data?: unknown };
    /** ElevenLabs (Fern) keeps the response, and so Retry-After, here. */
    rawResponse?: { headers?: unknown };
    body?: unknown;
  };
  if (!e || typeof e !== "object" || typeof e.status === "number") return err;
  const status = e.response?.status ?? e.statusCode;
  if (typeof status !== "number") return err;
  const detail = e.response?.data ?? e.body;
  const message = typeof detail === "object" && detail ? JSON.stringify(detail) : String(detail ?? e.message ?? "");
  return Object.assign(new Error(message || e.message), { name: "HttpError", status, headers: toHeaders(e.response?.headers ?? e.rawResponse?.headers) });
}

function toHeaders(h: unknown): Headers | undefined {
  if (!h) return undefined;
  if (h instanceof Headers) return h;
  const out = new Headers();
  for (const [k, v] of Object.entries(h as Record<string, unknown>)) if (v !== undefined) out.set(k, String(v));
  return out;
}
