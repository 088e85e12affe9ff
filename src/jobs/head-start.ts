import { callCost, providerOf, tenantAllows } from "../config/catalog.js";
import type { RateLimits, SwitchboardConfig } from "../config/schema.js";
import type { ChatResult, PassthroughEvent, ThinkingDelta, ToolCallDelta } from "../providers/types.js";
import { ATTACHMENT_TOKENS, MESSAGE_OVERHEAD_TOKENS } from "../routing/tokens.js";
import { validate } from "../routing/validate.js";
import { logger } from "../logger.js";
import type { Runtime } from "../runtime.js";
import type { Decision, RouteInput } from "../routing/types.js";
import { chatRequestFor, streamedParts, type HeadStart, type LlmCallContext, type LlmCallSpec, type StreamHandlers } from "./llm-call.js";

/** What of an LLM job the head start reads (llm-pipeline.ts's LlmJob). */
interface EarlyJob {
  route: RouteInput;
  call: LlmCallSpec;
  decision?: Decision;
  caller?: { rateLimits?: RateLimits };
}

/** The room a tenant's last reservation must have left, in worst-case answers of this request: else the call waits for its budget. */
export const EARLY_ROOM_FACTOR = 2;

type Held =
  | { kind: "delta"; piece: string }
  | { kind: "thinking"; delta: ThinkingDelta }
  | { kind: "toolCall"; delta: ToolCallDelta }
  | { kind: "block"; event: PassthroughEvent };

/**
 * A model the caller named will be the decision's first model (a named model is forced), so its
 * request can leave before the decision is made and the decision is worked out while the provider
 * thinks: about half a millisecond off every named call's first token and whole answer. Nothing of
 * the answer reaches the caller before the decision, the rate limits and the budget have passed:
 * its pieces are held until the chain's first try of that model takes the request over (`claim`),
 * and a request the chain does not take (routing refused the call, the budget did, or the decision
 * differs) is aborted before any of it was used.
 *
 * It leaves early only when those checks cannot plausibly refuse it: the model is in the catalog,
 * the tenant may use it, its provider has a key and its breaker is closed, no rate limit applies
 * (a limit refuses routinely), the router would take the request (`validate`), and the tenant has no
 * spending ceiling or its last reservation here left room for twice the dearest answer any model
 * could bill for it (`EARLY_ROOM_FACTOR`). A tenant's first call waits for its budget.
 *
 * Returns undefined when the call does not qualify; else the head start and `sent`, to resolve
 * before deciding: it lets the request reach the wire first.
 */
