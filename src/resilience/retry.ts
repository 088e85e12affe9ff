import { handleWhen, retry, type IBackoff, type IBackoffFactory, type IRetryBackoffContext, type RetryPolicy } from "cockatiel";
import { ProviderFailure } from "../providers/errors.js";

export interface RetryOptions {
  /** Tries of one model, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this moves on to the next model instead of waiting. */
  maxRetryAfterMs: number;
}

type Ctx = IRetryBackoffContext<unknown>;

/**
 * Exponential backoff with full jitter (a random delay in [0, base * 2^n]), except that a
 * provider's Retry-After is honoured as given.
 */
export class RetryAfterBackoff implements IBackoffFactory<Ctx> {
  constructor(private readonly opts: Pick<RetryOptions, "initialDelayMs" | "maxDelayMs">) {}

  next(ctx: Ctx): IBackoff<Ctx> {
    const err = "error" in ctx.result ? ctx.result.error : undefined;
    const retryAfter = err instanceof ProviderFailure ? err.retryAfterMs : undefined;
    const cap = Math.min(this.opts.maxDelayMs, this.opts.initialDelayMs * 2 ** Math.max(0, ctx.attempt - 1));
    return { duration: retryAfter ?? Math.random() * cap, next: (c: Ctx) => this.next(c) };
  }
}

/**
 * Retries the same model on rate limits, 5xx, timeouts and broken connections; never on
 * 4xx requests, auth, filtered content or cancellation. `canWait` vetoes a retry whose
 * delay would not fit in what is left of the deadline.
 */
export function retryPolicy(opts: RetryOptions, canWait: (delayMs: number) => boolean): RetryPolicy {
  return retry(
    handleWhen((e) => {
      if (!(e instanceof ProviderFailure) || !e.retryable) return false;
      const wait = e.retryAfterMs ?? 0;
      return wait <= opts.maxRetryAfterMs && canWait(wait);
    }),
    { maxAttempts: Math.max(0, opts.maxAttempts - 1), backoff: new RetryAfterBackoff(opts) },
  );
}
