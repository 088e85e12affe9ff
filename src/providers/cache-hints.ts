import type { CacheHint, ChatRequest } from "./types.js";

/**
 * Prompt-cache breakpoints as Anthropic takes them: at most four per request, counted in the
 * order the prompt is read (tools, then system, then messages). A request with more keeps its
 * last four: the latest breakpoints cache the longest prefixes, the ones a next turn reuses.
 */

export const MAX_BREAKPOINTS = 4;

type Carriers = Pick<ChatRequest, "tools" | "systemBlocks" | "messages">;

/** Every breakpoint of a request, in reading order (system-role messages join the system text, without one). */
function breakpoints(req: Carriers): CacheHint[] {
  const messages = req.messages.filter((m) => m.role !== "system");
  return [...(req.tools ?? []), ...(req.systemBlocks ?? []), ...messages].flatMap((c) => (c.cache ? [c.cache] : []));
}

export const countBreakpoints = (req: Carriers): number => breakpoints(req).length;

/**
 * A function to call with each carrier's hint in reading order: it returns the breakpoint to send,
 * or undefined for one of the earliest beyond the limit.
 */
export function breakpointTaker(req: Carriers): (hint: CacheHint | undefined) => CacheHint | undefined {
  let skip = Math.max(0, countBreakpoints(req) - MAX_BREAKPOINTS);
  return (hint) => {
    if (!hint) return undefined;
    if (skip > 0) {
      skip--;
      return undefined;
    }
    return hint;
  };
}
