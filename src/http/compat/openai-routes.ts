import type { ServerResponse } from "node:http";
import express, { Router, type Request, type Response } from "express";
import { providerOf } from "../../config/catalog.js";
import type { TokenTable } from "../../auth.js";
import type { SwitchboardError } from "../../errors.js";
import type { LlmOutcome } from "../../jobs/llm-pipeline.js";
import type { Served } from "../../jobs/served.js";
import type { Logger } from "../../logger.js";
import type { Runtime } from "../../runtime.js";
import type { ToolCallDelta } from "../../providers/types.js";
import { asSwitchboardError, authenticate, listedFallbacks, MODE_PREFIX, modelIds, readModel, sendError, statusOf, tenantOf, type ModelChoice } from "./common.js";
import { chatJob, chunkBody, closingChunks, completionBody, droppedParts, droppedSettings, openAiError, parseChatRequest, type ChatRequestBody } from "./openai-chat.js";
import { anthropicError } from "./anthropic-messages.js";
import { messagesApi } from "./anthropic-routes.js";
import { translationNotes } from "./translation-notes.js";
import { EventBatch, openEventStream, refusedWithoutToken, serveLlm, type AnswerStream, type BeforeOpen, type CompatApi } from "./serve-llm.js";
import { parseResponsesRequest, responseBody, responseIds, responsesJob, responsesNotes, type ResponsesRequest } from "./openai-responses.js";
import { ResponseEventStream } from "./responses-stream.js";

/** Chat Completions plugged into the shared request cycle. */
export const chatApi: CompatApi<ChatRequestBody> = {
  tool: "chat_completions",
  conversationField: "messages",
  errorShape: openAiError,
  parse: parseChatRequest,
  model: (b) => b.model,
  user: (b) => b.user,
  fallbacks: listedFallbacks,
  job: chatJob,
  notes: (b, job, model, runtime) => [...(model ? translationNotes(runtime.config, job.call, model, "reasoning_effort") : []), ...droppedParts(b), ...droppedSettings(b)],
  stream: (b, res, beforeOpen) => (b.stream ? new ChunkStream(res, !!b.stream_options?.include_usage, beforeOpen) : undefined),
  body: (run) => completionBody(run, Math.floor(Date.now() / 1000)),
};

/** The Responses API plugged into the same cycle. */
export const responsesApi: CompatApi<ResponsesRequest> = {
  tool: "responses",
  conversationField: "input",
  errorShape: openAiError,
  parse: parseResponsesRequest,
  model: (b) => b.model,
  user: (b) => b.user,
  fallbacks: listedFallbacks,
  job: responsesJob,
  notes: (b, job, model, runtime) => [...(model ? translationNotes(runtime.config, job.call, model, "reasoning.effort") : []), ...responsesNotes(b)],
  stream: (b, res, beforeOpen) => (b.stream ? new ResponseEventStream(res, b, beforeOpen) : undefined),
  body: (run, b) => responseBody(b, responseIds(run.decision.requestId), run.model, Math.floor(Date.now() / 1000), run),
};

/**
 * OpenAI-compatible endpoints: `POST /v1/chat/completions` and `POST /v1/responses` (whole or
 * streamed), `GET /v1/models` and `GET /v1/models/{id}`, behind the same tokens, tenants, budgets and telemetry as MCP calls.
 */
export function openAiRouter(opts: { runtime: Runtime; tokens: TokenTable; maxBodyBytes: () => number; log: Logger }): Router {
  const { runtime, tokens, log } = opts;
  const router = Router();

  // The catalog, in the shape of the API the client speaks (Anthropic clients send anthropic-version).
  const models = (answer: (req: Request, anthropic: boolean) => unknown) => (req: Request, res: Response) => {
    const anthropic = req.get("anthropic-version") !== undefined;
    try {
      tenantOf(runtime, authenticate(tokens, req), req);
      res.json(answer(req, anthropic));
    } catch (err) {
      sendError(res, asSwitchboardError(err), anthropic ? anthropicError : openAiError);
    }
  };
  router.get(
    "/models",
    models((_req, anthropic) => {
      const ids = modelIds(runtime);
      return anthropic
        ? { data: ids.map((id) => anthropicModel(runtime, id)), has_more: false, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null }
        : { object: "list", data: ids.map(openAiModel) };
    }),
  );
  // One model, by any name a request's `model` takes (an id may hold slashes: `switchboard/<mode>`, `openai/gpt-4.1`).
  router.get(
    "/models/*id",
    models((req, anthropic) => {
      const name = ([] as string[]).concat(req.params.id ?? []).join("/");
      // A Claude id an Anthropic client names is served (as a routing hint): it is described as itself.
      let hint = false;
      const known = (n: string) => {
        const choice = messagesApi.known?.(n);
        hint = choice !== undefined;
        return choice;
      };
      const choice = readModel(runtime, name, anthropic ? known : undefined);
      const id = hint ? name : canonicalModelId(choice);
      return anthropic ? anthropicModel(runtime, id) : openAiModel(id);
    }),
  );

  router.post(
    "/chat/completions",
    (req, res, next) => void (refusedWithoutToken(chatApi, runtime, tokens, req, res, log) || next()),
    express.json({ limit: opts.maxBodyBytes(), type: () => true }),
    (req, res) => void serveLlm(chatApi, runtime, tokens, req, req.body, res, log),
  );
  router.post(
    "/responses",
    (req, res, next) => void (refusedWithoutToken(responsesApi, runtime, tokens, req, res, log) || next()),
    express.json({ limit: opts.maxBodyBytes(), type: () => true }),
    (req, res) => void serveLlm(responsesApi, runtime, tokens, req, req.body, res, log),
  );
  return router;
}

