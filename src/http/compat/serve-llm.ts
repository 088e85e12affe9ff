import type { IncomingMessage, ServerResponse } from "node:http";
import type { TokenTable } from "../../auth.js";
import { SwitchboardError, type ErrorBody } from "../../errors.js";
import { runLlmPipeline, type LlmJob, type LlmOutcome } from "../../jobs/llm-pipeline.js";
import type { Served } from "../../jobs/served.js";
import type { PassthroughEvent, ThinkingDelta, ToolCallDelta } from "../../providers/types.js";
import type { Logger } from "../../logger.js";
import type { Runtime } from "../../runtime.js";
import { EMPTY_PROMPT } from "../../routing/validate.js";
import { recordCall } from "../../tools/call-record.js";
import { abortOnDisconnect, asSwitchboardError, authenticate, decisionHeaders, headerText, readFallbacks, readModel, sendError, sendJson, tenantOf, type ListedFallbacks, type ModelChoice } from "./common.js";

/** A streamed answer in one API's events: opened by the first piece of text, ended by finish or fail. */
export interface AnswerStream {
  /** Whether anything was sent: from then on a failure is an error event, not an HTTP status. */
  readonly started: boolean;
  text(served: Partial<Served>, model: string, piece: string): void;
  /** A piece of the model's streamed reasoning, for APIs that return it. */
  thinking?(served: Partial<Served>, model: string, delta: ThinkingDelta): void;
  /** A piece of a tool call, as it streams. */
  toolCall?(served: Partial<Served>, model: string, delta: ToolCallDelta): void;
  /** An event of a block passed through as the provider sent it (server tools'), for APIs that return them. */
  block?(served: Partial<Served>, model: string, event: PassthroughEvent): void;
  finish(run: LlmOutcome): void;
  fail(err: SwitchboardError): void;
}

/** Told the serving model just before a stream's headers go out (the notes depend on it). */
export type BeforeOpen = (model: string) => void;

/** What one compatible API plugs into the shared request cycle. */
export interface CompatApi<B> {
  /** The call's name in telemetry and metrics. */
  tool: string;
  /** The request field that carries the conversation (`messages`, `input`), named in errors about it. */
  conversationField: string;
  errorShape(body: ErrorBody, status: number): unknown;
  parse(body: unknown): B;
  model(b: B): string | undefined;
  user(b: B): string | undefined;
  /** Model names of the API's own family to accept as hints (Claude ids on /v1/messages). */
  known?(name: string): ModelChoice | undefined;
  /** The models the request lists to try after its own, as other gateways take them (OpenRouter's `models`, LiteLLM's `fallbacks`). */
  fallbacks?(b: B): ListedFallbacks[];
  job(b: B, choice: ModelChoice, who: { tenant: string }): LlmJob;
  /**
   * The `x-switchboard-notes` header: what the request asked for that the serving model was sent
   * translated, or could not have. `model` is undefined when no model served (an error answer).
   */
  notes?(b: B, job: LlmJob, model: string | undefined, runtime: Runtime): string[];
  /** The stream to answer in, or undefined for a whole answer. */
  stream(b: B, res: ServerResponse, beforeOpen: BeforeOpen): AnswerStream | undefined;
  /** The whole answer; the request too, for APIs that echo its settings (the Responses API). */
  body(run: LlmOutcome, b: B): unknown;
}

/**
 * One LLM request through a compatible API: the token's tenant, the body, the model it names,
 * then the one LLM pipeline (routing, budget, failover, escalation), answered whole or streamed
 * as it arrives, and recorded like a tool call. Any failure is answered in the API's own shape.
 */
