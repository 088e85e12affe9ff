import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { TokenTable } from "../../auth.js";
import { providerOf } from "../../config/catalog.js";
import { SwitchboardError, closest, invalidRequest, shown, type ErrorBody, type ErrorCode } from "../../errors.js";
import type { Served } from "../../jobs/served.js";
import type { Runtime } from "../../runtime.js";
import type { Principal } from "../../auth.js";
import type { LlmJob } from "../../jobs/llm-pipeline.js";
import type { FunctionTool, LlmMessage, Reasoning, ResponseFormat, Sampling, ToolChoice } from "../../providers/types.js";
import { ATTACHMENT_TOKENS, pdfTokens } from "../../routing/tokens.js";
import { slashedModelId } from "./foreign-ids.js";
import type { Attachment } from "../../routing/types.js";

/**
 * What the OpenAI- and Anthropic-compatible endpoints share: who is calling, which model a
 * request names, what the router reads of its media, the job an OpenAI-style request makes, the
 * HTTP status of each Switchboard error and the `x-switchboard-*` headers. Each API's own wire
 * shapes live in its own file.
 */

/**
 * A union's catch-all for the block, part or item types an API may send that Switchboard does not
 * read (accepted, named in a note). A value of a type in `shapes` must match that shape instead;
 * one that does not fails here only on this check, and zod then answers with this branch's issue
 * (a union takes a branch that failed no more than a check over the others): `knownShapeIssue`
 * turns it into the field the value lacks. No value is parsed twice on a request that is well formed.
 */
export function otherThan(shapes: Record<string, z.ZodType>, what: string) {
  return z.object({ type: z.string().refine((t) => !Object.hasOwn(shapes, t), `a known ${what} type with missing or wrong fields`) }).loose();
}

/** The issue `otherThan` raised, made precise: the value at its path parsed with its own type's shape. */
export function knownShapeIssue(
  body: unknown,
  issue: z.core.$ZodIssue,
  shapes: Record<string, z.ZodType>,
  report: (i: z.core.$ZodIssue) => { path: PropertyKey[]; message: string } = (i) => i,
): { path: PropertyKey[]; message: string } | undefined {
  if (issue.code !== "custom" || issue.path.at(-1) !== "type") return undefined;
  const at = issue.path.slice(0, -1);
  const value = at.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined), body);
  const type = (value as { type?: unknown } | undefined)?.type;
  const own = typeof type === "string" && Object.hasOwn(shapes, type) ? shapes[type]!.safeParse(value) : undefined;
  if (!own || own.success) return undefined;
  const inner = report(own.error.issues[0]!);
  return { path: [...at, ...inner.path], message: inner.message };
}

/** The prefix that names a routing mode as a model: `switchboard/<mode>`. */
export const MODE_PREFIX = "switchboard/";
/** Model names that mean "route this request". */
const AUTO = new Set(["auto", "switchboard", "switchboard/auto", "router"]);

/**
 * The tenant a request acts for: its token's. An admin token may name one in
 * `x-switchboard-tenant`; a tenant token naming another tenant is refused.
 */
export function tenantOf(runtime: Runtime, principal: Principal | undefined, req: IncomingMessage): string {
  const cfg = runtime.config;
  const asked = header(req, "x-switchboard-tenant")?.trim();
  const own = principal && !principal.admin ? principal.tenant : undefined;
  if (asked && own && asked !== own) {
    throw new SwitchboardError({ code: "forbidden", message: `this token acts for tenant ${own}, not ${asked}`, hint: "drop x-switchboard-tenant or use that tenant's token.", retryable: false });
  }
  const tenant = own ?? asked ?? cfg.router.defaultTenant;
  if (!Object.hasOwn(cfg.tenants, tenant)) {
    throw new SwitchboardError({ code: "invalid_request", message: `unknown tenant "${tenant}"`, hint: "name a tenant from the config in x-switchboard-tenant.", retryable: false, field: "x-switchboard-tenant", validValues: Object.keys(cfg.tenants) });
  }
  return tenant;
}

/**
 * What the router reads of a request's media: each image, and each PDF with what it costs in
 * tokens (from its pages; a PDF by URL at a typical size). A PDF also narrows the route to models
 * that read documents (`needs.documents`).
 */
