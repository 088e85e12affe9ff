import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult, ContentBlock, JSONRPCMessage, ServerNotification, ServerRequest, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { ErrorCode } from "@modelcontextprotocol/sdk/types.js";
import { SwitchboardError, closest, unknownValue, type ErrorBody } from "../errors.js";
import type { Runtime } from "../runtime.js";
import type { SwitchboardConfig } from "../config/schema.js";
import { logger } from "../logger.js";
import { recordCall, type ServedSoFar } from "./call-record.js";
import { snapshotListing } from "./listing-snapshot.js";
import type { Served } from "../jobs/served.js";
import { principalOf, scopeTenant } from "../auth.js";

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface ToolContext {
  runtime: Runtime;
  /** The MCP server, for requests back to the client (sampling). */
  server: McpServer;
  extra: Extra;
  /** Sends notifications/progress when the client asked for it (gave a progressToken). */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /** progress() for jobs that report and move on: never awaited, never throws. */
  status(progress: number, message: string): void;
  /** The call came over the network (HTTP), not from a local host process: file access is narrower. */
  remote: boolean;
  /**
   * Tells the runtime what served the call (decision, model, attempts, usage, cost), for
   * telemetry, metrics and the dashboard. Later calls add to earlier ones: a job can name its
   * decision as soon as it routes, so a call that fails afterwards is still recorded with it.
   */
  serve(served: ServedSoFar): void;
}

export interface ToolDefinition<I extends z.ZodRawShape, O extends z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  annotations: ToolAnnotations;
  run(args: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<z.infer<z.ZodObject<O>>> | z.infer<z.ZodObject<O>>;
  /**
   * Arguments whose valid values come from the config in force (the modes of the routing table):
   * listed as a JSON Schema enum, so agents can discover them; still checked by the router, which
   * answers a wrong value with the valid ones.
   */
  listedEnums?(cfg: SwitchboardConfig): Record<string, { values: string[]; description: string }>;
  /**
   * Arguments another tool's listing already describes (run_llm's routing arguments, described on
   * route_task): listed here by type and enum only, without descriptions, bounds or nested fields,
   * so agents do not carry the same text twice. This tool's description should name the other tool.
   */
  describedOn?: { tool: string; fields: readonly string[] };
  /** Content blocks beyond the JSON mirror: resource links to saved files, small inline media. */
  content?(out: z.infer<z.ZodObject<O>>, runtime: Runtime): ContentBlock[];
}

/** A JSON Schema object, as tools/list carries it. */
export type JsonSchema = Record<string, unknown>;

const toJson = (schema: z.ZodType, io: "input" | "output") => tidy(z.toJSONSchema(schema, { io, unrepresentable: "any" })) as JsonSchema;

/**
 * A schema as listed: without the draft's `$schema` (every tool would repeat it), the safe-integer
 * bounds zod gives every `.int()`, and the `propertyNames: string` / `additionalProperties: {}` of a
 * record, none of which says anything a client can act on.
 */
function tidy(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(tidy);
  if (!isRecord(json)) return json;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(json)) {
    if (k === "$schema" || (k === "maximum" && v === Number.MAX_SAFE_INTEGER) || (k === "minimum" && v === Number.MIN_SAFE_INTEGER)) continue;
    // What JSON already means: keys are strings, and any value is allowed unless said otherwise.
    if ((k === "propertyNames" && isRecord(v) && v.type === "string" && Object.keys(v).length === 1) || (k === "additionalProperties" && isRecord(v) && !Object.keys(v).length)) continue;
    // A `properties` map is named schemas, not keywords: tidy each, drop none.
    out[k] = k === "properties" && isRecord(v) ? Object.fromEntries(Object.entries(v).map(([name, p]) => [name, tidy(p)])) : tidy(v);
  }
  return out;
}

/**
 * The listed input schema: every argument with its type, constraints, enum and description, the
 * required ones, and no others. Modes come from the config in force (`listedEnums`). `full` is
 * the documentation's version: nested objects closed too, and nothing left to another tool.
 */
