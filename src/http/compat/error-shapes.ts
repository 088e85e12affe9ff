import type { ErrorBody } from "../../errors.js";
import { anthropicError } from "./anthropic-messages.js";
import { openAiError } from "./openai-chat.js";

/**
 * The error shape of the compatible API a path belongs to (Anthropic's under /v1/messages,
 * OpenAI's elsewhere under /v1), or undefined for other paths: what the HTTP server's own
 * refusals (a body that does not parse, a Host or Origin refused, a timeout, an unknown path) use,
 * so an SDK client reads them like any other error of its API.
 */
export function compatErrorShape(path: string): ((body: ErrorBody, status: number) => unknown) | undefined {
  if (path === "/v1/messages" || path.startsWith("/v1/messages/")) return anthropicError;
  return path.startsWith("/v1/") ? openAiError : undefined;
}
