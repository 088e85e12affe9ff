import { BrokenCircuitError } from "cockatiel";
import { providerOf } from "../config/catalog.js";
import type { SwitchboardConfig } from "../config/schema.js";
import type { ChatResult } from "../providers/types.js";
import { ProviderFailure, toProviderFailure } from "../providers/errors.js";
import { skipped, tryModel, type Attempt } from "./attempt.js";
import type { BreakerBoard } from "./breakers.js";
import { cancelled, exhausted, type ChainReporting } from "./chain-errors.js";
import { reorder } from "./fallbacks.js";
import { modelPolicy } from "./model-policy.js";

export type { Attempt } from "./attempt.js";
export type { ChainReporting } from "./chain-errors.js";

/** How long the chain may take. */
export interface ChainLimits {
  /** Per try of one model. */
  attemptTimeoutMs: number;
  /** For the whole chain, retries and waits included (epoch ms). */
  deadlineAt: number;
  /** A person is waiting: after a timeout, faster models first. */
  interactive: boolean;
}

/** What the chain runs, and on which models. */
export interface ChainTarget<T> {
  /** Whether a model can be called here (a key, or the client's sampling). */
  callable(id: string): boolean;
  /** Whether a model outside the given chain may be brought in (tenant policy); default: yes. */
  eligible?(id: string): boolean;
  call(id: string, signal: AbortSignal): Promise<T>;
  /** Visible problem with an answer (see quality-gate), or null. */
  check?(result: T): string | null;
  /**
   * The model to retry on once when an answer fails its check, or undefined for none.
   * `usable` says which models the chain can still use: callable, eligible, breaker not
   * open, not tried yet.
   */
  escalate?(failedModel: string, usable: (id: string) => boolean): string | undefined;
  /** Whether a failure ends the chain at once (part of an answer already went to the caller). */
  stopAfterFailure?(): boolean;
}

export interface ChainOptions<T = ChatResult> {
  cfg: SwitchboardConfig;
  board: BreakerBoard;
  /** The caller's cancellation. */
  signal: AbortSignal;
  limits: ChainLimits;
  target: ChainTarget<T>;
  reporting: ChainReporting;
  now?: () => number;
}

export interface ChainResult<T = ChatResult> {
  model: string;
  result: T;
  attempts: Attempt[];
  escalated: boolean;
  /** Set when the answer returned still fails its check (nothing stronger could do better). */
  problem?: string;
}

const CIRCUIT_OPEN = "circuit open after repeated failures";

/**
 * Runs a call down a chain of models until one answers well. Per model: a timeout per try,
 * retries for transient failures, and a circuit breaker (model-policy.ts, attempt.ts).
 * Between models: typed fallbacks (fallbacks.ts) and one escalation, through
 * `target.escalate`, when an answer fails a visible check. Only when everything is spent
 * does it throw, with every attempt in the error (chain-errors.ts).
 */
export async function runChain<T = ChatResult>(candidates: readonly string[], o: ChainOptions<T>): Promise<ChainResult<T>> {
  const { limits, target, reporting, signal } = o;
  const now = o.now ?? Date.now;
  const f = o.cfg.router.failover;
  const eligible = (id: string) => target.eligible?.(id) ?? true;
  const attempts: Attempt[] = [];
  const tried = new Set<string>();
  let queue = [...new Set(candidates)];
  let last: ProviderFailure | undefined;
  /** The answer that failed its check, held while its escalation target runs. */
  let held: { model: string; result: T; problem: string; target: string } | undefined;
  const standing = (h: NonNullable<typeof held>): ChainResult<T> => ({ model: h.model, result: h.result, attempts, escalated: true, problem: h.problem });

  const runModel = modelPolicyFor(o, now);

  while (queue.length) {
    const id = queue.shift()!;
    if (tried.has(id)) continue;
    tried.add(id);
    if (signal.aborted) throw cancelled(attempts);
    if (!target.callable(id)) {
      attempts.push(skipped(id, "no_provider_configured", `${providerOf(id)} has no credentials here`));
      continue;
    }
    if (o.board.isOpen(id)) {
      attempts.push(skipped(id, "provider_unavailable", CIRCUIT_OPEN));
      continue;
    }
    if (limits.deadlineAt - now() <= 0) {
      last = new ProviderFailure("timeout", "the overall deadline passed", true);
      break;
    }

    let result: T;
    try {
      result = await runModel(id, () =>
        tryModel(id, { call: target.call, budgetMs: tryBudget(limits, now), signal, secrets: reporting.secrets, attempts }),
      );
    } catch (err) {
      if (err instanceof BrokenCircuitError) {
        last = new ProviderFailure("provider_unavailable", `${id} circuit opened`, true);
        attempts.push(skipped(id, "provider_unavailable", CIRCUIT_OPEN));
        continue;
      }
      const failure = toProviderFailure(err, { provider: providerOf(id), secrets: reporting.secrets, cancelled: signal.aborted });
      if (failure.code === "cancelled" || signal.aborted) throw cancelled(attempts, signal.aborted ? undefined : failure.message);
      last = failure;
      if (target.stopAfterFailure?.()) throw exhausted(attempts, failure, reporting);
      // Escalation is one retry on a stronger model; if that fails, the first answer stands.
      if (held && id === held.target) return standing(held);
      queue = reorder(queue, failure.code, id, { models: o.cfg.models, contentFiltered: f.contentFiltered, interactive: limits.interactive, tried, callable: target.callable, eligible });
      continue;
    }

    const problem = target.check?.(result) ?? undefined;
    const answered = attempts.at(-1)!;
    if (problem && f.escalate && !held) {
      const usable = (m: string) => !tried.has(m) && target.callable(m) && eligible(m) && !o.board.isOpen(m);
      const stronger = target.escalate?.(id, usable);
      if (stronger) {
        answered.outcome = "escalated";
        answered.message = `${problem}; escalating to ${stronger}`;
        held = { model: id, result, problem, target: stronger };
        queue.unshift(stronger);
        continue;
      }
    }
    if (problem) answered.message = `${problem} (returned as is: no stronger model is available)`;
    return { model: id, result, attempts, escalated: !!held, ...(problem ? { problem } : {}) };
  }

  // The escalation target was skipped (no credentials, open circuit, deadline): the first answer stands.
  if (held) return standing(held);
  throw exhausted(attempts, last, reporting);
}

/** What one try may take: the per-try timeout, cut to what is left of the deadline. */
function tryBudget(limits: ChainLimits, now: () => number): number {
  return Math.max(1, Math.min(limits.attemptTimeoutMs, limits.deadlineAt - now()));
}

/** Runs tries of a model under its retries and breaker; a retry waits only while the deadline allows. */
function modelPolicyFor<T>(o: ChainOptions<T>, now: () => number) {
  const f = o.cfg.router.failover;
  const retry = { maxAttempts: f.maxAttemptsPerModel, initialDelayMs: f.initialDelayMs, maxDelayMs: f.maxDelayMs, maxRetryAfterMs: f.maxRetryAfterMs };
  const canWait = (wait: number) => now() + wait < o.limits.deadlineAt && !o.signal.aborted;
  return (id: string, tryOnce: () => Promise<T>): Promise<T> => modelPolicy(o.board, id, retry, canWait)(tryOnce, o.signal);
}
