import { z } from "zod";
import { providerOf } from "./model-id.js";

/** The 13 task types the router classifies into. Ids are part of the public contract. */
export const TASK_TYPES = [
  "coding",
  "code_review",
  "debugging",
  "math",
  "reasoning",
  "planning",
  "creative_writing",
  "summarization",
  "translation",
  "extraction",
  "simple_qa",
  "research",
  "analysis",
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const COST_TIERS = ["economy", "standard", "premium"] as const;
export type CostTier = (typeof COST_TIERS)[number];

export const COMPLEXITIES = ["simple", "medium", "complex"] as const;
export type Complexity = (typeof COMPLEXITIES)[number];

export const LATENCY_CLASSES = ["interactive", "background"] as const;
export type LatencyClass = (typeof LATENCY_CLASSES)[number];

export const CAPABILITIES = [
  "coding",
  "reasoning",
  "creative",
  "speed",
  "context",
  "instruction",
  "toolUse",
] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const JOB_KINDS = ["llm", "retrieval", "media", "voice", "transcription"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

const score = z.number().min(0).max(100);
const usd = z.number().min(0);
/** `provider:model`, split at the first colon (model ids may contain colons and slashes). */
export const modelId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*:.+$/, "must be written provider:model, e.g. openai:gpt-4.1-mini");

const providerSchema = z.strictObject({
  displayName: z.string().optional(),
  api: z.enum(["openai", "anthropic", "openai-compatible", "tavily", "replicate", "elevenlabs"]),
  baseUrl: z.url(),
  apiKeyEnv: z.string().regex(/^[A-Z][A-Z0-9_]*$/).nullable(),
  /** Keyless (local) providers count as configured only when enabled. */
  enabled: z.boolean().optional(),
});

const modelSchema = z.strictObject({
  displayName: z.string().optional(),
  tier: z.enum(COST_TIERS),
  capabilities: z.strictObject({
    coding: score,
    reasoning: score,
    creative: score,
    speed: score,
    context: score,
    instruction: score,
    toolUse: score,
  }),
  /**
   * USD per 1M tokens; cache reads at cachedInput and cache writes at cacheWrite, each the input
   * price when absent; writes cached for an hour at cacheWrite1h (else cacheWrite); perWebSearch:
   * USD for each web search the model runs as a server tool (Anthropic's web_search).
   */
  price: z.strictObject({ input: usd, output: usd, cachedInput: usd.optional(), cacheWrite: usd.optional(), cacheWrite1h: usd.optional(), perWebSearch: usd.optional() }),
  contextWindow: z.number().int().positive(),
  maxOutput: z.number().int().positive(),
  supports: z.strictObject({
    tools: z.boolean(),
    vision: z.boolean(),
    json: z.boolean(),
    /** Reads PDF documents sent whole (Anthropic's document blocks, OpenAI's file parts); absent means no. */
    documents: z.boolean().optional(),
    /** Runs its provider's server tools (Anthropic's web search and web fetch) when a request sends them; absent means no. */
    serverTools: z.boolean().optional(),
    /** Takes a reasoning setting (OpenAI's reasoning_effort, Anthropic's extended thinking); others are sent none. */
    reasoning: z.boolean().optional(),
    /**
     * The reasoning_effort values it takes, when not low, medium and high (gpt-5 also takes
     * minimal); an effort it does not take is sent as the nearest one it does.
     */
    reasoningEfforts: z.array(z.enum(["minimal", "low", "medium", "high"])).nonempty().optional(),
    /** false: the API refuses a temperature (OpenAI's reasoning models), so none is sent. */
    temperature: z.boolean().optional(),
  }),
  latencyMs: z.number().int().positive(),
});

const serviceSchema = z.strictObject({
  displayName: z.string().optional(),
  kind: z.enum(["retrieval", "media", "voice", "transcription"]),
  price: z.strictObject({
    perRequest: usd.optional(),
    perSecond: usd.optional(),
    perImage: usd.optional(),
    perMinute: usd.optional(),
    perThousandChars: usd.optional(),
    input: usd.optional(),
    output: usd.optional(),
  }),
  version: z.string().optional(),
  /** Switchboard input name -> the model's input name (media models). */
  params: z.record(z.string(), z.string()).optional(),
  /** Extra inputs always sent to the model. */
  defaults: z.record(z.string(), z.unknown()).optional(),
});

const modeSchema = z.strictObject({
  description: z.string(),
  job: z.enum(JOB_KINDS),
  latency: z.enum(LATENCY_CLASSES),
  interaction: z.enum(["human_in_the_loop", "automated"]),
  maxCostTier: z.enum(COST_TIERS),
  chain: z.array(modelId).min(1),
  retrieval: z.array(z.string()).optional(),
  tools: z.array(z.string()).default([]),
  mcpTools: z.array(z.string()).default([]),
  defaultTaskType: z.enum(TASK_TYPES),
});

const perComplexity = <T extends z.ZodTypeAny>(t: T) =>
  z.strictObject({ simple: t, medium: t, complex: t });

const taskSchema = z.strictObject({
  description: z.string(),
  mode: z.string(),
  tiers: perComplexity(z.enum(COST_TIERS)),
  weights: z.partialRecord(z.enum(CAPABILITIES), z.number().min(0).max(1)),
  preferredModels: z.array(modelId).default([]),
  outputTokens: perComplexity(z.number().int().positive()),
  examples: z.array(z.string().min(1)).default([]),
});

const tenantSchema = z.strictObject({
  description: z.string().optional(),
  defaultMode: z.string().optional(),
  allowedProviders: z.array(z.string()).optional(),
  blockedProviders: z.array(z.string()).optional(),
  allowedModels: z.array(modelId).optional(),
  blockedModels: z.array(modelId).optional(),
  preferredProviders: z.array(z.string()).optional(),
  preferredModels: z.array(modelId).optional(),
  /** Every LLM call of this tenant goes to this model (policy lock). */
  lockModel: modelId.optional(),
  maxInteractiveLatencyMs: z.number().int().positive().optional(),
  budget: z
    .strictObject({ dailyUsd: usd.optional(), monthlyUsd: usd.optional() })
    .optional(),
  learning: z.boolean().optional(),
  /** This tenant's operating point: the share of always-premium quality to keep (router.qualityTarget). */
  qualityTarget: z.number().min(0).max(1).optional(),
  /** LLM calls and tokens per minute, across every instance on one store. */
  rateLimits: z.lazy(() => rateLimitsSchema).optional(),
});

/** Requests and tokens (input + output) per minute; an omitted one is unlimited. */
const rateLimitsSchema = z.strictObject({
  requestsPerMinute: z.number().int().positive().optional(),
  tokensPerMinute: z.number().int().positive().optional(),
});
export type RateLimits = z.infer<typeof rateLimitsSchema>;

const experimentSchema = z.strictObject({
  mode: z.string(),
  model: modelId,
  share: z.number().min(0).max(1),
  enabled: z.boolean().default(true),
  tenants: z.array(z.string()).optional(),
});

const latencyClassSchema = z.strictObject({
  attemptTimeoutMs: z.number().int().positive(),
  deadlineMs: z.number().int().positive(),
  /** No model whose typical latency (catalog latencyMs) is above this is routed as primary or first fallback. */
  maxTypicalLatencyMs: z.number().int().positive().optional(),
});

/** The learned difficulty score (config/difficulty.json, written by scripts/train-difficulty.mjs). */
const difficultySchema = z.strictObject({
  /** What the score estimates and how it was trained, for people reading the file. */
  about: z.string().optional(),
  features: z.array(z.string()).min(1),
  mean: z.array(z.number()),
  scale: z.array(z.number().positive()),
  weights: z.array(z.number()),
  bias: z.number(),
  /** Task types the outcomes data covers: only for these does the score set the tier (elsewhere the task table does). */
  taskTypes: z.array(z.enum(TASK_TYPES)).default([]),
  /**
   * The wording part: the prompt's words, lowercased and hashed (32-bit FNV-1a) into `buckets`
   * buckets, each present bucket adding its weight to the logit. Numbers only, never words.
   * `center` is the part's mean over the training rows, so a reason says when the wording pushes up.
   */
  text: z
    .strictObject({
      about: z.string().optional(),
      buckets: z.number().int().positive(),
      weights: z.array(z.number()),
      center: z.number().default(0),
    })
    .optional(),
  /** Platt scaling of the logit: score = sigmoid(a * logit + b). */
  calibration: z.strictObject({ a: z.number(), b: z.number() }),
  /** Measured on the outcomes file: the least premium share (score ≥ threshold) that keeps each quality target. */
  operatingPoints: z
    .array(z.strictObject({ qualityTarget: z.number(), threshold: z.number(), premiumShare: z.number(), quality: z.number() }))
    .min(1),
  /** The measured figures (held-out APGR per source, the full fit's curve); informational. */
  measured: z.record(z.string(), z.unknown()).optional(),
});
export type DifficultyModel = z.infer<typeof difficultySchema>;

const routerSchema = z.strictObject({
  defaultTenant: z.string().default("default"),
  maxPromptChars: z.number().int().positive(),
  classifier: z.strictObject({ minConfidence: z.number().min(0).max(1) }),
  weights: z.strictObject({
    intelligence: z.number().min(0),
    cost: z.number().min(0),
    speed: z.number().min(0),
  }),
  requiredCapability: perComplexity(score),
  /**
   * The cost-quality knob: the share of always-premium quality to keep. Calls whose difficulty is at
   * or above the matching measured threshold go premium; the rest take the task's tier, at most standard.
   * A tenant's qualityTarget and a call's override it.
   */
  qualityTarget: z.number().min(0).max(1).default(0.91),
  difficulty: difficultySchema.optional(),
  latencyClasses: z.strictObject({
    interactive: latencyClassSchema,
    background: latencyClassSchema,
  }),
  maxFallbacks: z.number().int().min(0).max(10),
  failover: z.strictObject({
    /** Tries of one model before moving on, the first included. */
    maxAttemptsPerModel: z.number().int().min(1).max(10),
    initialDelayMs: z.number().int().min(0),
    maxDelayMs: z.number().int().min(0),
    /** A Retry-After longer than this moves on to the next model instead of waiting. */
    maxRetryAfterMs: z.number().int().min(0),
    breaker: z.strictObject({ consecutiveFailures: z.number().int().min(1), halfOpenAfterMs: z.number().int().min(0) }),
    /** Where a request refused by a content filter goes next. */
    contentFiltered: z.array(modelId).default([]),
    /** Retry once on a stronger model when an answer fails a visible check. */
    escalate: z.boolean().default(true),
  }),
});

const chainMap = z.record(z.string(), z.array(modelId).min(1));

const filesSchema = z.strictObject({
  allowedInputDirs: z.array(z.string()).min(1),
  outputDir: z.string(),
  maxInlineBytes: z.number().int().min(0),
  maxFileBytes: z.number().int().positive(),
  /** What callers over the network (the HTTP transport) may point jobs at; local callers may use both. */
  remoteCallers: z
    .strictObject({
      /** Local paths on this machine (inside allowedInputDirs). */
      localFiles: z.boolean().default(false),
      /** URLs on loopback, private or link-local addresses, fetched by this server. */
      privateUrls: z.boolean().default(false),
    })
    .default({ localFiles: false, privateUrls: false }),
});

const jobSettingsSchema = z.strictObject({
  retrieval: z.strictObject({ timeoutMs: z.number().int().positive(), maxSources: z.number().int().min(1).max(50) }),
  media: z.strictObject({ timeoutMs: z.number().int().positive(), pollIntervalMs: z.number().int().positive() }),
  voice: z.strictObject({ timeoutMs: z.number().int().positive(), defaultVoice: z.string(), defaultFormat: z.string() }),
  transcription: z.strictObject({ timeoutMs: z.number().int().positive() }),
});

/** A bearer token for the HTTP transport: the token itself comes from env, or only its hash is written. */
const tokenSchema = z
  .strictObject({
    /** The tenant every call made with this token acts for; admin tokens may act for any tenant. */
    tenant: z.string(),
    admin: z.boolean().default(false),
    /** Env var holding the token. */
    tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an env var name").optional(),
    /** SHA-256 (hex) of the token, so the config can be committed without the secret. */
    sha256: z.string().regex(/^[a-f0-9]{64}$/, "64 lowercase hex digits").optional(),
    /** Shown in logs and metrics instead of the token. */
    label: z.string().optional(),
    /** This token's own limits, beside its tenant's. */
    rateLimits: z.lazy(() => rateLimitsSchema).optional(),
  })
  .refine((t) => (t.tokenEnv === undefined) !== (t.sha256 === undefined), { message: "give exactly one of tokenEnv or sha256" });

const httpSchema = z.strictObject({
  host: z.string().min(1).default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(8787),
  /** No sessions: every POST /mcp is answered by a fresh server (for load balancers without stickiness). */
  stateless: z.boolean().default(false),
  /** Host header names accepted besides localhost, 127.0.0.1 and [::1] (DNS-rebinding protection). */
  allowedHosts: z.array(z.string().min(1)).default([]),
  /** Browser origins accepted besides the server's own and localhost ones; "*" accepts any. */
  allowedOrigins: z.array(z.string().min(1)).default([]),
  maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024),
  /** The /v1 LLM requests (chat completions, responses, messages, count_tokens): whole conversations with images; Anthropic's own limit. Read only once the token is checked. */
  maxLlmBodyBytes: z.number().int().positive().default(32 * 1024 * 1024),
  /** Sessions idle this long are closed. */
  sessionIdleMinutes: z.number().positive().default(30),
  /** Sessions (Streamable HTTP and legacy SSE) over all tenants together. */
  maxSessions: z.number().int().positive().default(1000),
  /** Sessions one tenant may hold at once (admin tokens count as their own tenant); 0 is no per-tenant cap. */
  maxSessionsPerTenant: z.number().int().min(0).default(250),
  /** Open streams (legacy SSE streams and GET /mcp streams) one tenant may hold at once; 0 is no cap. */
  maxStreamsPerTenant: z.number().int().min(0).default(100),
  /** The same per bearer token; 0 (default) leaves only the tenant's cap. */
  maxSessionsPerToken: z.number().int().min(0).default(0),
  maxStreamsPerToken: z.number().int().min(0).default(0),
  /** Per-tenant overrides of maxSessionsPerTenant / maxStreamsPerTenant. */
  tenantLimits: z
    .record(z.string(), z.strictObject({ maxSessions: z.number().int().min(0).optional(), maxStreams: z.number().int().min(0).optional() }))
    .default({}),
  tokens: z.array(tokenSchema).default([]),
  /**
   * Model names clients send to /v1 (for example Claude Code's claude-… ids) pinned to a catalog
   * id, `switchboard/<mode>` or `auto`. Unpinned Claude ids are routing hints, never a 404.
   */
  modelAliases: z.record(z.string().min(1), z.string().min(1)).default({}),
  /**
   * "on" (default): bearer auth is on whenever a token is configured, and a reload can never drop
   * every token. "off": no auth, even with tokens; the only way to turn auth off on a server that has it.
   */
  auth: z
    .union([z.enum(["on", "off"]), z.boolean()])
    .default("on")
    .transform((v): "on" | "off" => (v === false || v === "off" ? "off" : "on")),
  /** Time to receive a request's headers; 0 turns the limit off. */
  headersTimeoutMs: z.number().int().min(0).default(30_000),
  /** Time to receive a whole request (headers and body); never applies to the response, so streams stay open. */
  requestTimeoutMs: z.number().int().min(0).default(120_000),
  /** Time from the headers to the last byte of the body; a client trickling its body is cut off. */
  bodyTimeoutMs: z.number().int().min(0).default(30_000),
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: z.number().int().min(0).default(5_000),
  /** Header lines read per request; the rest are dropped. */
  maxHeadersCount: z.number().int().positive().default(100),
  /** Open connections at once (every SSE stream holds one); 0 is unlimited. */
  maxConnections: z.number().int().min(0).default(4096),
});
export const HTTP_DEFAULTS = httpSchema.parse({});

