import { BrokenCircuitError, TaskCancelledError, TimeoutStrategy, timeout } from "cockatiel";
import { providerOf, taskCapability, tierRank } from "../config/catalog.js";
import { type SwitchboardConfig, type TaskType } from "../config/schema.js";
import type { ChatResult } from "../providers/types.js";
import type { BreakerBoard } from "./breakers.js";
import { SwitchboardError, type ErrorCode } from "../errors.js";
import { ProviderFailure, toProviderFailure } from "../providers/errors.js";
import { retryPolicy } from "./retry.js";

export interface Attempt {
  model: string;
  provider: string;
  outcome: "ok" | "error" | "skipped" | "escalated";
  errorCode?: ErrorCode;
  message?: string;
  latencyMs: number;
}

export interface ChainOptions<T = ChatResult> {
  cfg: SwitchboardConfig;
  board: BreakerBoard;
  /** For escalation to a stronger model (LLM chains). */
  taskType: TaskType;
  /** The caller's cancellation. */
  signal: AbortSignal;
  attemptTimeoutMs: number;
  deadlineAt: number;
  interactive: boolean;
  /** Whether a model can be called here (a key, or the client's sampling). */
  callable(id: string): boolean;
  /** Whether a model outside the given chain may be brought in (tenant policy); default: yes. */
  eligible?(id: string): boolean;
  call(id: string, signal: AbortSignal): Promise<T>;
  /** Visible problem with an answer (see quality-gate), or null. */
  check?(result: T): string | null;
  /** Secrets to keep out of every message. */
  secrets: string[];
  /** Env var names that would turn on each provider, for the error hint. */
  keyHint(provider: string): string | undefined;
  /** LLM chains can fall back to the client's sampling; service chains cannot. */
  samplingPossible?: boolean;
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

/**
 * Runs a call down a chain of models until one answers well. Per model: a timeout per try,
 * retries for transient failures, and a circuit breaker. Between models: typed fallbacks
 * (a larger window after a context-length error, the configured alternative after a content
 * filter, faster models after a timeout on an interactive call) and one escalation to a
 * stronger model when an answer fails a visible check. Only when everything is spent does it
 * throw, with every attempt in the error.
 */
export async function runChain<T = ChatResult>(candidates: string[], o: ChainOptions<T>): Promise<ChainResult<T>> {
  const now = o.now ?? Date.now;
  const f = o.cfg.router.failover;
  const attempts: Attempt[] = [];
  const queue = [...new Set(candidates)];
  const tried = new Set<string>();
  let escalated = false;
  let held: { model: string; result: T; problem: string } | undefined;
  let escalationTarget: string | undefined;
  let last: ProviderFailure | undefined;

  while (queue.length) {
    const id = queue.shift()!;
    if (tried.has(id)) continue;
    tried.add(id);
    const provider = providerOf(id);
    if (o.signal.aborted) throw cancelled(attempts);
    if (!o.callable(id)) {
      attempts.push({ model: id, provider, outcome: "skipped", errorCode: "no_provider_configured", message: `${provider} has no credentials here`, latencyMs: 0 });
      continue;
    }
    if (o.board.isOpen(id)) {
      attempts.push({ model: id, provider, outcome: "skipped", errorCode: "provider_unavailable", message: "circuit open after repeated failures", latencyMs: 0 });
      continue;
    }
    if (o.deadlineAt - now() <= 0) {
      last = new ProviderFailure("timeout", "the overall deadline passed", true);
      break;
    }

    const once = async (): Promise<T> => {
      const budget = Math.max(1, Math.min(o.attemptTimeoutMs, o.deadlineAt - now()));
      const t0 = performance.now();
      try {
        const r = await timeout(budget, TimeoutStrategy.Aggressive).execute((_ctx, signal) => o.call(id, signal), o.signal);
        // A filtered completion is a failure of this model, not an answer.
        if ((r as { finishReason?: string } | null)?.finishReason === "content_filter") throw new ProviderFailure("content_filtered", `${provider}'s content filter stopped the answer`, false);
        attempts.push({ model: id, provider, outcome: "ok", latencyMs: ms(t0) });
        return r;
      } catch (err) {
        const failure = toProviderFailure(err, {
          provider,
          secrets: o.secrets,
          cancelled: o.signal.aborted,
          timedOut: err instanceof TaskCancelledError && !o.signal.aborted,
        });
        attempts.push({ model: id, provider, outcome: "error", errorCode: failure.code, message: failure.message, latencyMs: ms(t0) });
        throw failure;
      }
    };

    try {
      const policy = retryPolicy(
        { maxAttempts: f.maxAttemptsPerModel, initialDelayMs: f.initialDelayMs, maxDelayMs: f.maxDelayMs, maxRetryAfterMs: f.maxRetryAfterMs },
        (wait) => now() + wait < o.deadlineAt && !o.signal.aborted,
      );
      const breaker = o.board.get(id);
      const result = await policy.execute(() => breaker.execute(once), o.signal);
      const problem = o.check?.(result) ?? undefined;
      if (problem && f.escalate && !escalated) {
        const stronger = strongerModel(id, o, tried);
        if (stronger) {
          attempts.at(-1)!.outcome = "escalated";
          attempts.at(-1)!.message = `${problem}; escalating to ${stronger}`;
          escalated = true;
          escalationTarget = stronger;
          held = { model: id, result, problem };
          queue.unshift(stronger);
          continue;
        }
      }
      if (problem) attempts.at(-1)!.message = `${problem} (returned as is: no stronger model is available)`;
      return { model: id, result, attempts, escalated, ...(problem ? { problem } : {}) };
    } catch (err) {
      if (err instanceof BrokenCircuitError) {
        last = new ProviderFailure("provider_unavailable", `${id} circuit opened`, true);
        attempts.push({ model: id, provider, outcome: "skipped", errorCode: "provider_unavailable", message: "circuit open after repeated failures", latencyMs: 0 });
        continue;
      }
      const failure = err instanceof ProviderFailure ? err : toProviderFailure(err, { provider, secrets: o.secrets, cancelled: o.signal.aborted });
      if (failure.code === "cancelled" || o.signal.aborted) throw cancelled(attempts, o.signal.aborted ? undefined : failure.message);
      last = failure;
      // Escalation is one retry on a stronger model; if that fails, the first answer stands.
      if (held && id === escalationTarget) return { model: held.model, result: held.result, attempts, escalated, problem: held.problem };
      reorder(queue, failure.code, id, o, tried);
    }
  }

  // The escalation target was skipped (no credentials, open circuit): the first answer stands.
  if (held) return { model: held.model, result: held.result, attempts, escalated, problem: held.problem };
  throw exhausted(attempts, last, o);
}

/** Typed fallbacks: what failed decides what is worth trying next. */
function reorder<T>(queue: string[], code: ErrorCode, failed: string, o: ChainOptions<T>, tried: Set<string>): void {
  const models = o.cfg.models;
  if (code === "context_length_exceeded") {
    const window = models[failed]?.contextWindow ?? 0;
    const bigger = (id: string) => (models[id]?.contextWindow ?? 0) > window;
    const keep = queue.filter(bigger);
    const extra = Object.keys(models)
      .filter((id) => bigger(id) && !tried.has(id) && !keep.includes(id) && o.callable(id) && (o.eligible?.(id) ?? true))
      .sort((a, b) => models[a]!.price.input - models[b]!.price.input);
    queue.splice(0, queue.length, ...keep, ...extra);
  } else if (code === "content_filtered") {
    const alt = o.cfg.router.failover.contentFiltered.filter((id) => !tried.has(id) && id !== failed && (o.eligible?.(id) ?? true));
    const rest = queue.filter((id) => !alt.includes(id));
    queue.splice(0, queue.length, ...alt, ...rest);
  } else if (code === "timeout" && o.interactive) {
    // A person is waiting: faster models first.
    queue.sort((a, b) => (models[a]?.latencyMs ?? 1e9) - (models[b]?.latencyMs ?? 1e9));
  }
}

/** The cheapest callable model clearly more capable at this task than the one that fell short. */
function strongerModel<T>(id: string, o: ChainOptions<T>, tried: Set<string>): string | undefined {
  const models = o.cfg.models;
  const cur = models[id];
  if (!cur) return undefined;
  // Stronger means more capable at the task, not faster: speed is left out of the weights.
  const { speed: _speed, ...quality } = o.cfg.tasks[o.taskType].weights;
  const weights = Object.keys(quality).length ? quality : { reasoning: 0.5, instruction: 0.5 };
  const base = taskCapability(cur, weights);
  return Object.entries(models)
    .filter(([mid, m]) => !tried.has(mid) && o.callable(mid) && (o.eligible?.(mid) ?? true) && !o.board.isOpen(mid) && taskCapability(m, weights) > base + 3 && tierRank(m.tier) >= tierRank(cur.tier))
    .sort(([, a], [, b]) => a.price.output - b.price.output)[0]?.[0];
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  rate_limited: "wait a little and retry, or add another provider's key so Switchboard can route around the limit.",
  timeout: "retry, send long jobs with latency: background, or raise router.latencyClasses.*.attemptTimeoutMs in your config.",
  provider_unavailable: "the providers are failing or unreachable right now; retry later or configure another provider.",
  context_length_exceeded: "shorten the input, or add a model with a larger context window to the catalog.",
  content_filtered: "the providers' content filters refused this request; rephrase it.",
  invalid_request: "the providers refused the request as malformed; check the arguments (tools schema, response format).",
};

function exhausted<T>(attempts: Attempt[], last: ProviderFailure | undefined, o: ChainOptions<T>): SwitchboardError {
  const skippedForKeys = attempts.filter((a) => a.errorCode === "no_provider_configured");
  if (!last && skippedForKeys.length) {
    const envs = [...new Set(skippedForKeys.map((a) => o.keyHint(a.provider)).filter(Boolean))];
    return new SwitchboardError({
      code: "no_provider_configured",
      message: `no provider in the chain has credentials (${[...new Set(skippedForKeys.map((a) => a.provider))].join(", ")})`,
      hint: `set ${envs.join(" or ")} in the server's environment${o.samplingPossible ? ", or call from an MCP client that supports sampling" : ""}.`,
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
    hint: code === "auth_failed" ? `check ${o.keyHint(lastAttempt?.provider ?? "") ?? "the provider's API key"}: the provider rejected it.` : (HINTS[code] ?? "retry later."),
    retryable: last?.retryable ?? true,
    ...(lastAttempt ? { provider: lastAttempt.provider, model: lastAttempt.model } : {}),
    attempts,
  });
}

function cancelled(attempts: Attempt[], why?: string): SwitchboardError {
  return new SwitchboardError({
    code: "cancelled",
    message: why ?? "the request was cancelled by the caller",
    hint: why ? "the client declined; nothing failed on the server." : "nothing to fix; call again if you still need the answer.",
    retryable: !why,
    attempts,
  });
}

const ms = (t0: number) => Math.round(performance.now() - t0);
