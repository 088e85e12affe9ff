import type { ServerResponse } from "node:http";
import { SwitchboardError } from "../../errors.js";
import type { LlmOutcome } from "../../jobs/llm-pipeline.js";
import type { Served } from "../../jobs/served.js";
import type { PassthroughEvent, ThinkingDelta, ToolCallDelta } from "../../providers/types.js";
import { anthropicError, messageId, STOP, thinkingOut, toolUseInput, usageOut } from "./anthropic-messages.js";
import { statusOf } from "./common.js";
import { NamedCalls } from "./named-calls.js";
import { EventBatch, openEventStream, type AnswerStream, type BeforeOpen } from "./serve-llm.js";

/**
 * A streamed message as Anthropic's events: thinking blocks (thinking_delta, then signature_delta)
 * as the model reasons, then the text block, then tool_use blocks, each in its own content block;
 * server tools' calls and results in theirs, where the model ran them, between the text.
 * A failure before the first event is an ordinary HTTP error; after it, an `error` event ends the
 * stream.
 */
export class EventStream implements AnswerStream {
  started = false;
  private id = "";
  /** The content block open now (-1: none yet) and what it holds. */
  private index = -1;
  private open: "thinking" | "text" | "tool" | "block" | undefined;
  /** The thinking block the last delta belonged to, counted from 0 over the answer. */
  private thought = -1;
  private readonly out: EventBatch;
  /** Tool calls streamed so far, by index: how many characters of their arguments went out; and the one whose block is open. */
  private readonly tools = new Map<number, number>();
  private tool = -1;
  /** Pieces of calls whose name has not come yet. */
  private readonly named = new NamedCalls();

  /** `beforeOpen` is told the model just before the headers go out (the notes depend on it). */
  constructor(
    private readonly res: ServerResponse,
    private readonly beforeOpen: BeforeOpen,
  ) {
    this.out = new EventBatch(res);
  }

