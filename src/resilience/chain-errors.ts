import { SwitchboardError, type ErrorCode } from "../errors.js";
import type { ProviderFailure } from "../providers/errors.js";
import type { Attempt } from "./attempt.js";

/** What the chain's errors tell the caller beyond the attempts. */
export interface ChainReporting {
  /** Secrets to keep out of every message. */
  secrets: string[];
  /** Env var names that would turn on each provider, for the error hint. */
  keyHint(provider: string): string | undefined;
  /** LLM chains can fall back to the client's sampling; service chains cannot. */
  samplingPossible?: boolean;
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  rate_limited: "wait a little and retry, or add another provider's key so Switchboard can route around the limit.",
  timeout: "retry, send long jobs with latency: background, or raise router.latencyClasses.*.attemptTimeoutMs in your config.",
  provider_unavailable: "the providers are failing or unreachable right now; retry later or configure another provider.",
  context_length_exceeded: "shorten the input, or add a model with a larger context window to the catalog.",
  content_filtered: "the providers' content filters refused this request; rephrase it.",
  invalid_request: "the providers refused the request as malformed; check the arguments (tools schema, response format).",
};

/**
 * Every model is spent: no_provider_configured when nothing could be called at all,
 * otherwise the last failure's code with the last few attempts in the message.
 */
export function exhausted(attempts: Attempt[], last: ProviderFailure | undefined, r: ChainReporting): SwitchboardError {
  const skippedForKeys = attempts.filter((a) => a.errorCode === "no_provider_configured");
  if (!last && skippedForKeys.length) {
    const envs = [...new Set(skippedForKeys.map((a) => r.keyHint(a.provider)).filter(Boolean))];
    return new SwitchboardError({
      code: "no_provider_configured",
      message: `no provider in the chain has credentials (${[...new Set(skippedForKeys.map((a) => a.provider))].join(", ")})`,
      hint: `set ${envs.join(" or ")} in the server's environment${r.samplingPossible ? ", or call from an MCP client that supports sampling" : ""}.`,
      retryable: false,
      attempts,
    });
  }
  const code: ErrorCode = last?.code ?? "provider_unavailable";
  const tail = attempts.filter((a) => a.outcome !== "ok");
  const summary = tail.slice(-4).map((a) => `${a.model}: ${a.message ?? a.errorCode}`).join("; ");
  const lastAttempt = tail.filter((a) => a.outcome === "error").at(-1) ?? tail.at(-1);
  return new SwitchboardError({
    code,
    message: `every model in the chain failed (${summary})`,
    hint: code === "auth_failed" ? `check ${r.keyHint(lastAttempt?.provider ?? "") ?? "the provider's API key"}: the provider rejected it.` : (HINTS[code] ?? "retry later."),
    retryable: last?.retryable ?? true,
    ...(lastAttempt ? { provider: lastAttempt.provider, model: lastAttempt.model } : {}),
    attempts,
  });
}

/** The caller cancelled, or (with `why`) the client declined, e.g. a sampling request. */
export function cancelled(attempts: Attempt[], why?: string): SwitchboardError {
  return new SwitchboardError({
    code: "cancelled",
    message: why ?? "the request was cancelled by the caller",
    hint: why ? "the client declined; nothing failed on the server." : "nothing to fix; call again if you still need the answer.",
    retryable: !why,
    attempts,
  });
}
