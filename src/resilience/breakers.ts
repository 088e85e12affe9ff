import type { CircuitBreakerPolicy, CircuitState } from "cockatiel";
import { cockatiel } from "./cockatiel.js";
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

/**
 * One circuit breaker per provider:model, created on first use. A breaker that opens here is
 * told to `onOpen` listeners (other instances, through the shared store); `holdOpen` is how such
 * news from elsewhere opens the breaker here, for as long as the other side's stays open.
 */
export class BreakerBoard {
  private readonly breakers = new Map<string, { policy: CircuitBreakerPolicy; openings: number }>();
  private readonly openListeners = new Set<(id: string, forMs: number) => void>();
  private readonly heldListeners = new Set<(id: string) => void>();
  /** Breakers held open on another instance's word, with the release of each hold. */
  private readonly held = new Map<string, { dispose(): void }>();

  constructor(private readonly opts: BreakerOptions) {}

  /** Told whenever a breaker opens here by its own failures (not when held open on another's word). */
  onOpen(listener: (id: string, forMs: number) => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }

  /** Told whenever a breaker is held open on another instance's word. */
  onHeld(listener: (id: string) => void): () => void {
    this.heldListeners.add(listener);
    return () => this.heldListeners.delete(listener);
  }

  /**
   * Opens the breaker for `forMs` because another instance found the model failing: calls skip
   * it at once, without each instance paying its own failures first. Then it closes again, and
   * this instance's own calls decide.
   */
  holdOpen(id: string, forMs: number): void {
    const policy = this.get(id);
    const { CircuitState } = cockatiel();
    if (this.held.has(id) || policy.state === CircuitState.Open || policy.state === CircuitState.Isolated) return;
    const handle = policy.isolate();
    const release = setTimeout(() => {
      this.held.delete(id);
      handle.dispose();
    }, forMs);
    release.unref();
    this.held.set(id, { dispose: () => (clearTimeout(release), handle.dispose()) });
    for (const l of this.heldListeners) l(id);
  }

  get(id: string): CircuitBreakerPolicy {
    let entry = this.breakers.get(id);
    if (!entry) {
      const { circuitBreaker, handleWhen, ConsecutiveBreaker } = cockatiel();
      const policy = circuitBreaker(
        handleWhen((e) => e instanceof ProviderFailure && UNHEALTHY.has(e.code)),
        { halfOpenAfter: this.opts.halfOpenAfterMs, breaker: new ConsecutiveBreaker(this.opts.consecutiveFailures) },
      );
      const created = { policy, openings: 0 };
      policy.onBreak((reason) => {
        // Held open on another instance's word: not news to pass on (it would echo back and forth).
        if ("isolated" in reason) return;
        created.openings++;
        for (const l of this.openListeners) l(id, this.opts.halfOpenAfterMs);
      });
      this.breakers.set(id, created);
      entry = created;
    }
    return entry.policy;
  }

  /** Open (or held open): calls are refused at once, so the chain skips this model. */
  isOpen(id: string): boolean {
    const s = this.breakers.get(id)?.policy.state;
    if (s === undefined) return false;
    const { CircuitState } = cockatiel();
    return s === CircuitState.Open || s === CircuitState.Isolated;
  }

  status(): BreakerStatus[] {
    return [...this.breakers.entries()].map(([id, { policy, openings }]) => ({ id, state: stateName(policy.state), openings }));
  }
}

function stateName(s: CircuitState): BreakerStatus["state"] {
  const { CircuitState } = cockatiel();
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
