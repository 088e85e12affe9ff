import express, { Router } from "express";
import type { TokenTable } from "../../auth.js";
import type { Logger } from "../../logger.js";
import type { Runtime } from "../../runtime.js";
import { asSwitchboardError, authenticate, sendError } from "./common.js";
import {
  anthropicError,
  countInputTokens,
  countTokensSchema,
  messageBody,
  messagesJob,
  messagesRequestSchema,
  parseMessages,
  requestNotes,
  type MessagesRequest,
} from "./anthropic-messages.js";
import { EventStream } from "./anthropic-stream.js";
import { translationNotes } from "./translation-notes.js";
import { refusedWithoutToken, serveLlm, type CompatApi } from "./serve-llm.js";

/** The Messages API plugged into the shared request cycle. */
export const messagesApi: CompatApi<MessagesRequest> = {
  tool: "messages",
  conversationField: "messages",
  errorShape: anthropicError,
  parse: (body) => parseMessages(messagesRequestSchema, body),
  model: (b) => b.model,
  user: (b) => b.metadata?.user_id ?? undefined,
  // A Claude id that no alias pins is a hint, routed with the request's kind: never a 404.
  known: (name) => (/^claude-/i.test(name) ? { kind: "auto" } : undefined),
  job: messagesJob,
  notes: (b, job, model, runtime) => [
    ...(model ? translationNotes(runtime.config, job.call, model, "thinking") : []),
    ...requestNotes(b, !!model && Object.hasOwn(runtime.config.models, model) && runtime.config.models[model]!.supports.serverTools === true),
  ],
  stream: (b, res, beforeOpen) => (b.stream ? new EventStream(res, beforeOpen) : undefined),
  body: messageBody,
};

/**
 * Anthropic-compatible endpoints: `POST /v1/messages` (whole or streamed) and
 * `POST /v1/messages/count_tokens`, so Claude Code (ANTHROPIC_BASE_URL) and Anthropic SDK clients
 * get routing, failover and budgets; the routed model may be any provider's.
 */
export function anthropicRouter(opts: { runtime: Runtime; tokens: TokenTable; maxBodyBytes: () => number; log: Logger }): Router {
  const { runtime, tokens, log } = opts;
  const router = Router();
  // The token is checked before the body is read (see refusedWithoutToken).
  const body = express.json({ limit: opts.maxBodyBytes(), type: () => true });

  router.post(
    "/messages/count_tokens",
    (req, res, next) => {
      try {
        authenticate(tokens, req);
        next();
      } catch (err) {
        req.resume();
        sendError(res, asSwitchboardError(err), anthropicError);
      }
    },
    body,
    (req, res) => {
      try {
        res.json({ input_tokens: countInputTokens(parseMessages(countTokensSchema, req.body)) });
      } catch (err) {
        sendError(res, asSwitchboardError(err), anthropicError);
      }
    },
  );

  router.post(
    "/messages",
    (req, res, next) => void (refusedWithoutToken(messagesApi, runtime, tokens, req, res, log) || next()),
    body,
    (req, res) => void serveLlm(messagesApi, runtime, tokens, req, req.body, res, log),
  );
  return router;
}