export function mediaOf(messages: LlmMessage[]): { attachments: Attachment[]; documents: boolean } {
  const attachments: Attachment[] = messages.flatMap((m) => [
    ...(m.images ?? []).map(() => ({ kind: "image" as const })),
    ...(m.documents ?? []).map((d) => ({ kind: "document" as const, mimeType: "application/pdf", tokens: "data" in d ? pdfTokens(d.data) : ATTACHMENT_TOKENS.document })),
  ]);
  return { attachments, documents: attachments.some((a) => a.kind === "document") };
}

/** The sampling settings a request gave (null and absent alike dropped), or undefined for none. */
export function samplingOf(given: { [K in keyof Sampling]?: number | null }): Sampling | undefined {
  const set = Object.entries(given).filter(([, v]) => v != null);
  return set.length ? (Object.fromEntries(set) as Sampling) : undefined;
}

/** What an OpenAI-style request (Chat Completions or Responses) asks for, read from its own fields. */
export interface OpenAiStyleRequest {
  messages: LlmMessage[];
  user?: string | undefined;
  maxOutputTokens?: number | undefined;
  functionTools: FunctionTool[];
  toolChoice?: ToolChoice | undefined;
  responseFormat?: ResponseFormat | undefined;
  temperature?: number | null | undefined;
  sampling?: Sampling | undefined;
  parallelToolCalls?: boolean | null | undefined;
  stop?: string[] | undefined;
  reasoning?: Reasoning | undefined;
}

/**
 * The LLM job an OpenAI-style request asks for: what the router reads (the messages, the model
 * named, the output cap, media, the need for tools and JSON) and what the model is sent.
 */
export function openAiStyleJob(r: OpenAiStyleRequest, choice: ModelChoice, who: { tenant: string }): LlmJob {
  const { attachments, documents } = mediaOf(r.messages);
  return {
    route: {
      messages: r.messages,
      tenant: who.tenant,
      ...(r.user ? { user: r.user } : {}),
      ...(choice.kind === "mode" ? { mode: choice.mode } : {}),
      ...(choice.kind === "model" ? { model: choice.id } : {}),
      ...(r.maxOutputTokens ? { maxOutputTokens: r.maxOutputTokens } : {}),
      ...(attachments.length ? { attachments } : {}),
      needs: { toolCalling: r.functionTools.length > 0, json: !!r.responseFormat, ...(documents ? { documents } : {}) },
    },
    call: {
      messages: r.messages,
      ...(r.temperature != null ? { temperature: r.temperature } : {}),
      ...(r.sampling ? { sampling: r.sampling } : {}),
      ...(r.responseFormat ? { responseFormat: r.responseFormat } : {}),
      ...(r.functionTools.length ? { functionTools: r.functionTools } : {}),
      ...(r.toolChoice ? { toolChoice: r.toolChoice } : {}),
      ...(r.parallelToolCalls != null ? { parallelToolCalls: r.parallelToolCalls } : {}),
      ...(r.maxOutputTokens ? { maxOutputTokens: r.maxOutputTokens } : {}),
      ...(r.stop?.length ? { stop: r.stop } : {}),
      ...(r.reasoning ? { reasoning: r.reasoning } : {}),
    },
  };
}

/** Requests whose token was found good, with its principal (undefined with auth off). */
const authenticated = new WeakMap<IncomingMessage, Principal | undefined>();

/**
 * The caller's principal from its Switchboard token, sent as the API key: `Authorization: Bearer`
 * (OpenAI clients) or `x-api-key` (Anthropic clients). A missing or unknown token is `unauthorized`.
 */
export function authenticate(tokens: TokenTable, req: IncomingMessage): Principal | undefined {
  // Checked before the body is read and again by the request cycle: hashed once.
  if (authenticated.has(req)) return authenticated.get(req);
  const apiKey = header(req, "x-api-key")?.trim();
  const auth = tokens.authenticate(header(req, "authorization") ?? (apiKey ? `Bearer ${apiKey}` : undefined));
  if (auth.ok) {
    authenticated.set(req, auth.principal);
    return auth.principal;
  }
  throw new SwitchboardError({
    code: "unauthorized",
    message: auth.reason === "missing" ? "no API key: send Switchboard's bearer token" : "this API key is not a Switchboard token",
    hint: "set the client's API key (Authorization: Bearer …, or x-api-key) to a token from http.tokens or SWITCHBOARD_TOKENS.",
    retryable: false,
  });
}

/** A request header's value (the first, if it came more than once). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A whole JSON answer, written at once: one write for headers and body. */
export function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Answers an error in the API's own shape, with its status (the code's, unless the request itself
 * was refused at the HTTP level, e.g. 413), Retry-After and the decision headers.
 */
