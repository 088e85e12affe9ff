/**
 * Structured errors shared by every tool. Each says what went wrong, how to fix it,
 * and whether retrying the same call can help.
 */
export const ERROR_CODES = [
  "auth_failed",
  "rate_limited",
  "timeout",
  "provider_unavailable",
  "context_length_exceeded",
  "content_filtered",
  "invalid_request",
  "no_provider_configured",
  "budget_exceeded",
  "unauthorized",
  "forbidden",
  "not_found",
  "cancelled",
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  hint?: string;
  retryable: boolean;
  field?: string;
  validValues?: string[];
  provider?: string;
  model?: string;
  attempts?: unknown[];
  /** rate_limited: seconds until the limit's window turns (HTTP answers carry it as Retry-After). */
  retryAfterSeconds?: number;
  /** budget_exceeded: which ceiling, what was spent and reserved, the limit and when it resets. */
  ceiling?: { name: string; spentUsd: number; reservedUsd: number; limitUsd: number; requestedUsd: number; resetsAt: string };
}

export class SwitchboardError extends Error {
  constructor(readonly body: ErrorBody) {
    super(body.message);
    this.name = "SwitchboardError";
  }
}

export function invalidRequest(message: string, hint: string, extra: Partial<ErrorBody> = {}): SwitchboardError {
  return new SwitchboardError({ code: "invalid_request", message, hint, retryable: false, ...extra });
}

/** A value the caller sent, as an error message quotes it: cut to 100 characters (a name is never longer). */
export function shown(value: string): string {
  return value.length > 100 ? `${value.slice(0, 100)}… (${value.length.toLocaleString("en")} characters)` : value;
}

/** Closest valid value by edit distance, for "did you mean" hints. */
export function closest(value: string, valid: string[]): string | undefined {
  const v = value.toLowerCase();
  if (v.length >= 3) {
    const prefixed = valid.filter((x) => x.toLowerCase().startsWith(v));
    if (prefixed.length === 1) return prefixed[0];
  }
  const within = Math.max(2, Math.floor(value.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const v of valid) {
    // Edit distance is at least the difference in length: a value far longer than every valid one
    // (a megabyte-long "model") is near none, and is not compared letter by letter.
    if (Math.abs(value.length - v.length) > within) continue;
    const d = editDistance(value.toLowerCase(), v.toLowerCase());
    if (d < bestD) [best, bestD] = [v, d];
  }
  return bestD <= within ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

export function unknownValue(field: string, value: string, valid: string[]): SwitchboardError {
  const guess = closest(value, valid);
  return invalidRequest(
    `unknown ${field} "${shown(value)}"`,
    guess ? `did you mean "${guess}"? Use one of the valid values.` : `use one of the valid values, or leave ${field} out to let Switchboard decide.`,
    { field, validValues: valid },
  );
}
