import { TaskCancelledError, TimeoutStrategy, timeout } from "cockatiel";
import { providerOf } from "../config/catalog.js";
import type { ErrorCode } from "../errors.js";
import { ProviderFailure, toProviderFailure } from "../providers/errors.js";

/** One try of one model (or a skip), as every model-running tool reports it. */
export interface Attempt {
  model: string;
  provider: string;
  outcome: "ok" | "error" | "skipped" | "escalated";
  errorCode?: ErrorCode;
  message?: string;
  latencyMs: number;
}

export interface TryOptions<T> {
  call(id: string, signal: AbortSignal): Promise<T>;
  /** How long this try may take. */
  budgetMs: number;
  /** The caller's cancellation. */
  signal: AbortSignal;
  /** Secrets to keep out of the message. */
  secrets: string[];
  /** Where the try is recorded, success or failure. */
  attempts: Attempt[];
}

/**
 * One try of one model: the call under a timeout, its error mapped into a ProviderFailure
 * (a filtered completion counts as a failure), and the try recorded in `attempts`.
 */
export async function tryModel<T>(id: string, o: TryOptions<T>): Promise<T> {
  const provider = providerOf(id);
  const t0 = performance.now();
  try {
    // Not aborted once the call has returned: its request is over by then, and an abort builds a
    // DOMException with a stack trace on every call (a tenth of a millisecond of the hot path).
    const r = await timeout(o.budgetMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false }).execute((_ctx, signal) => o.call(id, signal), o.signal);
    // A filtered completion is a failure of this model, not an answer.
    if ((r as { finishReason?: string } | null)?.finishReason === "content_filter") throw new ProviderFailure("content_filtered", `${provider}'s content filter stopped the answer`, false);
    o.attempts.push({ model: id, provider, outcome: "ok", latencyMs: ms(t0) });
    return r;
  } catch (err) {
    const failure = toProviderFailure(err, {
      provider,
      secrets: o.secrets,
      cancelled: o.signal.aborted,
      timedOut: err instanceof TaskCancelledError && !o.signal.aborted,
    });
    o.attempts.push({ model: id, provider, outcome: "error", errorCode: failure.code, message: failure.message, latencyMs: ms(t0) });
    throw failure;
  }
}

/** A model passed over without a call. */
export function skipped(id: string, errorCode: ErrorCode, message: string): Attempt {
  return { model: id, provider: providerOf(id), outcome: "skipped", errorCode, message, latencyMs: 0 };
}

const ms = (t0: number) => Math.round(performance.now() - t0);