export function sendError(
  res: ServerResponse,
  err: SwitchboardError,
  shape: (body: ErrorBody, status: number) => unknown,
  served: Partial<Served> = {},
  status = statusOf(err.body.code),
  extraHeaders: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  const retryAfter = retryAfterSeconds(err.body);
  const headers = { ...decisionHeaders(served), ...extraHeaders };
  if (status === 401) headers["WWW-Authenticate"] = 'Bearer realm="switchboard"';
  if (retryAfter !== undefined) headers["Retry-After"] = String(retryAfter);
  sendJson(res, status, headers, shape(err.body, status));
}

/** How a request's `model` is honoured: routed, routed within a mode, or the caller's explicit choice. */
export type ModelChoice = { kind: "auto" } | { kind: "mode"; mode: string } | { kind: "model"; id: string };

/** Every `model` value the endpoints accept: auto, a mode per LLM mode, and each catalog model. */
export function modelIds(runtime: Runtime): string[] {
  const cfg = runtime.config;
  const modes = Object.entries(cfg.modes)
    .filter(([, m]) => m.job === "llm")
    .map(([name]) => `${MODE_PREFIX}${name}`);
  return ["auto", ...modes, ...Object.keys(cfg.models)];
}

/**
 * Reads a request's `model`. A catalog id (`provider:model`) is an explicit choice; a bare
 * provider model name that one catalog entry carries (`gpt-4.1-mini`) is the same choice; an
 * unknown name is a 404 listing what is valid. `known` lets an API treat ids of its own family
 * (Claude Code's `claude-…`) as hints rather than errors.
 */
export function readModel(runtime: Runtime, model: string | undefined, known?: (name: string) => ModelChoice | undefined): ModelChoice {
  const cfg = runtime.config;
  const given = (model ?? "").trim();
  // One hop: an alias names a catalog id, a mode or auto (checked when the config loads).
  const name = Object.hasOwn(cfg.http.modelAliases, given) ? cfg.http.modelAliases[given]! : given;
  if (!name || AUTO.has(name.toLowerCase())) return { kind: "auto" };
  if (name.startsWith(MODE_PREFIX)) {
    const mode = name.slice(MODE_PREFIX.length);
    if (Object.hasOwn(cfg.modes, mode) && cfg.modes[mode]!.job === "llm") return { kind: "mode", mode };
  }
  if (Object.hasOwn(cfg.models, name)) return { kind: "model", id: name };
  const bare = Object.keys(cfg.models).filter((id) => id.slice(providerOf(id).length + 1) === name);
  if (bare.length === 1) return { kind: "model", id: bare[0]! };
  const slashed = slashedModelId(cfg, name);
  if (slashed) return { kind: "model", id: slashed };
  const hinted = known?.(name);
  if (hinted) return hinted;
  const valid = modelIds(runtime);
  const near = closest(name, valid);
  throw new SwitchboardError({
    code: "not_found",
    message: `model "${shown(name)}" is not known here${near ? ` (did you mean ${near}?)` : ""}`,
    hint: `send "auto" to let Switchboard route, "${MODE_PREFIX}<mode>" to route within a mode, or a catalog id; GET /v1/models lists them.`,
    retryable: false,
    field: "model",
    validValues: valid,
  });
}

/** A request's list of models to try after its own: at most 8 names, as OpenRouter caps `models`. */
export const fallbackList = z.array(z.string().min(1, "a model name")).max(8, "at most 8 models");

/** The lists of a request that carries `models` (OpenRouter) or `fallbacks` (LiteLLM), in that order. */
export function listedFallbacks(b: { models?: string[] | null | undefined; fallbacks?: string[] | null | undefined }): ListedFallbacks[] {
  return [...(b.models?.length ? [{ field: "models", names: b.models }] : []), ...(b.fallbacks?.length ? [{ field: "fallbacks", names: b.fallbacks }] : [])];
}

/** The models a request lists to try after its own, by the field that listed them (`models`, `fallbacks`). */
export interface ListedFallbacks {
  field: string;
  names: string[];
}

/**
 * The catalog ids of a request's fallback lists, in order, each name read as `model` is (catalog
 * id, bare name, `provider/model`, alias). A name that is unknown, or that names `auto` or a mode
 * rather than a model, is refused naming its place in the list (`models.1`).
 */