export async function serveLlm<B>(api: CompatApi<B>, runtime: Runtime, tokens: TokenTable, req: IncomingMessage, raw: unknown, res: ServerResponse, log: Logger): Promise<void> {
  const t0 = performance.now();
  let served: Partial<Served> = {};
  let who: { tenant: string; user?: string; model?: string } = { tenant: runtime.config.router.defaultTenant };
  let stream: AnswerStream | undefined;
  let notesFor: (model: string | undefined) => Record<string, string> = () => ({});
  try {
    const principal = authenticate(tokens, req);
    const body = api.parse(raw);
    const user = api.user(body);
    who = { tenant: tenantOf(runtime, principal, req), ...(user ? { user } : {}) };
    const { choice, fallbacks } = modelAndFallbacks(runtime, api, body);
    if (choice.kind === "model") who.model = choice.id;
    const made = api.job(body, choice, who);
    const job: LlmJob = { ...made, ...(fallbacks.length ? { route: { ...made.route, fallbacks } } : {}), ...(principal ? { caller: principal } : {}) };
    notesFor = (model): Record<string, string> => {
      const notes = api.notes?.(body, job, model, runtime) ?? [];
      // The notes name the request's own tools and block types: kept to what a header can carry.
      return notes.length ? { "x-switchboard-notes": headerText(notes.join("; "), 2000) } : {};
    };
    const abort = abortOnDisconnect(res);
    stream = api.stream(body, res, (model) => {
      for (const [k, v] of Object.entries(notesFor(model))) res.setHeader(k, v);
    });
    const s = stream;
    const run = await runLlmPipeline(runtime, undefined, job, {
      signal: abort.signal,
      onDecision: (decision) => (served = { decision }),
      ...(s ? { onText: (piece: string, model: string) => s.text(served, model, piece) } : {}),
      ...(s?.thinking ? { onThinking: (delta: ThinkingDelta, model: string) => s.thinking!(served, model, delta) } : {}),
      ...(s?.toolCall ? { onToolCall: (delta: ToolCallDelta, model: string) => s.toolCall!(served, model, delta) } : {}),
      ...(s?.block ? { onBlock: (event: PassthroughEvent, model: string) => s.block!(served, model, event) } : {}),
    });
    served = run;
    if (s) s.finish(run);
    else sendJson(res, 200, { ...decisionHeaders(run), ...notesFor(run.model) }, api.body(run, body));
    recordCall(runtime, api.tool, who, run, "ok", t0);
  } catch (err) {
    const e = inApiTerms(asSwitchboardError(err), api);
    if (e.body.code === "internal") log.error({ err: (err as Error)?.message, path: req.url?.split("?")[0] }, `${api.tool} failed`);
    recordCall(runtime, api.tool, who, served, e.body.code, t0);
    if (stream?.started) stream.fail(e);
    else sendError(res, e, api.errorShape, served, undefined, notesFor(undefined));
  }
}

/**
 * The model a request names and the ones it lists to try after it. As on OpenRouter, a request
 * with `models` but no `model` is served by the first of them, the rest as its fallbacks.
 */
function modelAndFallbacks<B>(runtime: Runtime, api: CompatApi<B>, body: B): { choice: ModelChoice; fallbacks: string[] } {
  const named = api.model(body);
  const choice = readModel(runtime, named, api.known);
  const lists = api.fallbacks?.(body) ?? [];
  const fallbacks = lists.length ? readFallbacks(runtime, lists) : [];
  if (!named?.trim() && lists[0]?.field === "models" && fallbacks.length) return { choice: { kind: "model", id: fallbacks[0]! }, fallbacks: fallbacks.slice(1) };
  return { choice, fallbacks: choice.kind === "model" ? fallbacks.filter((id) => id !== choice.id) : fallbacks };
}

/**
 * The router names the conversation `prompt` (its own argument); a client of these APIs sent it as
 * `messages` or `input`, and is told so.
 */
function inApiTerms<B>(e: SwitchboardError, api: CompatApi<B>): SwitchboardError {
  if (e.body.field !== "prompt") return e;
  const field = api.conversationField;
  const hint = e.body.message === EMPTY_PROMPT ? `send at least one message in \`${field}\` with text, an image or a document.` : e.body.hint;
  return new SwitchboardError({ ...e.body, field, ...(hint ? { hint } : {}) });
}

/**
 * Answers a request that carries no valid token without reading its body: the 401 goes out in the
 * API's shape and is recorded like any refusal (through `serveLlm`, which finds no token), and the
 * body is discarded as it arrives, never held. Only a caller with a token can make the server hold
 * a large body (the /v1 limit is Anthropic's own, 32 MB). Returns whether it answered.
 */
export function refusedWithoutToken<B>(api: CompatApi<B>, runtime: Runtime, tokens: TokenTable, req: IncomingMessage, res: ServerResponse, log: Logger): boolean {
  try {
    authenticate(tokens, req);
    return false;
  } catch {
    req.resume();
    void serveLlm(api, runtime, tokens, req, {}, res, log);
    return true;
  }
}

/**
 * Server-sent events to the client; headers (with the decision's) go out with the first write,
 * which carries the opening events and the first piece of text together (see EventBatch).
 */
export function openEventStream(res: ServerResponse, served: Partial<Served>, model: string): void {
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive", "X-Accel-Buffering": "no", ...decisionHeaders(served, model) });
}

/**
 * The events one upstream piece turns into, written at once: each separate write would wake the
 * client once more before it has a token to show. Not a cork until the next tick: the provider's
 * stream parser keeps the event loop busy for a while after handing over a piece, and the first
 * token would wait for it.
 */
export class EventBatch {
  private pending = "";

  constructor(private readonly res: ServerResponse) {}

  add(event: string): void {
    this.pending += event;
  }

  /** Writes what was gathered; `end` ends the response with it. */
  flush(end = false): void {
    const out = this.pending;
    this.pending = "";
    if (end) this.res.end(out || undefined);
    else if (out) this.res.write(out);
  }
}