export function inputJson(def: AnyToolDefinition, cfg: SwitchboardConfig, opts: { full?: boolean } = {}): JsonSchema {
  const enums = def.listedEnums?.(cfg) ?? {};
  const input = def.input as z.ZodRawShape;
  const elsewhere = new Set(opts.full ? [] : (def.describedOn?.fields ?? []));
  const properties = Object.fromEntries(
    Object.entries(input).map(([k, v]) => {
      const own = toJson(v as z.ZodType, "input");
      const json = opts.full ? own : openNested(own);
      const listed = Object.hasOwn(enums, k) ? enums[k] : undefined;
      const field = listed ? { ...json, enum: listed.values, description: listed.description } : json;
      return [k, elsewhere.has(k) ? typeAndEnum(field) : field];
    }),
  );
  const required = Object.entries(input)
    .filter(([, v]) => !(v as z.ZodType).safeParse(undefined).success)
    .map(([k]) => k);
  return { type: "object", properties, ...(required.length ? { required } : {}), additionalProperties: false };
}

/**
 * The listed output schema: the top-level fields and their types. Which are always there, enums,
 * nested fields and descriptions are left to switchboard://docs/tools/{name} (`outputJson`): every
 * agent carries tools/list in its context, and the field names and the tool's description say what
 * comes back. Only looser than the real shape, so every result still validates against it.
 */
export function listedOutputJson(def: AnyToolDefinition): JsonSchema {
  const props = (outputJson(def).properties ?? {}) as Record<string, JsonSchema>;
  return { type: "object", properties: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, typeOnly(v)])) };
}

/** The full output schema, nested fields and their descriptions included. */
export function outputJson(def: AnyToolDefinition): JsonSchema {
  return toJson(z.object(def.output as z.ZodRawShape), "output");
}

/** A schema reduced to its type and enum. */
function typeAndEnum(v: JsonSchema): JsonSchema {
  if (Array.isArray(v.anyOf)) return { anyOf: (v.anyOf as JsonSchema[]).map(typeAndEnum) };
  return { ...(v.type !== undefined ? { type: v.type } : {}), ...(v.enum ? { enum: v.enum } : {}) };
}

/** A schema reduced to its type. */
function typeOnly(v: JsonSchema): JsonSchema {
  if (Array.isArray(v.anyOf)) return { anyOf: (v.anyOf as JsonSchema[]).map(typeOnly) };
  return v.type !== undefined ? { type: v.type } : {};
}

/**
 * An argument's schema without `additionalProperties: false` on its nested objects: the strict
 * parse refuses an unknown key anywhere (with a did-you-mean), and the listing says so once, on
 * the arguments object.
 */
function openNested(v: unknown): JsonSchema {
  if (Array.isArray(v)) return v.map(openNested) as unknown as JsonSchema;
  if (!isRecord(v)) return v as JsonSchema;
  const out: JsonSchema = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === "additionalProperties" && x === false) continue;
    out[k] = k === "properties" && isRecord(x) ? Object.fromEntries(Object.entries(x).map(([name, p]) => [name, openNested(p)])) : openNested(x);
  }
  return out;
}

/**
 * The hints a client needs: not those MCP assumes when a tool says nothing, nor, for a read-only
 * tool, the destructive and idempotent hints (meaningful only for tools that modify).
 */
const DEFAULT_HINTS: Record<string, boolean> = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true };
const listedHints = (a: ToolAnnotations): ToolAnnotations =>
  Object.fromEntries(Object.entries(a).filter(([k, v]) => DEFAULT_HINTS[k] !== v && !(a.readOnlyHint && (k === "destructiveHint" || k === "idempotentHint"))));

/**
 * What the SDK is given for a listed schema: an object schema that lists as `json` and, when the
 * SDK parses with it, only checks that it has an object. Arguments get the strict parse here (the
 * SDK would answer a wrong-typed one with plain text; agents do better with the structured error
 * every other failure has); results are typed by the definition's output shape at compile time,
 * and clients validate them against the listed schema.
 */
export function listedSchema(json: JsonSchema): Listed {
  // `$schema: undefined` keeps the draft URL out of the listing.
  return z.looseObject({}).meta({ additionalProperties: undefined, ...json, $schema: undefined });
}

export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDefinition<I, O>) {
  return def;
}

/** A definition of any tool, for lists of them (tools/index.ts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyToolDefinition = ToolDefinition<any, any>;

/**
 * The strict parser and the listed schemas of a definition, built once: converting every tool's
 * schema to JSON Schema is most of the cost of a new MCP session, and HTTP opens one per client.
 */
