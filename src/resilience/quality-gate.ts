import { Ajv, type ValidateFunction } from "ajv";
import type { ChatResult, ResponseFormat } from "../providers/types.js";

const ajv = new Ajv({ allErrors: false, strict: false });
const compiled = new WeakMap<object, ValidateFunction>();

const REFUSAL_RE = /^\s*(i'?m sorry|sorry|i apologi[sz]e)?[,.!\s]*(but )?i (can(no|')t|am unable to|won'?t be able to|will not) (help|assist|comply|do that|provide)/i;

/**
 * Checks Switchboard can see without a second model: the answer is there, complete,
 * not a refusal, and in the format that was asked for. Returns why it failed, or null.
 */
export function answerProblem(r: ChatResult, format?: ResponseFormat): string | null {
  if (r.finishReason === "refusal") return "the model refused to answer";
  if (r.toolCalls.length === 0) {
    if (!r.text.trim()) return "the answer was empty";
    if (r.text.length < 400 && REFUSAL_RE.test(r.text)) return "the model refused to answer";
  }
  if (r.finishReason === "length") return "the answer stopped at the output token limit";
  if (format && format.type !== "text" && r.toolCalls.length === 0) {
    let value: unknown;
    try {
      value = JSON.parse(stripFences(r.text));
    } catch {
      return "the answer is not valid JSON";
    }
    if (format.type === "json_schema") {
      let validate = compiled.get(format.schema);
      if (!validate) {
        validate = ajv.compile(format.schema);
        compiled.set(format.schema, validate);
      }
      if (!validate(value)) return `the JSON does not match the requested schema (${ajv.errorsText(validate.errors, { separator: "; " })})`;
    }
  }
  return null;
}

/** Models often wrap JSON in a Markdown fence; that is still the JSON that was asked for. */
export function stripFences(text: string): string {
  const m = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/.exec(text);
  return m ? m[1]! : text;
}
