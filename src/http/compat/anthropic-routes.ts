import type { ServerResponse } from "node:http";
import express, { Router } from "express";
import type { TokenTable } from "../../auth.js";
import type { SwitchboardError } from "../../errors.js";
import type { LlmOutcome } from "../../jobs/llm-pipeline.js";
import type { Served } from "../../jobs/served.js";
import type { Logger } from "../../logger.js";
import type { Runtime } from "../../runtime.js";
import { asSwitchboardError, authenticate, sendError, statusOf } from "./common.js";
import {
  anthropicError,
  closingEvents,
  countInputTokens,
  countTokensSchema,
  droppedFeatures,
  messageBody,
  messageId,
  messagesJob,
  messagesRequestSchema,
  messageStart,
  parseMessages,
  type MessagesRequest,
} from "./anthropic-messages.js";
import { openEventStream, serveLlm, type AnswerStream, type CompatApi } from "./serve-llm.js";

export const messagesApi: CompatApi<MessagesRequest> = {
  tool: "messages",
  errorShape: anthropicError,
  parse: (body) => parseMessages(messagesRequestSchema, body),
  model: (b) => b.model,
  user: (b) => b.metadata?.user_id ?? undefined,
  // A Claude id that no alias pins is a hint, routed with the request's kind: never a 404.
  known: (name) => (/^claude-/i.test(name) ? { kind: "auto" } : undefined),
  job: messagesJob,
  notes: droppedFeatures,
  stream: (b, res) => (b.stream ? new EventStream(res) : undefined),
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
  router.use("/messages", express.json({ limit: opts.maxBodyBytes(), type: () => true }));

  router.post("/messages/count_tokens", (req, res) => {
    try {
      authenticate(tokens, req);
      res.json({ input_tokens: countInputTokens(parseMessages(countTokensSchema, req.body)) });
    } catch (err) {
      sendError(res, asSwitchboardError(err), anthropicError);
    }
  });

  router.post("/messages", (req, res) => void serveLlm(messagesApi, runtime, tokens, req, req.body, res, log));
  return router;
}

/**
 * A streamed message as Anthropic's events. A failure before the first piece of text is an
 * ordinary HTTP error; after it, an `error` event ends the stream.
 */
class EventStream implements AnswerStream {
  started = false;
  private id = "";
  private textOpen = false;

  constructor(private readonly res: ServerResponse) {}

  private send(event: string, data: unknown): void {
    this.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private open(served: Partial<Served>, model: string): void {
    if (this.started) return;
    this.started = true;
    this.id = messageId(served.decision?.requestId);
    openEventStream(this.res, served, model);
    // The router already counted the input for its decision: no second pass over the prompt.
    this.send("message_start", messageStart(this.id, model, served.decision?.estimate.inputTokens ?? 0));
  }

  text(served: Partial<Served>, model: string, piece: string): void {
    this.open(served, model);
    if (!this.textOpen) {
      this.textOpen = true;
      this.send("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    }
    this.send("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: piece } });
  }

  finish(run: LlmOutcome): void {
    if (!this.started && run.result.text) this.text(run, run.model, run.result.text);
    this.open(run, run.model);
    for (const [event, data] of closingEvents(run, this.textOpen, this.textOpen ? 1 : 0)) this.send(event, data);
    this.res.end();
  }

  fail(err: SwitchboardError): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.send("error", anthropicError(err.body, statusOf(err.body.code)));
    this.res.end();
  }
}