type Listed = z.ZodObject<Record<string, never>, z.core.$loose>;
interface Built {
  version: string;
  strict: z.ZodObject;
  input: Listed;
  output: Listed;
}
/** Per definition, for the config version in force (enums listed from config change on reload). */
const schemaCache = new WeakMap<object, Built>();

function schemasOf<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDefinition<I, O>, runtime: Runtime): Built & { strict: z.ZodObject<I, z.core.$strict> } {
  const hit = schemaCache.get(def);
  if (hit && (!def.listedEnums || hit.version === runtime.configVersion)) return hit as Built & { strict: z.ZodObject<I, z.core.$strict> };
  // The build converted the shipped config's schemas already (tools/listing-snapshot.ts).
  const shipped = snapshotListing(def.name, runtime.configVersion);
  const built: Built = {
    version: runtime.configVersion,
    strict: z.strictObject(def.input),
    input: listedSchema(shipped?.input ?? inputJson(def, runtime.config)),
    output: hit?.output ?? listedSchema(shipped?.output ?? listedOutputJson(def)),
  };
  schemaCache.set(def, built);
  return built as Built & { strict: z.ZodObject<I, z.core.$strict> };
}

export function registerTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(
  server: McpServer,
  runtime: Runtime,
  def: ToolDefinition<I, O>,
): void {
  const { strict, input, output } = schemasOf(def, runtime);
  guardToolCalls(server);
  const registered = server.registerTool(
    def.name,
    {
      title: def.title,
      description: def.description,
      inputSchema: input,
      outputSchema: output,
      annotations: listedHints(def.annotations),
    },
    async (raw: Record<string, unknown>, extra: Extra): Promise<CallToolResult> => {
      const t0 = performance.now();
      const served: ServedSoFar = {};
      // Refused calls are recorded too: errors by code must count bad input and refusals.
      const refuse = (body: ErrorBody, args: Record<string, unknown>) => {
        recordCall(runtime, def.name, args, served, body.code, t0);
        return errorResult(body);
      };
      // Text the store cannot hold (NUL) or that is not Unicode (lone surrogates) stops here, in any argument at any depth.
      const badText = findBadText(raw);
      if (badText) return refuse(badText, { tenant: principalOf(extra)?.tenant });
      const parsed = strict.safeParse(raw ?? {});
      if (!parsed.success) return refuse(zodToError(parsed.error, Object.keys(def.input)), isRecord(raw) ? raw : {});
      if ("tenant" in def.input) {
        // Over HTTP with tokens, the tenant comes from the token, not from the arguments.
        const args = parsed.data as { tenant?: string };
        const principal = principalOf(extra);
        const scoped = scopeTenant(principal, args.tenant);
        if ("refused" in scoped) return refuse(forbidden(scoped.refused), { ...parsed.data, tenant: principal?.tenant });
        if (scoped.tenant !== undefined) args.tenant = scoped.tenant;
        // Own properties only: "__proto__", "constructor" or "toString" name no tenant.
        const tenants = runtime.config.tenants;
        if (args.tenant !== undefined && !Object.hasOwn(tenants, args.tenant)) {
          return refuse(unknownValue("tenant", args.tenant, Object.keys(tenants)).body, { ...parsed.data, tenant: undefined });
        }
      }
      let lastProgress = -1;
      const progress: ToolContext["progress"] = async (value, total, message) => {
        const token = extra._meta?.progressToken;
        if (token === undefined) return;
        // MCP requires progress to increase: a status update that repeats a value still moves it on.
        const next = (lastProgress = Math.max(value, lastProgress + 1));
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken: token, progress: next, ...(total !== undefined ? { total } : {}), ...(message ? { message } : {}) },
        });
      };
      const ctx: ToolContext = {
        runtime,
        server,
        extra,
        progress,
        status: (value, message) => void progress(value, undefined, message).catch(() => undefined),
        // HTTP transports attach requestInfo (the request's headers); stdio and in-memory do not.
        remote: extra.requestInfo !== undefined,
        serve: (part) => void Object.assign(served, part),
      };
      const record = (code: string) => {
        recordCall(runtime, def.name, parsed.data as Record<string, unknown>, served, code, t0);
      };
      try {
        const out = await def.run(parsed.data, ctx);
        record("ok");
        // Compact JSON: the text mirror is for clients without structuredContent, not for reading.
        return {
          content: [{ type: "text", text: JSON.stringify(out) }, ...(def.content?.(out, runtime) ?? [])],
          structuredContent: out as Record<string, unknown>,
        };
      } catch (err) {
        if (err instanceof SwitchboardError) {
          if (err.body.attempts) served.attempts = err.body.attempts as Served["attempts"];
          record(err.body.code);
          return errorResult(err.body);
        }
        record("internal");
        logger.error({ tool: def.name, err: (err as Error).message, stack: (err as Error).stack }, "tool failed unexpectedly");
        return errorResult({
          code: "internal",
          message: `${def.name} failed unexpectedly: ${(err as Error).message}`,
          hint: "this is a Switchboard bug; the server is still running. Retry once, and report it with the server log if it persists.",
          retryable: true,
        });
      }
    },
  );
  // Tasks are not supported, which is what a tool without `execution` means: not listed on every tool.
  registered.execution = undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be taken as text, or undefined when it can: NUL, or a lone UTF-16 surrogate. */
