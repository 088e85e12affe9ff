import type { ChatRequest, LlmMessage, Reasoning, ReasoningEffort } from "./types.js";

/**
 * How a provider-neutral reasoning request becomes each API's own setting: OpenAI's
 * `reasoning_effort` and Anthropic's extended `thinking` budget. The adapters send what these say
 * and the compatible APIs' notes report it, so both read the same rules.
 */

/** Anthropic's smallest thinking budget. */
export const MIN_THINKING_BUDGET = 1024;

/** Thinking tokens per effort (Anthropic's budget when the caller gave an effort, not a budget). */
const EFFORT_BUDGET: Record<ReasoningEffort, number> = { minimal: MIN_THINKING_BUDGET, low: 2048, medium: 8192, high: 24576 };

/** Efforts from least to most. */
const EFFORTS: readonly ReasoningEffort[] = ["minimal", "low", "medium", "high"];
/** What OpenAI's o-series and most OpenAI-compatible reasoning models take. */
export const DEFAULT_EFFORTS: readonly ReasoningEffort[] = ["low", "medium", "high"];

/** The effort a request asks for: the one given, else the budget's band, else medium. */
export function askedEffort(r: Reasoning): ReasoningEffort {
  if (r.effort) return r.effort;
  if (r.budgetTokens === undefined) return "medium";
  return r.budgetTokens < 4096 ? "low" : r.budgetTokens < 16384 ? "medium" : "high";
}

/**
 * OpenAI's `reasoning_effort` for a model that takes `accepted`: the effort asked for, or, when
 * the model refuses it (o3 takes no `minimal`), the nearest it takes, the next stronger first.
 */
export function effortOf(r: Reasoning, accepted: readonly ReasoningEffort[] = DEFAULT_EFFORTS): ReasoningEffort {
  const asked = askedEffort(r);
  if (accepted.includes(asked)) return asked;
  const at = EFFORTS.indexOf(asked);
  return EFFORTS.slice(at + 1).find((e) => accepted.includes(e)) ?? [...EFFORTS.slice(0, at)].reverse().find((e) => accepted.includes(e)) ?? asked;
}

export type ThinkingPlan = { budgetTokens: number; maxTokens: number } | { skipped: string };

/**
 * Anthropic's `thinking` for a request: a budget of at least 1024 tokens and below max_tokens,
 * max_tokens raised to make room (within the model's ceiling), or why none can be sent.
 */
export function anthropicThinking(req: Pick<ChatRequest, "reasoning" | "maxOutputTokens" | "maxOutputCeiling" | "messages" | "toolChoice">): ThinkingPlan | undefined {
  if (!req.reasoning) return undefined;
  // Anthropic refuses thinking beside a forced tool call; the forced call is what the client needs.
  if (req.toolChoice) return { skipped: "the request forces a tool call (tool_choice), which Anthropic takes only without thinking" };
  // Anthropic refuses thinking when the turn that called the tools being answered has no thinking block.
  if (lastToolTurnLacksThinking(req.messages)) return { skipped: "the last assistant turn with tool calls has no thinking block (another model answered it)" };
  const wanted = Math.max(MIN_THINKING_BUDGET, req.reasoning.budgetTokens ?? EFFORT_BUDGET[req.reasoning.effort ?? "medium"]);
  const ceiling = Math.max(req.maxOutputCeiling ?? req.maxOutputTokens, req.maxOutputTokens);
  // Thinking counts toward max_tokens: keep the caller's room for the answer on top of the budget.
  const maxTokens = wanted < req.maxOutputTokens ? req.maxOutputTokens : Math.min(ceiling, wanted + req.maxOutputTokens);
  const budgetTokens = Math.min(wanted, maxTokens - 1);
  if (budgetTokens < MIN_THINKING_BUDGET) return { skipped: `max_tokens ${maxTokens} leaves no room for the ${MIN_THINKING_BUDGET}-token minimum budget` };
  return { budgetTokens, maxTokens };
}

/**
 * Whether the last assistant turn that called tools carries no thinking block. Consecutive
 * assistant messages count as one turn, as the Anthropic adapter merges them.
 */
export function lastToolTurnLacksThinking(messages: LlmMessage[]): boolean {
  let turn: LlmMessage[] = [];
  let lastToolTurn: LlmMessage[] | undefined;
  const close = () => {
    if (turn.some((m) => m.toolCalls?.length)) lastToolTurn = turn;
    turn = [];
  };
  for (const m of messages) {
    if (m.role === "system") continue;
    if (m.role === "assistant") turn.push(m);
    else close();
  }
  close();
  return !!lastToolTurn && !lastToolTurn.some((m) => m.thinking?.length);
}