export function readFallbacks(runtime: Runtime, lists: ListedFallbacks[]): string[] {
  const ids: string[] = [];
  for (const { field, names } of lists) {
    for (const [i, name] of names.entries()) {
      let choice: ModelChoice;
      try {
        choice = readModel(runtime, name);
      } catch (err) {
        if (err instanceof SwitchboardError) throw new SwitchboardError({ ...err.body, message: `${field}.${i}: ${err.body.message}`, field: `${field}.${i}` });
        throw err;
      }
      if (choice.kind !== "model") {
        throw invalidRequest(`${field}.${i}: "${shown(name)}" names ${choice.kind === "auto" ? "the router itself" : "a mode"}, not a model`, "list catalog models (provider:model) to try after the first; GET /v1/models lists them.", {
          field: `${field}.${i}`,
          validValues: Object.keys(runtime.config.models),
        });
      }
      if (!ids.includes(choice.id)) ids.push(choice.id);
    }
  }
  return ids;
}

/** The HTTP status of each Switchboard error code, as LLM gateways answer them. */
export function statusOf(code: ErrorCode): number {
  switch (code) {
    case "invalid_request":
    case "context_length_exceeded":
    case "content_filtered":
      return 400;
    case "unauthorized":
      return 401;
    case "forbidden":
      return 403;
    case "not_found":
      return 404;
    case "budget_exceeded":
    case "rate_limited":
      return 429;
    case "timeout":
      return 504;
    case "no_provider_configured":
      return 503;
    case "provider_unavailable":
    case "auth_failed":
      return 502;
    case "cancelled":
      return 499;
    case "internal":
      return 500;
  }
}

/** Seconds a 429 should tell the client to wait: until the ceiling resets, or a short pause. */
export function retryAfterSeconds(body: ErrorBody, now = Date.now()): number | undefined {
  if (body.code === "budget_exceeded" && body.ceiling) return Math.max(1, Math.ceil((Date.parse(body.ceiling.resetsAt) - now) / 1000));
  if (body.code === "rate_limited") return body.retryAfterSeconds ?? 1;
  return undefined;
}

/** Any error as Switchboard's structured error; anything unexpected is `internal`, its text kept out. */
export function asSwitchboardError(err: unknown): SwitchboardError {
  if (err instanceof SwitchboardError) return err;
  return new SwitchboardError({ code: "internal", message: "Switchboard failed while serving this request", hint: "retry; if it persists, report it with the x-switchboard-request-id header.", retryable: true });
}

/** Text a header can carry: one line of printable ASCII within `max` characters (a reason is for people; a request's own names can be any size). */
export const headerText = (s: string, max = 200) => s.replace(/[^\x20-\x7e]+/g, " ").trim().slice(0, max);

/** The `x-switchboard-*` headers: request id, the model chosen and why. */
export function decisionHeaders(served: Partial<Served>, model?: string): Record<string, string> {
  const d = served.decision;
  const h: Record<string, string> = {};
  if (d) {
    h["x-switchboard-request-id"] = d.requestId;
    h["x-switchboard-mode"] = d.mode;
    h["x-switchboard-reason"] = headerText(d.reason);
  }
  const m = model ?? served.model ?? d?.model;
  if (m) h["x-switchboard-model"] = m;
  // Known once a call is over: whole answers and errors carry it, a stream's headers leave first.
  if (served.costUsd !== undefined) h["x-switchboard-cost-usd"] = served.costUsd.toFixed(8);
  return h;
}

/** Ends a call when its client goes away (closed the connection before the answer finished). */
export function abortOnDisconnect(res: ServerResponse): AbortController {
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  return abort;
}

/**
 * The tool call a request forces (`tool_choice`), checked against its tools as the providers
 * check it: forcing a call with no tools, or naming a tool the request does not define, is the
 * client's mistake (400 naming the field and the tools it may name).
 */
export function forcedTool(choice: ToolChoice | undefined, tools: FunctionTool[]): ToolChoice | undefined {
  if (!choice) return undefined;
  const names = tools.map((t) => t.name);
  if (!names.length) throw invalidRequest("tool_choice forces a tool call, but the request defines no tools", "send the tools with the request, or leave tool_choice out.", { field: "tool_choice" });
  if (choice !== "required" && !names.includes(choice.name)) {
    throw invalidRequest(`tool_choice names ${shown(choice.name)}, which is not one of the request's tools`, "name one of the request's tools, or let the model choose.", { field: "tool_choice", validValues: names });
  }
  return choice;
}
