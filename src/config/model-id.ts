/** A catalog id is `provider:model`; this is the one place that splits it. */

/** `openai:gpt-4.1` -> `openai`. */
export function providerOf(id: string): string {
  return id.slice(0, id.indexOf(":"));
}

/** `openai:gpt-4.1` -> `gpt-4.1`: the provider's own name (owner/name on Replicate). */
export function modelName(id: string): string {
  return id.slice(id.indexOf(":") + 1);
}

/** A model reference as decisions carry it. */
export const modelRef = (id: string) => ({ model: id, provider: providerOf(id) });