/** A listed model as OpenAI's API describes one. */
function openAiModel(id: string) {
  return { id, object: "model", created: 0, owned_by: id.includes(":") ? providerOf(id) : "switchboard" };
}

/** A listed model as Anthropic's API describes one (its display name from the catalog where it has one). */
function anthropicModel(runtime: Runtime, id: string) {
  const display = Object.hasOwn(runtime.config.models, id) ? runtime.config.models[id]!.displayName : undefined;
  return { type: "model", id, display_name: display ?? id, created_at: "1970-01-01T00:00:00Z" };
}

/** The listed id a name resolves to: the catalog id, the mode's `switchboard/<mode>`, or `auto`. */
function canonicalModelId(choice: ModelChoice): string {
  return choice.kind === "model" ? choice.id : choice.kind === "mode" ? `${MODE_PREFIX}${choice.mode}` : "auto";
}

/**
 * A streamed answer as `chat.completion.chunk` events. A failure before the first piece of text
 * (every fallback included) is still an ordinary HTTP error; after it, an `error` event ends the
 * stream without `[DONE]`, never a silent truncation.
 */
class ChunkStream implements AnswerStream {
  started = false;
  private id = "";
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly out: EventBatch;
  /** Tool calls streamed so far, by index: how many characters of their arguments went out. */
  private readonly tools = new Map<number, number>();

  /** `beforeOpen` is told the model just before the headers go out (the notes depend on it). */
  constructor(
    private readonly res: ServerResponse,
    private readonly includeUsage: boolean,
    private readonly beforeOpen: BeforeOpen,
  ) {
    this.out = new EventBatch(res);
  }

  private send(data: unknown): void {
    this.out.add(`data: ${JSON.stringify(data)}\n\n`);
  }

  private open(served: Partial<Served>, model: string): void {
    if (this.started) return;
    this.started = true;
    this.id = `chatcmpl-${served.decision?.requestId ?? "switchboard"}`;
    this.beforeOpen(model);
    openEventStream(this.res, served, model);
    this.send(chunkBody(this.id, model, this.created, { role: "assistant", content: "" }));
  }

  text(served: Partial<Served>, model: string, piece: string): void {
    this.open(served, model);
    this.send(chunkBody(this.id, model, this.created, { content: piece }));
    this.out.flush();
  }

  toolCall(served: Partial<Served>, model: string, d: ToolCallDelta): void {
    this.open(served, model);
    const fn = { ...(d.name ? { name: d.name } : {}), arguments: d.arguments ?? "" };
    this.send(chunkBody(this.id, model, this.created, { tool_calls: [{ index: d.index, ...(d.id ? { id: d.id, type: "function" } : {}), function: fn }] }));
    this.tools.set(d.index, (this.tools.get(d.index) ?? 0) + (d.arguments?.length ?? 0));
    this.out.flush();
  }

  finish(run: LlmOutcome): void {
    if (!this.started && run.result.text) this.text(run, run.model, run.result.text);
    this.open(run, run.model);
    for (const c of closingChunks(run, this.id, this.created, this.includeUsage, this.tools)) this.send(c);
    this.out.add("data: [DONE]\n\n");
    this.out.flush(true);
  }

  fail(err: SwitchboardError): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.send(openAiError(err.body, statusOf(err.body.code)));
    this.out.flush(true);
  }
}
