import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ContentBlock, ServerNotification, ServerRequest, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { SwitchboardError, closest, type ErrorBody } from "../errors.js";
import type { Runtime } from "../runtime.js";
import type { SwitchboardConfig } from "../config/schema.js";
import { logger } from "../logger.js";
import { callRecord, type ServedSoFar } from "./call-record.js";
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
  /** Content blocks beyond the JSON mirror: resource links to saved files, small inline media. */
  content?(out: z.infer<z.ZodObject<O>>, runtime: Runtime): ContentBlock[];
}

/**
 * The SDK would answer a wrong-typed argument with a plain-text error. Agents do better with
 * the same structured error every other failure has, so the SDK gets lenient fields that list
 * the real JSON Schema, and the strict parse happens here.
 */
function lenient(schema: z.ZodType, listedEnum?: { values: string[]; description: string }): z.ZodType {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  delete json.$schema;
  if (listedEnum) Object.assign(json, { enum: listedEnum.values, description: listedEnum.description });
  // Optional even when required: a missing argument must reach the strict parse and get the
  // structured error, not the SDK's text. The listed schema still says what is required.
  return z.any().meta(json).optional();
}

export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDefinition<I, O>) {
  return def;
}

/** A definition of any tool, for lists of them (tools/index.ts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyToolDefinition = ToolDefinition<any, any>;

/**
 * The strict parser and the listed schema of a definition, built once: converting every tool's
 * schema to JSON Schema is most of the cost of a new MCP session, and HTTP opens one per client.
 */
type Listed = z.ZodObject<z.ZodRawShape, z.core.$loose>;
/** Per definition, for the config version in force (enums listed from config change on reload). */
const schemaCache = new WeakMap<object, { version: string; strict: z.ZodObject; listed: Listed }>();

function schemasOf<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDefinition<I, O>, runtime: Runtime): { strict: z.ZodObject<I, z.core.$strict>; listed: Listed } {
  const hit = schemaCache.get(def);
  if (hit && (!def.listedEnums || hit.version === runtime.configVersion)) return hit as unknown as { strict: z.ZodObject<I, z.core.$strict>; listed: Listed };
  const enums = def.listedEnums?.(runtime.config) ?? {};
  const strict = z.strictObject(def.input);
  // Loose, so unknown keys survive the SDK's parse and reach the strict check (typo hints);
  // the listed schema still tells clients that extra keys are not accepted.
  const required = Object.entries(def.input)
    .filter(([, v]) => !(v as z.ZodType).safeParse(undefined).success)
    .map(([k]) => k);
  const listed = z
    .looseObject(Object.fromEntries(Object.entries(def.input).map(([k, v]) => [k, lenient(v as z.ZodType, Object.hasOwn(enums, k) ? enums[k] : undefined)])))
    .meta({ additionalProperties: false, ...(required.length ? { required } : {}) });
  const built = { version: runtime.configVersion, strict, listed };
  schemaCache.set(def, built);
  return built;
}

export function registerTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(
  server: McpServer,
  runtime: Runtime,
  def: ToolDefinition<I, O>,
): void {
  const { strict, listed } = schemasOf(def, runtime);
  server.registerTool(
    def.name,
    {
      title: def.title,
      description: def.description,
      inputSchema: listed,
      outputSchema: def.output,
      annotations: { title: def.title, ...def.annotations },
    },
    async (raw: Record<string, unknown>, extra: Extra): Promise<CallToolResult> => {
      const t0 = performance.now();
      const served: ServedSoFar = {};
      // Refused calls are recorded too: errors by code must count bad input and refusals.
      const refuse = (body: ErrorBody, args: Record<string, unknown>) => {
        if (runtime.observed) runtime.recordCall(callRecord(def.name, args, served, body.code, performance.now() - t0, runtime.config));
        return errorResult(body);
      };
      const parsed = strict.safeParse(raw ?? {});
      if (!parsed.success) return refuse(zodToError(parsed.error, Object.keys(def.input)), isRecord(raw) ? raw : {});
      if ("tenant" in def.input) {
        // Over HTTP with tokens, the tenant comes from the token, not from the arguments.
        const args = parsed.data as { tenant?: string };
        const principal = principalOf(extra);
        const scoped = scopeTenant(principal, args.tenant);
        if ("refused" in scoped) return refuse(forbidden(scoped.refused), { ...parsed.data, tenant: principal?.tenant });
        if (scoped.tenant !== undefined) args.tenant = scoped.tenant;
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
        if (runtime.observed) runtime.recordCall(callRecord(def.name, parsed.data as Record<string, unknown>, served, code, performance.now() - t0, runtime.config));
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
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

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
