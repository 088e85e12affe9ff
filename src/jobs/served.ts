import type { Usage } from "../providers/types.js";
import type { Attempt } from "../resilience/failover.js";
import type { Decision } from "../routing/types.js";

/**
 * What served a call: the decision, the model or service that answered, every attempt, tokens
 * and cost. Every job returns it; tools hand it to the runtime for telemetry, metrics and the
 * dashboard, and show its summary in their results.
 */
export interface Served {
  decision: Decision;
  /** provider:model (or provider:service) that answered; "sampling:<model>" through the client. */
  model: string;
  provider: string;
  attempts: Attempt[];
  costUsd: number;
  usage?: Usage;
  /** Downstream MCP tools the call invoked (`ns.tool`): telemetry's record of tools used. */
  mcpToolsUsed?: string[];
}
