import type { LatencyClass, TaskType } from "../config/schema.js";
import type { ScoreAdjustment } from "./decision-schema.js";

/** The decision and its parts are declared once, as a schema (decision-schema.ts). */
export type { Alternative, Decision, DecisionAction, DecisionTier, ModelRef, ScoreAdjustment } from "./decision-schema.js";

export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
}

export interface Attachment {
  kind: "image" | "audio" | "video" | "document";
  name?: string;
  mimeType?: string;
  /** Token size when known (documents); otherwise a typical size is assumed. */
  tokens?: number;
}

/** MCP-style model preferences (see the MCP sampling spec): priorities in [0, 1]. */
export interface ModelPreferences {
  costPriority?: number;
  speedPriority?: number;
  intelligencePriority?: number;
  hints?: Array<{ name?: string }>;
}

export interface RouteInput {
  prompt?: string;
  messages?: ChatMessage[];
  mode?: string;
  taskType?: TaskType;
  /** Explicit `provider:model`: the caller decides. */
  model?: string;
  /**
   * Catalog ids to try, in this order, after the primary fails and before Switchboard's own
   * fallbacks (the compatible APIs' `models` / `fallbacks`). One that cannot serve the call (no
   * credentials, too small a window, missing a capability it needs) is skipped, and the reason says so.
   */
  fallbacks?: string[];
  tenant?: string;
  user?: string;
  latency?: LatencyClass;
  interaction?: "human_in_the_loop" | "automated";
  costSensitivity?: "low" | "medium" | "high";
  contextTokens?: number;
  maxOutputTokens?: number;
  attachments?: Attachment[];
  tools?: string[];
  mcpTools?: string[];
  modelPreferences?: ModelPreferences;
  requestId?: string;
  /** This call's operating point: the share of always-premium quality to keep (overrides tenant and router.qualityTarget). */
  qualityTarget?: number;
  /** What the call itself needs (set by run_llm): an LLM answer, function calling, JSON output. */
  needs?: { llm?: boolean; toolCalling?: boolean; json?: boolean; documents?: boolean; serverTools?: boolean };
}

/**
 * Tier 4's seam. learning.ts implements it from what the store has seen; the router only applies what it
 * returns and shows each reason in the decision. With no adjuster, nothing is adjusted.
 */
export interface PreferenceAdjuster {
  adjust(q: { tenant: string; user?: string; taskType: TaskType; mode: string; candidates: string[] }): ScoreAdjustment[];
}

export interface RouteContext {
  /** Providers with credentials (or enabled keyless ones). Read by the caller: the router does no I/O. */
  configuredProviders: Set<string>;
  adjuster?: PreferenceAdjuster;
  /** Tenant-level downgrade (budget near its ceiling), applied by a later layer. */
  degrade?: { reason: string };
}

