import { ATTACHMENT_TOKENS, estimateTokens, MESSAGE_OVERHEAD_TOKENS } from "./tokens.js";
import type { RouteInput } from "./types.js";

export interface Prompt {
  /** What is asked now: the prompt plus the last user turn. Classification reads only this. */
  text: string;
  turns: number;
  /** Tokens that are not prompt text: contextTokens plus attachments. */
  extraTokens: number;
  /** Everything the model will read: all turns, their overhead, context and attachments. */
  inputTokens: number;
}

export function readPrompt(input: RouteInput): Prompt {
  const { text, turns, allText } = promptText(input);
  const contextTokens = input.contextTokens ?? 0;
  const attachTokens = (input.attachments ?? []).reduce((n, a) => n + (a.tokens ?? ATTACHMENT_TOKENS[a.kind]), 0);
  const inputTokens = estimateTokens(allText) + turns * MESSAGE_OVERHEAD_TOKENS + contextTokens + attachTokens;
  return { text, turns, extraTokens: contextTokens + attachTokens, inputTokens };
}

function promptText(input: RouteInput): { text: string; turns: number; allText: string } {
  if (input.messages?.length) {
    const users = input.messages.filter((m) => m.role === "user" && m.content?.trim());
    // The last user turn says what is wanted now; the rest is context for size and cost.
    const text = [input.prompt ?? "", users.at(-1)?.content ?? ""].filter(Boolean).join("\n\n") || (input.messages.at(-1)!.content ?? "");
    const allText = [input.prompt ?? "", ...input.messages.map((m) => m.content ?? "")].join("\n");
    return { text, turns: input.messages.length, allText };
  }
  // An image or a document alone (validate lets it through) reads as no text.
  const prompt = input.prompt ?? "";
  return { text: prompt, turns: 1, allText: prompt };
}
