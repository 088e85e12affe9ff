import type { ServerResponse } from "node:http";
import { SwitchboardError } from "../../errors.js";
import type { LlmOutcome } from "../../jobs/llm-pipeline.js";
import type { Served } from "../../jobs/served.js";
import type { ToolCallDelta } from "../../providers/types.js";
import { statusOf } from "./common.js";
import { openAiError } from "./openai-chat.js";
import { functionCallOut, messageItemOut, responseBody, responseIds, textPart, type ResponsesRequest } from "./openai-responses.js";
import { NamedCalls } from "./named-calls.js";
import { EventBatch, openEventStream, type AnswerStream, type BeforeOpen } from "./serve-llm.js";

/**
 * A streamed response as the Responses API's events: `response.created` and `in_progress`, then
 * each output item as it streams (the message's `output_text.delta`s; a function call's
 * `function_call_arguments.delta`s), each closed by its `done` events before the next opens, then
 * `response.completed` with the whole response. A failure before the first event is an ordinary
 * HTTP error; after it, an `error` event ends the stream (the SDKs throw it).
 */
export class ResponseEventStream implements AnswerStream {
  started = false;
  private seq = 0;
  private ids = responseIds(undefined);
  private model = "";
  private readonly createdAt = Math.floor(Date.now() / 1000);
  private readonly out: EventBatch;
  /** Output items so far; the open one's index and what it has gathered. */
  private items = 0;
  private open: { kind: "message"; index: number; text: string } | { kind: "call"; index: number; call: number; id: string; callId: string; name: string; args: string } | undefined;
  /** Function calls streamed so far, by their index among the answer's calls: how many characters of arguments went out. */
  private readonly calls = new Map<number, number>();
  /** Pieces of calls whose name has not come yet. */
  private readonly named = new NamedCalls();

  constructor(
    private readonly res: ServerResponse,
    private readonly body: ResponsesRequest,
    private readonly beforeOpen: BeforeOpen,
  ) {
    this.out = new EventBatch(res);
  }

  private send(type: string, data: Record<string, unknown>): void {
    this.out.add(`event: ${type}\ndata: ${JSON.stringify({ type, ...data, sequence_number: this.seq++ })}\n\n`);
  }

  private start(served: Partial<Served>, model: string): void {
    if (this.started) return;
    this.started = true;
    this.model = model;
    this.ids = responseIds(served.decision?.requestId);
    this.beforeOpen(model);
    openEventStream(this.res, served, model);
    const response = responseBody(this.body, this.ids, model, this.createdAt);
    this.send("response.created", { response });
    this.send("response.in_progress", { response });
  }

  /** Closes the open item with its `done` events. */
  private close(): void {
    const o = this.open;
    if (!o) return;
    if (o.kind === "message") {
      const at = { item_id: this.ids.message, output_index: o.index, content_index: 0 };
      this.send("response.output_text.done", { ...at, text: o.text, logprobs: [] });
      this.send("response.content_part.done", { ...at, part: textPart(o.text) });
      this.send("response.output_item.done", { output_index: o.index, item: messageItemOut(this.ids.message, o.text, "completed") });
    } else {
      this.send("response.function_call_arguments.done", { item_id: o.id, output_index: o.index, name: o.name, arguments: o.args });
      this.send("response.output_item.done", { output_index: o.index, item: functionCallOut(o.id, { id: o.callId, name: o.name, arguments: o.args }, "completed") });
    }
    this.open = undefined;
  }

  text(served: Partial<Served>, model: string, piece: string): void {
    this.start(served, model);
    if (this.open?.kind !== "message") {
      this.close();
      this.open = { kind: "message", index: this.items++, text: "" };
      this.send("response.output_item.added", { output_index: this.open.index, item: messageItemOut(this.ids.message, "", "in_progress") });
      this.send("response.content_part.added", { item_id: this.ids.message, output_index: this.open.index, content_index: 0, part: textPart("") });
    }
    const o = this.open;
    o.text += piece;
    this.send("response.output_text.delta", { item_id: this.ids.message, output_index: o.index, content_index: 0, delta: piece, logprobs: [] });
    this.out.flush();
  }

  /** A function call as it streams: its item opens once its name is known (what comes before is held). */
  toolCall(served: Partial<Served>, model: string, d: ToolCallDelta): void {
    this.start(served, model);
    const piece = this.named.take(d);
    // Nothing can go out before the call's name: its block (item) opens with it.
    if (!piece) return;
    if ("open" in piece) {
      this.close();
      const id = this.ids.call(d.index);
      const { name, args } = piece.open;
      this.open = { kind: "call", index: this.items++, call: d.index, id, callId: piece.open.id || `call_${id}`, name, args: "" };
      this.calls.set(d.index, 0);
      this.send("response.output_item.added", { output_index: this.open.index, item: functionCallOut(id, { id: this.open.callId, name, arguments: "" }, "in_progress") });
      if (args) this.argsPiece(d.index, args);
    } else this.argsPiece(d.index, piece.args);
    this.out.flush();
  }

  private argsPiece(index: number, piece: string): void {
    const o = this.open;
    if (o?.kind !== "call" || o.call !== index) return;
    o.args += piece;
    this.calls.set(index, o.args.length);
    this.send("response.function_call_arguments.delta", { item_id: o.id, output_index: o.index, delta: piece });
  }

  finish(run: LlmOutcome): void {
    const r = run.result;
    this.start(run, run.model);
    // The open call gets what its stream lacked; a streamed call that lost pieces cannot be passed off.
    if (this.open?.kind === "call") {
      const whole = r.toolCalls[this.open.call]?.arguments ?? "";
      const tail = whole.slice(this.open.args.length);
      if (tail) this.argsPiece(this.open.call, tail);
    }
    for (const [i, sent] of this.calls) {
      if (sent !== (r.toolCalls[i]?.arguments ?? "").length) {
        throw new SwitchboardError({
          code: "internal",
          message: `function call ${i} arrived interleaved with another and its arguments could not be streamed whole`,
          hint: "retry the request; the Responses API streams calls one after another, and this provider's were not.",
          retryable: true,
        });
      }
    }
    if (!this.items && r.text) this.text(run, run.model, r.text);
    this.close();
    r.toolCalls.forEach((c, i) => {
      if (this.calls.has(i)) return;
      const id = this.ids.call(i);
      const index = this.items++;
      this.send("response.output_item.added", { output_index: index, item: functionCallOut(id, { ...c, arguments: "" }, "in_progress") });
      this.send("response.function_call_arguments.delta", { item_id: id, output_index: index, delta: c.arguments });
      this.send("response.function_call_arguments.done", { item_id: id, output_index: index, name: c.name, arguments: c.arguments });
      this.send("response.output_item.done", { output_index: index, item: functionCallOut(id, c, "completed") });
    });
    const response = responseBody(this.body, this.ids, this.model || run.model, this.createdAt, run);
    this.send(response.status === "incomplete" ? "response.incomplete" : "response.completed", { response });
    this.out.flush(true);
  }

  fail(err: SwitchboardError): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    const e = openAiError(err.body, statusOf(err.body.code));
    this.send("error", { code: err.body.code, message: err.body.message, param: err.body.field ?? null, ...e });
    this.out.flush(true);
  }
}