/** A name a downstream server's tools are known by (`<namespace>.<tool>`), also a function-name prefix. */
const namespaceName = z.string().regex(/^[a-zA-Z0-9_-]{1,32}$/, "1-32 letters, digits, _ or -");

/**
 * A downstream MCP server, in the shape Claude Desktop's config uses: `command`/`args`/`env` for
 * stdio, or `url`/`headers` for Streamable HTTP (or legacy SSE). Values may be literal or
 * `${ENV_VAR}`; neither is ever logged. Servers start from config only, never from tool arguments.
 */
const mcpServerSchema = z
  .strictObject({
    command: z.string().min(1).optional(),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}),
    cwd: z.string().optional(),
    url: z.string().min(1).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    /** For `url`: Streamable HTTP (default) or the legacy HTTP+SSE transport. */
    transport: z.enum(["streamable-http", "sse"]).default("streamable-http"),
    /** Its tools are `<namespace>.<tool>`; default: the server's key. */
    namespace: namespaceName.optional(),
    /** Tool names allowed ("*" for all). */
    tools: z.array(z.string().min(1)).default(["*"]),
    /** Tenants that may see and call it ("*" for all). */
    tenants: z.array(z.string().min(1)).default(["*"]),
    connectTimeoutMs: z.number().int().positive().default(15_000),
    callTimeoutMs: z.number().int().positive().default(30_000),
    /** Retries of a failed call, only for tools annotated idempotent. */
    retries: z.number().int().min(0).max(5).default(1),
    enabled: z.boolean().default(true),
  })
  .refine((s) => (s.command === undefined) !== (s.url === undefined), { message: "give exactly one of command (stdio) or url (HTTP)" });