function textProblem(s: string): string | undefined {
  const nul = s.indexOf("\u0000");
  if (nul >= 0) return `contains a NUL character (\\u0000) at position ${nul}`;
  const lone = LONE_SURROGATE.exec(s);
  if (lone) return `is not valid Unicode text: an unpaired surrogate (\\u${lone[0].charCodeAt(0).toString(16).toUpperCase()}) at position ${lone.index}`;
  return undefined;
}

/**
 * The first string (value or key, at any depth) of the arguments that is not valid text, as an
 * invalid_request naming its field. Other control characters (tabs, newlines) are fine.
 */
export function findBadText(args: unknown): ErrorBody | undefined {
  const stack: Array<{ value: unknown; path: string[] }> = [{ value: args, path: [] }];
  while (stack.length) {
    const { value, path } = stack.pop()!;
    let problem: string | undefined;
    if (typeof value === "string") problem = textProblem(value);
    else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, String(i)] });
    } else if (typeof value === "object" && value !== null) {
      const entries = Object.entries(value);
      for (const [k] of entries) {
        const p = textProblem(k);
        if (p) {
          problem = `has a key that ${p}`;
          break;
        }
      }
      if (!problem) for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1], path: [...path, entries[i]![0]] });
    }
    if (problem) {
      const field = path.length ? path.join(".") : "arguments";
      return {
        code: "invalid_request",
        message: `${field} ${problem}`,
        hint: `remove the NUL characters and unpaired surrogates from ${field}; tabs, newlines and other text are fine.`,
        field,
        retryable: false,
      };
    }
  }
  return undefined;
}

/**
 * A tools/call the SDK would answer badly: params that are not an object (a JSON-RPC -32602
 * error), or arguments that are not an object (the tool's structured invalid_request, like any
 * other wrong argument). Undefined for a well-formed call; null arguments count as none.
 */
export function malformedToolCall(message: unknown): JSONRPCMessage | undefined {
  if (!isRecord(message) || message.method !== "tools/call" || (typeof message.id !== "string" && typeof message.id !== "number")) return undefined;
  const id = message.id;
  const params = message.params;
  if (!isRecord(params)) {
    return { jsonrpc: "2.0", id, error: { code: ErrorCode.InvalidParams, message: "tools/call needs params: an object with the tool's name and its arguments object" } };
  }
  if (typeof params.name !== "string") {
    return { jsonrpc: "2.0", id, error: { code: ErrorCode.InvalidParams, message: "tools/call params.name must be a string naming a tool (see tools/list)" } };
  }
  if (params.arguments === null) delete params.arguments;
  if (params.arguments !== undefined && !isRecord(params.arguments)) {
    const kind = Array.isArray(params.arguments) ? "an array" : `a ${typeof params.arguments}`;
    const result = errorResult({
      code: "invalid_request",
      message: `arguments must be an object of named arguments, not ${kind}`,
      hint: `pass arguments as a JSON object, e.g. {"prompt": "..."}; tools/list gives ${params.name}'s input schema.`,
      field: "arguments",
      retryable: false,
    });
    return { jsonrpc: "2.0", id, result };
  }
  return undefined;
}

/** The JSON-RPC answer for a request the SDK cannot parse at all (params not an object): -32602, or -32600 otherwise. */
const MESSAGE_KEYS = new Set(["jsonrpc", "id", "method", "params", "result", "error"]);