  /** Gathered: each public method writes what it produced at once (EventBatch). */
  private send(event: string, data: unknown): void {
    this.out.add(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private start(served: Partial<Served>, model: string): void {
    if (this.started) return;
    this.started = true;
    this.id = messageId(served.decision?.requestId);
    this.beforeOpen(model);
    openEventStream(this.res, served, model);
    // The router already counted the input for its decision: no second pass over the prompt.
    this.send("message_start", {
      type: "message_start",
      message: { id: this.id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: served.decision?.estimate.inputTokens ?? 0, output_tokens: 0 } },
    });
  }

  private close(): void {
    if (this.open) this.send("content_block_stop", { type: "content_block_stop", index: this.index });
    this.open = undefined;
  }

  private begin(kind: EventStream["open"], content_block: unknown): void {
    this.close();
    this.index++;
    this.open = kind;
    this.send("content_block_start", { type: "content_block_start", index: this.index, content_block });
  }

  /** A block sent whole: its start, its deltas, its stop. */
  private whole(content_block: unknown, deltas: unknown[] = []): void {
    this.begin(undefined, content_block);
    for (const d of deltas) this.delta(d);
    this.send("content_block_stop", { type: "content_block_stop", index: this.index });
  }

  private delta(delta: unknown): void {
    this.send("content_block_delta", { type: "content_block_delta", index: this.index, delta });
  }

  thinking(served: Partial<Served>, model: string, d: ThinkingDelta): void {
    this.start(served, model);
    if (d.block !== this.thought) {
      this.thought = d.block;
      if (d.type === "redacted_thinking") {
        this.whole({ type: "redacted_thinking", data: d.data });
        return this.out.flush();
      }
      this.begin("thinking", { type: "thinking", thinking: "", signature: "" });
    }
    if (d.type === "thinking") this.delta({ type: "thinking_delta", thinking: d.text });
    else if (d.type === "signature") this.delta({ type: "signature_delta", signature: d.signature });
    this.out.flush();
  }

  text(served: Partial<Served>, model: string, piece: string): void {
    this.start(served, model);
    if (this.open !== "text") this.begin("text", { type: "text", text: "" });
    this.delta({ type: "text_delta", text: piece });
    this.out.flush();
  }

  /** A server tool's call or result, passed as Anthropic sent it, in its own content block. */
  block(served: Partial<Served>, model: string, e: PassthroughEvent): void {
    this.start(served, model);
    if (e.kind === "start") this.begin("block", e.block);
    else if (e.kind === "delta" && this.open === "block") this.delta(e.delta);
    else if (e.kind === "delta" && e.delta.type === "citations_delta") {
      // A citation belongs to the text it comes with: the text block opens for it if it has not yet.
      if (this.open !== "text") this.begin("text", { type: "text", text: "" });
      this.delta(e.delta);
    } else if (e.kind === "stop") this.close();
    this.out.flush();
  }

  /**
   * A tool call as it streams: its tool_use block opens once its name is known (some
   * OpenAI-compatible providers send the id, the name and the first arguments in separate pieces;
   * what comes before is held) and takes its arguments as input_json_delta. Blocks are sequential,
   * as providers stream calls: a piece for a call whose block has closed is left for finish(),
   * which refuses to pass off a call whose input did not all go out.
   */
  toolCall(served: Partial<Served>, model: string, d: ToolCallDelta): void {
    this.start(served, model);
    const piece = this.named.take(d);
    // Nothing can go out before the call's name: its block (item) opens with it.
    if (!piece) return;
    if ("open" in piece) {
      this.begin("tool", { type: "tool_use", id: piece.open.id || `toolu_${this.id}_${d.index}`, name: piece.open.name, input: {} });
      this.tool = d.index;
      this.tools.set(d.index, 0);
      if (piece.open.args) this.inputPiece(d.index, piece.open.args);
    } else this.inputPiece(d.index, piece.args);
    this.out.flush();
  }

  private inputPiece(index: number, piece: string): void {
    if (this.open !== "tool" || index !== this.tool) return;
    this.delta({ type: "input_json_delta", partial_json: piece });
    this.tools.set(index, this.tools.get(index)! + piece.length);
  }

  finish(run: LlmOutcome): void {
    const r = run.result;
    const input = (i: number) => r.toolCalls[i]?.arguments ?? "";
    if (this.tools.size) {
      // The open call gets what its stream lacked (an empty argument list closes as "{}").
      if (this.open === "tool") {
        const tail = input(this.tool).slice(this.tools.get(this.tool));
        if (tail) this.delta({ type: "input_json_delta", partial_json: tail });
        this.tools.set(this.tool, input(this.tool).length);
      }
      for (const [i, sent] of this.tools) {
        if (sent !== input(i).length) {
          throw new SwitchboardError({
            code: "internal",
            message: `tool call ${i} arrived interleaved with another and its input could not be streamed whole`,
            hint: "retry the request; Anthropic's streamed blocks are sequential, and this provider's were not.",
            retryable: true,
          });
        }
      }
    }
    if (!this.started) {
      // Nothing was streamed (tool calls only, or a model that answered whole): the blocks in order.
      this.start(run, run.model);
      for (const t of r.thinking ?? []) {
        if (t.type === "redacted_thinking") this.whole(thinkingOut(t));
        else this.whole({ type: "thinking", thinking: "", signature: "" }, [{ type: "thinking_delta", thinking: t.thinking }, { type: "signature_delta", signature: t.signature }]);
      }
      if (r.text) this.text(run, run.model, r.text);
    }
    this.close();
    for (const c of r.toolCalls.filter((_, i) => !this.tools.has(i))) this.whole({ type: "tool_use", id: c.id, name: c.name, input: {} }, [{ type: "input_json_delta", partial_json: JSON.stringify(toolUseInput(c.arguments)) }]);
    this.send("message_delta", { type: "message_delta", delta: { stop_reason: STOP[r.finishReason] ?? "end_turn", stop_sequence: null }, usage: usageOut(r.usage) });
    this.send("message_stop", { type: "message_stop" });
    this.out.flush(true);
  }

  fail(err: SwitchboardError): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.send("error", anthropicError(err.body, statusOf(err.body.code)));
    this.out.flush(true);
  }
}