const mcpSchema = z.strictObject({
  servers: z.record(namespaceName, mcpServerSchema).default({}),
  /** Model → tool → model rounds a run_llm call may take. */
  maxToolSteps: z.number().int().min(1).max(64).default(8),
  /** A server's breaker: opens after this many failed calls in a row, tries again after halfOpenAfterMs. */
  breaker: z.strictObject({ consecutiveFailures: z.number().int().positive().default(3), halfOpenAfterMs: z.number().int().positive().default(30_000) }).default({ consecutiveFailures: 3, halfOpenAfterMs: 30_000 }),
  /** Re-expose the downstream tools through Switchboard's own MCP server, namespaced and filtered per tenant. */
  gateway: z.strictObject({ enabled: z.boolean().default(false) }).default({ enabled: false }),
});
export type McpServerEntry = z.infer<typeof mcpServerSchema>;
export type McpSettings = z.infer<typeof mcpSchema>;

export const configSchema = z
  .strictObject({
    version: z.literal(1),
    router: routerSchema,
    providers: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), providerSchema),
    models: z.record(modelId, modelSchema),
    services: z.record(modelId, serviceSchema).default({}),
    modes: z.record(z.string(), modeSchema),
    jobs: z.strictObject({
      llm: chainMap,
      retrieval: chainMap,
      media: chainMap,
      voice: chainMap,
      transcription: chainMap,
    }),
    tasks: z.strictObject(
      Object.fromEntries(TASK_TYPES.map((t) => [t, taskSchema])) as Record<TaskType, typeof taskSchema>,
    ),
    tenants: z.record(z.string(), tenantSchema),
    experiments: z.record(z.string(), experimentSchema).default({}),
    files: filesSchema,
    learning: z
      .strictObject({
        windowDays: z.number().int().min(1).default(30),
        /** A choice counts once a user or tenant made it this often, and in this share of their calls. */
        minChoices: z.number().int().min(1).default(3),
        choiceShare: z.number().min(0).max(1).default(0.3),
        userBoost: z.number().min(0).default(0.2),
        tenantBoost: z.number().min(0).default(0.1),
        minRatings: z.number().int().min(1).default(3),
        ratingBoost: z.number().min(0).default(0.05),
        /** Models under this success rate on a task (over minCalls calls) are demoted by `demotion`. */
        successFloor: z.number().min(0).max(1).default(0.8),
        minCalls: z.number().int().min(1).default(10),
        demotion: z.number().min(0).default(0.3),
      })
      .default({ windowDays: 30, minChoices: 3, choiceShare: 0.3, userBoost: 0.2, tenantBoost: 0.1, minRatings: 3, ratingBoost: 0.05, successFloor: 0.8, minCalls: 10, demotion: 0.3 }),
    store: z
      .strictObject({
        /** Keep prompt text in telemetry (off: only sizes, models, costs and outcomes are kept). */
        recordPrompts: z.boolean().default(false),
      })
      .default({ recordPrompts: false }),
    budgets: z
      .strictObject({
        /** Ceilings over all tenants together. */
        global: z.strictObject({ dailyUsd: usd.optional(), monthlyUsd: usd.optional() }).default({}),
        /** Share of a ceiling after which calls are downgraded to the cheapest adequate model. */
        degradeAt: z.number().min(0).max(1).default(0.8),
        /** Safety factor on the input-token estimate when reserving a call's worst case. */
        inputMargin: z.number().min(1).max(3).default(1.25),
        /** How long a call that would fit once calls in flight settle waits for them before it is refused. */
        waitMs: z.number().int().min(0).max(60000).default(3000),
        /** A reservation's lease: the call's deadline plus this; after it the reaper releases it (a crashed call). */
        leaseMarginMs: z.number().int().min(0).max(3600000).default(60000),
      })
      .default({ global: {}, degradeAt: 0.8, inputMargin: 1.25, waitMs: 3000, leaseMarginMs: 60000 }),
    jobSettings: jobSettingsSchema,
    http: httpSchema.default(HTTP_DEFAULTS),
    mcp: mcpSchema.default(mcpSchema.parse({})),
  })
  .superRefine((cfg, ctx) => crossCheck(cfg, ctx));

