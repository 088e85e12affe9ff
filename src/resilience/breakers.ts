import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from "cockatiel";
import { ProviderFailure } from "../providers/errors.js";

/** Failures that say the model is unhealthy; a bad request or a filtered prompt says nothing about it. */
const UNHEALTHY = new Set(["provider_unavailable", "timeout", "rate_limited", "auth_failed"]);

export interface BreakerOptions {
  consecutiveFailures: number;
  halfOpenAfterMs: number;
}

export interface BreakerStatus {
  id: string;
  state: "closed" | "open" | "half_open" | "isolated";
  openings: number;
}

/** One circuit breaker per provider:model, created on first use. */
export class BreakerBoard {
  private readonly breakers = new Map<string, { policy: CircuitBreakerPolicy; openings: number }>();

  constructor(private readonly opts: BreakerOptions) {}

  get(id: string): CircuitBreakerPolicy {
    let entry = this.breakers.get(id);
    if (!entry) {
      const policy = circuitBreaker(
        handleWhen((e) => e instanceof ProviderFailure && UNHEALTHY.has(e.code)),
        { halfOpenAfter: this.opts.halfOpenAfterMs, breaker: new ConsecutiveBreaker(this.opts.consecutiveFailures) },
      );
      const created = { policy, openings: 0 };
      policy.onBreak(() => created.openings++);
      this.breakers.set(id, created);
      entry = created;
    }
    return entry.policy;
  }

  /** Open (or held open): calls are refused at once, so the chain skips this model. */
  isOpen(id: string): boolean {
    const s = this.breakers.get(id)?.policy.state;
    return s === CircuitState.Open || s === CircuitState.Isolated;
  }

  status(): BreakerStatus[] {
    return [...this.breakers.entries()].map(([id, { policy, openings }]) => ({ id, state: stateName(policy.state), openings }));
  }
}

function stateName(s: CircuitState): BreakerStatus["state"] {
  switch (s) {
    case CircuitState.Open:
      return "open";
    case CircuitState.HalfOpen:
      return "half_open";
    case CircuitState.Isolated:
      return "isolated";
    default:
      return "closed";
  }
}
