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
import { ServedNotes } from "./served-notes.js";
import { serveLlm, type CompatApi } from "./serve-llm.js";

/**
 * The Messages API plugged into the shared request cycle. Its streams and notes need the serving
 * model, known only during the call: the job's observer relays the model's thinking to the
 * request's stream and sets the notes for a whole answer (see ServedNotes).
 */
function messagesApi(runtime: Runtime): CompatApi<MessagesRequest> {
  const notes = new ServedNotes<MessagesRequest>(runtime, requestNotes, "thinking");
  const streams = new WeakMap<MessagesRequest, EventStream>();
  return {
    tool: "messages",
    errorShape: anthropicError,
    parse: (body) => parseMessages(messagesRequestSchema, body),
    model: (b) => b.model,
    user: (b) => b.metadata?.user_id ?? undefined,
    // A Claude id that no alias pins is a hint, routed with the request's kind: never a 404.
    known: (name) => (/^claude-/i.test(name) ? { kind: "auto" } : undefined),
    job: (b, choice, who) => {
      const job = notes.job(b, messagesJob(b, choice, who));
      if (!b.stream) return job;
      // Looked up when called: the stream is made by the `stream` hook, for this same body.
      return {
        ...job,
        observer: {
          ...job.observer,
          onDecision: (decision) => streams.get(b)?.decided(decision),
          onThinking: (delta, model) => streams.get(b)?.thinking(model, delta),
        },
      };
    },
    notes: requestNotes,
    stream: (b, res) => {
      notes.response(b, res);
      if (!b.stream) return undefined;
      const s = new EventStream(res, (model) => notes.set(b, model));
      streams.set(b, s);
      return s;
    },
    body: messageBody,
  };
}

/**
 * Anthropic-compatible endpoints: `POST /v1/messages` (whole or streamed) and
 * `POST /v1/messages/count_tokens`, so Claude Code (ANTHROPIC_BASE_URL) and Anthropic SDK clients
 * get routing, failover and budgets; the routed model may be any provider's.
 */
export function anthropicRouter(opts: { runtime: Runtime; tokens: TokenTable; maxBodyBytes: () => number; log: Logger }): Router {
  const { runtime, tokens, log } = opts;
  const router = Router();
  const api = messagesApi(runtime);
  router.use("/messages", express.json({ limit: opts.maxBodyBytes(), type: () => true }));

  router.post("/messages/count_tokens", (req, res) => {
    try {
      authenticate(tokens, req);
      res.json({ input_tokens: countInputTokens(parseMessages(countTokensSchema, req.body)) });
    } catch (err) {
      sendError(res, asSwitchboardError(err), anthropicError);
    }
  });

  router.post("/messages", (req, res) => void serveLlm(api, runtime, tokens, req, res, log));
  return router;
}
