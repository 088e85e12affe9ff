import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { ProviderFailure } from "./errors.js";
import type { CallOptions, ChatRequest, ChatResult, FinishReason, LlmAdapter } from "./types.js";

/** The pseudo model id for "the connected client's own model". */
export const SAMPLING_MODEL = "sampling:client";

export interface SamplingPreferences {
  hints: string[];
  costPriority?: number;
  speedPriority?: number;
  intelligencePriority?: number;
}

/**
 * Runs the call on the MCP client's own model through sampling/createMessage, asking for
 * the routed model by name hint and passing the decision's priorities. The client chooses
 * (and pays); usage is unknown to Switchboard.
 */
export class SamplingAdapter implements LlmAdapter {
  readonly provider = "sampling";
  /** The model the client reported using, once it answered. */
  lastModel: string | undefined;

  constructor(
    private readonly server: Server,
    private readonly prefs: SamplingPreferences,
  ) {}

  static supported(server: Server): boolean {
    return !!server.getClientCapabilities()?.sampling;
  }

  async chat(req: ChatRequest, opts: CallOptions): Promise<ChatResult> {
    const res = await this.request(req, opts).catch((err: unknown) => {
      // A person (or the client's policy) said no: not an outage, not worth asking again.
      if (!opts.signal.aborted && /declin|reject|denied|refus|not allowed|cancel/i.test(String((err as Error)?.message ?? err))) {
        throw new ProviderFailure("cancelled", "the client declined the sampling request", false);
      }
      throw err;
    });
    this.lastModel = res.model;
    const content = Array.isArray(res.content) ? res.content : [res.content];
    const text = content.map((c) => (c.type === "text" ? c.text : "")).join("");
    if (text) opts.onDelta?.(text);
    return { text, toolCalls: [], finishReason: finish(res.stopReason), usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 } };
  }

  private request(req: ChatRequest, opts: CallOptions) {
    return this.server.createMessage(
      {
        messages: req.messages
          .filter((m) => m.role === "user" || m.role === "assistant")
          .map((m) => ({ role: m.role as "user" | "assistant", content: { type: "text" as const, text: m.content } })),
        systemPrompt: [req.system, ...req.messages.filter((m) => m.role === "system").map((m) => m.content)].filter(Boolean).join("\n\n") || undefined,
        maxTokens: req.maxOutputTokens,
        ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
        modelPreferences: {
          hints: this.prefs.hints.map((name) => ({ name })),
          ...(this.prefs.costPriority !== undefined ? { costPriority: this.prefs.costPriority } : {}),
          ...(this.prefs.speedPriority !== undefined ? { speedPriority: this.prefs.speedPriority } : {}),
          ...(this.prefs.intelligencePriority !== undefined ? { intelligencePriority: this.prefs.intelligencePriority } : {}),
        },
      },
      { signal: opts.signal },
    );
  }
}

function finish(r: string | undefined): FinishReason {
  if (r === "endTurn" || r === "stopSequence") return "stop";
  if (r === "maxTokens") return "length";
  return r ? "other" : "stop";
}
