import type { BreakerBoard } from "./breakers.js";
import { retryPolicy, type RetryOptions } from "./retry.js";

/** Runs tries of one model under its policy; the caller's signal stops the retries. */
export type ModelPolicy = <T>(tryOnce: () => Promise<T>, signal: AbortSignal) => Promise<T>;

/**
 * One model's policy, outermost first: retries with backoff (Retry-After honoured, and only
 * while `canWait` says the delay still fits the deadline), then the model's circuit breaker
 * (shared per provider:model on the board), then the try itself, which carries its own
 * timeout. A breaker that is open throws BrokenCircuitError.
 *
 * Composed by hand rather than with cockatiel's wrap(): wrap would also hand the caller's
 * signal to the breaker, which changes what a call waiting on a half-open test does when
 * it is cancelled.
 */
export function modelPolicy(board: BreakerBoard, id: string, retry: RetryOptions, canWait: (delayMs: number) => boolean): ModelPolicy {
  const retries = retryPolicy(retry, canWait);
  const breaker = board.get(id);
  return (tryOnce, signal) => retries.execute(() => breaker.execute(tryOnce), signal);
}