export function startEarly(runtime: Runtime, job: EarlyJob, ctx: LlmCallContext): { early: HeadStart; sent: Promise<void> } | undefined {
  const cfg = runtime.config;
  const id = job.route.model;
  if (!id || job.decision || !Object.hasOwn(cfg.models, id) || ctx.signal.aborted) return undefined;
  const tenantName = job.route.tenant ?? cfg.router.defaultTenant;
  const tenant = Object.hasOwn(cfg.tenants, tenantName) ? cfg.tenants[tenantName] : undefined;
  if (!tenant || !tenantAllows(tenant, id) || tenant.rateLimits || job.caller?.rateLimits) return undefined;
  // A caller's mode that is no LLM job, or a request the router refuses, is refused before anything is sent.
  if (job.route.mode !== undefined && (!Object.hasOwn(cfg.modes, job.route.mode) || cfg.modes[job.route.mode]!.job !== "llm")) return undefined;
  try {
    validate(job.route, cfg);
  } catch {
    return undefined;
  }
  const adapter = runtime.providers.adapter(providerOf(id));
  if (!adapter || runtime.breakers.isOpen(id) || !budgetLeavesRoom(runtime, cfg, tenantName, job)) return undefined;

  const abort = new AbortController();
  const stop = () => abort.abort(ctx.signal.reason);
  ctx.signal.addEventListener("abort", stop, { once: true });
  let sink: StreamHandlers | undefined;
  const held: Held[] = [];
  const parts = streamedParts(ctx);
  const relay: StreamHandlers = {
    ...(parts.delta ? { onDelta: (piece: string) => (sink ? sink.onDelta?.(piece) : void held.push({ kind: "delta", piece })) } : {}),
    ...(parts.thinking ? { onThinking: (delta: ThinkingDelta) => (sink ? sink.onThinking?.(delta) : void held.push({ kind: "thinking", delta })) } : {}),
    ...(parts.toolCall ? { onToolCall: (delta: ToolCallDelta) => (sink ? sink.onToolCall?.(delta) : void held.push({ kind: "toolCall", delta })) } : {}),
    ...(parts.block ? { onBlock: (event: PassthroughEvent) => (sink ? sink.onBlock?.(event) : void held.push({ kind: "block", event })) } : {}),
  };
  let answer: Promise<ChatResult>;
  try {
    answer = adapter.chat(chatRequestFor(cfg.models[id], id, job.call), { signal: abort.signal, ...relay });
  } catch {
    // An adapter that throws at once (not through its promise): the chain calls it again, and reports it.
    ctx.signal.removeEventListener("abort", stop);
    return undefined;
  }
  // Settled whether or not the chain takes it: a refused early request is no unhandled rejection.
  void answer.then(
    () => ctx.signal.removeEventListener("abort", stop),
    () => ctx.signal.removeEventListener("abort", stop),
  );
  let state: "open" | "claimed" | "dropped" = "open";

  const early: HeadStart = {
    model: id,
    claim(tryId, tryCfg, signal, handlers) {
      if (state !== "open" || tryId !== id || tryCfg !== cfg) return undefined;
      state = "claimed";
      if (signal.aborted) abort.abort(signal.reason);
      else signal.addEventListener("abort", () => abort.abort(signal.reason), { once: true });
      sink = handlers;
      for (const h of held.splice(0)) replay(h, handlers);
      return answer;
    },
    drop() {
      if (state !== "open") return;
      state = "dropped";
      // Rare by design (see startEarly): a provider saw a request no caller got an answer from.
      logger.debug({ model: id, tenant: tenantName }, "a request sent ahead of its decision was aborted unused");
      abort.abort(new Error("the early request was not needed"));
    },
  };
  // A turn of the event loop: the SDK builds the request and hands it to the socket in promise callbacks.
  return { early, sent: new Promise<void>((resolve) => setImmediate(resolve)) };
}

/**
 * No store or no ceiling; or the tenant's last reservation here left room for twice the dearest
 * answer any catalog model could bill for this request (what the guard reserves is one of those).
 */
function budgetLeavesRoom(runtime: Runtime, cfg: SwitchboardConfig, tenant: string, job: EarlyJob): boolean {
  if (!runtime.store) return true;
  const ledger = runtime.openedBudgets();
  if (!ledger) return false;
  if (!ledger.ceilings(tenant).length) return true;
  const room = ledger.lastRoom(tenant);
  if (room === undefined) return false;
  const input = Math.ceil(inputTokenBound(job.route) * cfg.budgets.inputMargin);
  let dearest = 0;
  for (const m of Object.values(cfg.models)) dearest = Math.max(dearest, callCost(m, input, m.maxOutput));
  return dearest * EARLY_ROOM_FACTOR <= room;
}

/**
 * At least the router's input estimate: a token is at least a byte of UTF-8 and a UTF-16 unit at
 * most three, plus each message's framing and the attachments' counts as the router takes them.
 */
function inputTokenBound(route: RouteInput): number {
  let chars = route.prompt?.length ?? 0;
  for (const m of route.messages ?? []) chars += m.content?.length ?? 0;
  const media = (route.attachments ?? []).reduce((n, a) => n + (a.tokens ?? ATTACHMENT_TOKENS[a.kind]), 0);
  return 3 * chars + MESSAGE_OVERHEAD_TOKENS * ((route.messages?.length ?? 0) + 1) + media + (route.contextTokens ?? 0);
}

function replay(h: Held, to: StreamHandlers): void {
  if (h.kind === "delta") to.onDelta?.(h.piece);
  else if (h.kind === "thinking") to.onThinking?.(h.delta);
  else if (h.kind === "toolCall") to.onToolCall?.(h.delta);
  else to.onBlock?.(h.event);
}
