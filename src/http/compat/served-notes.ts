import type { Response } from "express";
import type { LlmJob } from "../../jobs/llm-pipeline.js";
import type { Runtime } from "../../runtime.js";
import { translationNotes, type ReasoningField } from "./translation-notes.js";

/**
 * The `x-switchboard-notes` header once the serving model is known. serveLlm sets a request's own
 * notes before the call (what no model gets); this replaces them, before the answer's headers go
 * out, with those and what the serving model was sent: at a stream's first event, or for a whole
 * answer when the pipeline reports what served. serveLlm hands the response only to the API's
 * `stream` hook and the job only to its `job` hook, so both are kept here by the parsed body.
 */
export class ServedNotes<B extends object> {
  private readonly requests = new WeakMap<B, { res?: Response; job?: LlmJob }>();

  constructor(
    private readonly runtime: Runtime,
    private readonly own: (body: B) => string[],
    private readonly field: ReasoningField,
  ) {}

  private of(body: B) {
    let r = this.requests.get(body);
    if (!r) this.requests.set(body, (r = {}));
    return r;
  }

  /** From the API's `stream` hook: the response the header goes on. */
  response(body: B, res: Response): void {
    this.of(body).res = res;
  }

  /** From the API's `job` hook: the job, told to set the header when a whole answer is served. */
  job(body: B, job: LlmJob): LlmJob {
    this.of(body).job = job;
    const onServed = job.observer?.onServed;
    return {
      ...job,
      observer: {
        ...job.observer,
        onServed: (run) => {
          onServed?.(run);
          this.set(body, run.model);
        },
      },
    };
  }

  /** Sets the header for the model that answers (a stream calls this just before its first event). */
  set(body: B, model: string): void {
    const { res, job } = this.of(body);
    if (!res || !job || res.headersSent) return;
    const notes = [...translationNotes(this.runtime.config, job.call, model, this.field), ...this.own(body)];
    if (notes.length) res.set("x-switchboard-notes", notes.join("; "));
    else res.removeHeader("x-switchboard-notes");
  }
}
