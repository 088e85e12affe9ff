import type { Complexity, CostTier, LatencyClass, TaskType } from "../config/schema.js";

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
  /** Capabilities the call itself needs (set by run_llm): function calling, JSON output. */
  needs?: { toolCalling?: boolean; json?: boolean };
}

/** A score change proposed by something outside the pure router (tier 4: learning from feedback). */
export interface ScoreAdjustment {
  model: string;
  delta: number;
  reason: string;
}

/**
 * Tier 4's seam. The store (telemetry, feedback) implements it; the router only applies what it
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

export type DecisionTier = "explicit" | "signals" | "classifier" | "default";

export interface ModelRef {
  model: string;
  provider: string;
}

export interface Alternative extends ModelRef {
  score?: number;
  why: string;
}

export interface Decision {
  requestId: string;
  mode: string;
  modeSource: "explicit" | "tenant" | "task" | "attachments";
  job: "llm" | "retrieval" | "media" | "voice" | "transcription";
  taskType: TaskType;
  complexity: Complexity;
  costTier: CostTier;
  model: string;
  provider: string;
  fallbacks: ModelRef[];
  tier: DecisionTier;
  confidence: number;
  signals: string[];
  reason: string;
  alternatives: Alternative[];
  estimate: { inputTokens: number; outputTokens: number; costUsd: number };
  tools: string[];
  mcpTools: string[];
  latency: LatencyClass;
  tenant: string;
  experiment?: { name: string; arm: "treatment" | "control" };
  adjustments: ScoreAdjustment[];
  configVersion: string;
  decisionMs: number;
}
