import express, { Router, type Request, type Response } from "express";
import { providerOf } from "../../config/catalog.js";
import type { TokenTable } from "../../auth.js";
import { SwitchboardError } from "../../errors.js";
import { runLlmPipeline, type LlmOutcome } from "../../jobs/llm-pipeline.js";
import type { Served } from "../../jobs/served.js";
import type { Logger } from "../../logger.js";
import type { Runtime } from "../../runtime.js";
import { abortOnDisconnect, asSwitchboardError, decisionHeaders, modelIds, readModel, recordCompatCall, retryAfterSeconds, statusOf, tenantOf } from "./common.js";
import { chatJob, chunkBody, closingChunks, completionBody, openAiError, parseChatRequest } from "./openai-chat.js";

/** The telemetry and metrics name of a call through this endpoint. */
const TOOL = "chat_completions";

/**
 * OpenAI-compatible endpoints: `POST /v1/chat/completions` (whole or streamed) and
 * `GET /v1/models`, behind the same tokens, tenants, budgets and telemetry as MCP calls. Every
 * call goes through the one LLM pipeline: routing, budget, failover, escalation.
 */
export function openAiRouter(opts: { runtime: Runtime; tokens: TokenTable; maxBodyBytes: () => number; log: Logger }): Router {
  const { runtime, tokens, log } = opts;
  const router = Router();
  router.use(express.json({ limit: opts.maxBodyBytes(), type: () => true }));

  router.get("/models", (req, res) => {
    try {
      const tenant = tenantOf(runtime, authenticate(tokens, req), req);
      res.json({ object: "list", data: modelIds(runtime).map((id) => ({ id, object: "model", created: 0, owned_by: id.includes(":") ? providerOf(id) : "switchboard", ...(id.includes(":") ? {} : { tenant }) })) });
    } catch (err) {
      sendError(res, asSwitchboardError(err));
    }
  });

  router.post("/chat/completions", (req, res) => {
    void chatCompletions(runtime, tokens, req, res, log);
  });
  return router;
}

/** The token's principal; a missing or unknown token is a 401 in OpenAI's shape. */
function authenticate(tokens: TokenTable, req: Request) {
  const auth = tokens.authenticate(req.get("authorization") ?? (req.get("x-api-key") ? `Bearer ${req.get("x-api-key")}` : undefined));
  if (auth.ok) return auth.principal;
  throw new SwitchboardError({
    code: "unauthorized",
    message: auth.reason === "missing" ? "no API key: send Switchboard's bearer token" : "this API key is not a Switchboard token",
    hint: "set the client's API key (Authorization: Bearer …) to a token from http.tokens or SWITCHBOARD_TOKENS.",
    retryable: false,
  });
}

function sendError(res: Response, err: SwitchboardError, served: Partial<Served> = {}): void {
  if (res.headersSent) return;
  const status = statusOf(err.body.code);
  const retryAfter = retryAfterSeconds(err.body);
  res.status(status).set(decisionHeaders(served));
  if (status === 401) res.set("WWW-Authenticate", 'Bearer realm="switchboard"');
  if (retryAfter !== undefined) res.set("Retry-After", String(retryAfter));
  res.json(openAiError(err.body, status));
}

async function chatCompletions(runtime: Runtime, tokens: TokenTable, req: Request, res: Response, log: Logger): Promise<void> {
  const t0 = performance.now();
  let served: Partial<Served> = {};
  let who = { tenant: runtime.config.router.defaultTenant } as { tenant: string; user?: string; model?: string };
  const stream = new ChunkStream(res);
  try {
    const principal = authenticate(tokens, req);
    const body = parseChatRequest(req.body);
    who = { tenant: tenantOf(runtime, principal, req), ...(body.user ? { user: body.user } : {}) };
    const choice = readModel(runtime, body.model);
    if (choice.kind === "model") who.model = choice.id;
    const abort = abortOnDisconnect(res);
    const created = Math.floor(Date.now() / 1000);
    const run = await runLlmPipeline(runtime, undefined, chatJob(body, choice, who), {
      signal: abort.signal,
      onDecision: (decision) => (served = { decision }),
      ...(body.stream ? { onText: (piece: string, model: string) => stream.text(served, model, created, piece) } : {}),
    });
    served = run;
    if (body.stream) stream.finish(run, created, !!body.stream_options?.include_usage);
    else res.set(decisionHeaders(run)).json(completionBody(run, created));
    recordCompatCall(runtime, TOOL, who, run, "ok", t0);
  } catch (err) {
    const e = asSwitchboardError(err);
    if (e.body.code === "internal") log.error({ err: (err as Error)?.message, path: req.path }, "chat completion failed");
    recordCompatCall(runtime, TOOL, who, served, e.body.code, t0);
    if (stream.started) stream.fail(e);
    else sendError(res, e, served);
  }
}

/**
 * A streamed answer as server-sent events. Headers go with the first piece of text, so a
 * failure before it (every fallback included) is still an ordinary HTTP error; after it, a
 * failure is an `error` event and the stream ends without `[DONE]`, never a silent truncation.
 */
class ChunkStream {
  started = false;
  private id = "";

  constructor(private readonly res: Response) {}

  private open(served: Partial<Served>, model: string): void {
    if (this.started) return;
    this.started = true;
    this.id = `chatcmpl-${served.decision?.requestId ?? "switchboard"}`;
    this.res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive", "X-Accel-Buffering": "no", ...decisionHeaders(served, model) });
    this.res.flushHeaders();
  }

  private send(data: unknown): void {
    this.res.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  text(served: Partial<Served>, model: string, created: number, piece: string): void {
    if (!this.started) {
      this.open(served, model);
      this.send(chunkBody(this.id, model, created, { role: "assistant", content: "" }));
    }
    this.send(chunkBody(this.id, model, created, { content: piece }));
  }

  finish(run: LlmOutcome, created: number, includeUsage: boolean): void {
    if (!this.started) {
      this.open(run, run.model);
      this.send(chunkBody(this.id, run.model, created, { role: "assistant", content: "" }));
      if (run.result.text) this.send(chunkBody(this.id, run.model, created, { content: run.result.text }));
    }
    for (const c of closingChunks(run, this.id, created, includeUsage)) this.send(c);
    this.res.end("data: [DONE]\n\n");
  }

  fail(err: SwitchboardError): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.send(openAiError(err.body, statusOf(err.body.code)));
    this.res.end();
  }
}