/**
 * The common JSON-RPC shapes, recognised in a few comparisons, so that ordinary traffic is not
 * schema-parsed twice (here and again by the SDK). False means "look closer with the schema", not
 * "malformed": a `_meta` or an unusual shape is left to the full check.
 */
export function plainlyWellFormed(m: unknown): boolean {
  if (!isRecord(m) || m.jsonrpc !== "2.0") return false;
  for (const k in m) if (!MESSAGE_KEYS.has(k)) return false;
  const hasId = typeof m.id === "string" || typeof m.id === "number";
  if (typeof m.method === "string") {
    if (m.result !== undefined || m.error !== undefined || (m.id !== undefined && !hasId)) return false;
    return m.params === undefined || (isRecord(m.params) && m.params._meta === undefined);
  }
  return hasId && m.params === undefined && (m.result === undefined) !== (m.error === undefined) && isRecord(m.result ?? m.error);
}

export function malformedRequest(message: unknown): JSONRPCMessage | undefined {
  if (!isRecord(message) || typeof message.method !== "string" || (typeof message.id !== "string" && typeof message.id !== "number")) return undefined;
  if (message.params !== undefined && !isRecord(message.params)) {
    return { jsonrpc: "2.0", id: message.id, error: { code: ErrorCode.InvalidParams, message: `${message.method.slice(0, 100)}: params must be an object` } };
  }
  return { jsonrpc: "2.0", id: message.id, error: { code: ErrorCode.InvalidRequest, message: "not a valid JSON-RPC 2.0 request" } };
}

const guarded = new WeakSet<McpServer>();

/**
 * Every transport this server connects to answers a malformed tools/call itself, before the
 * SDK's dispatch (which would answer with an internal error carrying a raw schema dump).
 */
function guardToolCalls(server: McpServer): void {
  if (guarded.has(server)) return;
  guarded.add(server);
  const inner = server.server.connect.bind(server.server);
  server.server.connect = async (transport: Transport) => {
    await inner(transport);
    const dispatch = transport.onmessage;
    if (!dispatch) return;
    transport.onmessage = (message, extra) => {
      const answer = malformedToolCall(message);
      if (!answer) return dispatch.call(transport, message, extra);
      void transport.send(answer, { relatedRequestId: (message as { id: string | number }).id }).catch((err: unknown) => logger.warn({ err: (err as Error).message }, "cannot answer a malformed tools/call"));
    };
  };
}

export function forbidden(message: string): ErrorBody {
  return {
    code: "forbidden",
    message,
    hint: "leave tenant out (the token decides it), or use that tenant's token.",
    field: "tenant",
    retryable: false,
  };
}

export function errorResult(body: ErrorBody): CallToolResult {
  return { isError: true, content: [{ type: "text", text: JSON.stringify({ error: body }, null, 2) }] };
}

/** One actionable error for the first problem zod found, naming the field and the valid values. */
export function zodToError(error: z.ZodError, fields: string[]): ErrorBody {
  const iss = error.issues[0]!;
  const field = iss.path.map(String).join(".") || undefined;
  const others = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? "s" : ""})` : "";
  if (iss.code === "unrecognized_keys") {
    const key = iss.keys[0]!;
    const guess = closest(key, fields);
    return {
      code: "invalid_request",
      message: `unknown argument "${key}"${others}`,
      hint: guess ? `did you mean "${guess}"?` : `valid arguments: ${fields.join(", ")}.`,
      field: key,
      validValues: fields,
      retryable: false,
    };
  }
  if (iss.code === "invalid_type" && /received undefined/.test(iss.message)) {
    return {
      code: "invalid_request",
      message: `${field} is required${others}`,
      hint: `pass ${field}; the tool's input schema describes it.`,
      ...(field ? { field } : {}),
      retryable: false,
    };
  }
  const values = iss.code === "invalid_value" ? iss.values.map(String) : undefined;
  return {
    code: "invalid_request",
    message: `${field ?? "arguments"}: ${iss.message}${others}`,
    hint: values ? `use one of: ${values.join(", ")}.` : `fix ${field ?? "the arguments"} to match the tool's input schema and call again.`,
    ...(field ? { field } : {}),
    ...(values ? { validValues: values } : {}),
    retryable: false,
  };
}