export type SwitchboardConfig = z.infer<typeof configSchema>;
export type ModelEntry = z.infer<typeof modelSchema>;
export type ServiceEntry = z.infer<typeof serviceSchema>;
export type ModeEntry = z.infer<typeof modeSchema>;
export type TaskEntry = z.infer<typeof taskSchema>;
export type TenantEntry = z.infer<typeof tenantSchema>;
export type ProviderEntry = z.infer<typeof providerSchema>;
export type ExperimentEntry = z.infer<typeof experimentSchema>;
export type HttpSettings = z.infer<typeof httpSchema>;
export type TokenEntry = z.infer<typeof tokenSchema>;

/** References between sections: every id named anywhere must exist in the catalog. */
function crossCheck(cfg: z.infer<typeof configSchema>, ctx: z.RefinementCtx): void {
  const llms = Object.keys(cfg.models);
  const all = new Set([...llms, ...Object.keys(cfg.services)]);
  const providers = Object.keys(cfg.providers);
  const modes = Object.keys(cfg.modes);
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: "custom", path, message });
  const needModel = (path: (string | number)[], id: string, pool: Iterable<string>, what: string) => {
    const set = new Set(pool);
    if (!set.has(id)) issue(path, `unknown ${what} "${id}"; valid: ${[...set].join(", ")}`);
  };

  for (const id of all) {
    if (!providers.includes(providerOf(id))) {
      issue([llms.includes(id) ? "models" : "services", id], `provider "${providerOf(id)}" is not in providers; valid: ${providers.join(", ")}`);
    }
  }
  for (const [name, mode] of Object.entries(cfg.modes)) {
    mode.chain.forEach((id, i) => needModel(["modes", name, "chain", i], id, mode.job === "llm" ? llms : all, mode.job === "llm" ? "LLM model" : "model or service"));
  }
  for (const [kind, chains] of Object.entries(cfg.jobs)) {
    for (const [job, chain] of Object.entries(chains)) {
      chain.forEach((id, i) => needModel(["jobs", kind, job, i], id, kind === "llm" ? llms : all, kind === "llm" ? "LLM model" : "model or service"));
    }
  }
  const namespaces = new Map<string, string>();
  for (const [name, s] of Object.entries(cfg.mcp.servers)) {
    const ns = s.namespace ?? name;
    const other = namespaces.get(ns);
    if (other) issue(["mcp", "servers", name, "namespace"], `namespace "${ns}" is already server ${other}'s; give each server its own`);
    namespaces.set(ns, name);
  }
  const aliasTargets = ["auto", ...Object.entries(cfg.modes).filter(([, m]) => m.job === "llm").map(([n]) => `switchboard/${n}`), ...llms];
  for (const [alias, target] of Object.entries(cfg.http.modelAliases)) needModel(["http", "modelAliases", alias], target, aliasTargets, "alias target (a catalog LLM id, switchboard/<mode> or auto)");
  for (const [name, task] of Object.entries(cfg.tasks)) {
    if (!modes.includes(task.mode)) issue(["tasks", name, "mode"], `unknown mode "${task.mode}"; valid: ${modes.join(", ")}`);
    task.preferredModels.forEach((id, i) => needModel(["tasks", name, "preferredModels", i], id, llms, "LLM model"));
    if (task.examples.length === 0) issue(["tasks", name, "examples"], `task "${name}" has no example prompts; add config/examples/${name}.yaml`);
  }
  for (const name of Object.keys(cfg.http.tenantLimits)) {
    if (!Object.hasOwn(cfg.tenants, name)) issue(["http", "tenantLimits", name], `unknown tenant "${name}"; valid: ${Object.keys(cfg.tenants).join(", ")}`);
  }
  cfg.http.tokens.forEach((t, i) => {
    if (!t.admin && !Object.hasOwn(cfg.tenants, t.tenant)) issue(["http", "tokens", i, "tenant"], `unknown tenant "${t.tenant}"; valid: ${Object.keys(cfg.tenants).join(", ")}`);
  });
  for (const [name, t] of Object.entries(cfg.tenants)) {
    if (t.defaultMode && !modes.includes(t.defaultMode)) issue(["tenants", name, "defaultMode"], `unknown mode "${t.defaultMode}"; valid: ${modes.join(", ")}`);
    for (const key of ["allowedModels", "blockedModels", "preferredModels"] as const) {
      t[key]?.forEach((id, i) => needModel(["tenants", name, key, i], id, llms, "LLM model"));
    }
    if (t.lockModel) needModel(["tenants", name, "lockModel"], t.lockModel, llms, "LLM model");
    for (const key of ["allowedProviders", "blockedProviders", "preferredProviders"] as const) {
      t[key]?.forEach((p, i) => {
        if (!providers.includes(p)) issue(["tenants", name, key, i], `unknown provider "${p}"; valid: ${providers.join(", ")}`);
      });
    }
  }
  cfg.router.failover.contentFiltered.forEach((id, i) => needModel(["router", "failover", "contentFiltered", i], id, llms, "LLM model"));
  if (!Object.hasOwn(cfg.tenants, cfg.router.defaultTenant)) {
    issue(["router", "defaultTenant"], `default tenant "${cfg.router.defaultTenant}" is not in tenants; valid: ${Object.keys(cfg.tenants).join(", ")}`);
  }
  for (const [name, e] of Object.entries(cfg.experiments)) {
    if (!modes.includes(e.mode)) issue(["experiments", name, "mode"], `unknown mode "${e.mode}"; valid: ${modes.join(", ")}`);
    needModel(["experiments", name, "model"], e.model, llms, "LLM model");
  }
}
