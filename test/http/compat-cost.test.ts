// What a call cost, where clients of other gateways look for it: OpenRouter's `usage.cost` on Chat
// Completions (whole, and in the streamed usage chunk) and a header on every whole answer
// (`x-switchboard-cost-usd`, as LiteLLM's `x-litellm-response-cost`), priced from the catalog.
import { describe, expect, it } from "vitest";
import { useCompatServer } from "../helpers/compat-server.js";

const MINI = "openai:gpt-4.1-mini";
const { server, openai, anthropic } = useCompatServer();
const ask = [{ role: "user" as const, content: "What is the capital of Peru?" }];
/** gpt-4.1-mini's list price for a call of these token counts. */
const priced = (input: number, output: number) => {
  const p = server().runtime.config.models[MINI]!.price;
  return (input * p.input + output * p.output) / 1e6;
};

describe("the cost of a call", () => {
  it("is usage.cost and x-switchboard-cost-usd on a whole Chat Completions answer", async () => {
    server().fakes.openai.setDefault({ text: "Lima.", usage: { input: 1000, output: 500 } });
    const { data, response } = await openai().chat.completions.create({ model: MINI, messages: ask }).withResponse();
    const cost = (data.usage as unknown as { cost: number }).cost;
    expect(cost).toBeCloseTo(priced(1000, 500), 10);
    expect(Number(response.headers.get("x-switchboard-cost-usd"))).toBeCloseTo(cost, 8);
    expect(server().records.at(-1)!.costUsd).toBeCloseTo(cost, 10);
  });

  it("is in the streamed usage chunk when the client asks for usage", async () => {
    server().fakes.openai.setDefault({ text: "Lima.", usage: { input: 2000, output: 100 } });
    const stream = await openai().chat.completions.create({ model: MINI, messages: ask, stream: true, stream_options: { include_usage: true } });
    let cost: number | undefined;
    for await (const chunk of stream) if (chunk.usage) cost = (chunk.usage as unknown as { cost: number }).cost;
    expect(cost).toBeCloseTo(priced(2000, 100), 10);
  });

  it("is a header on a whole /v1/messages answer", async () => {
    server().fakes.openai.setDefault({ text: "Lima.", usage: { input: 1000, output: 500 } });
    const { response } = await anthropic().messages.create({ model: MINI, max_tokens: 100, messages: ask }).withResponse();
    expect(Number(response.headers.get("x-switchboard-cost-usd"))).toBeCloseTo(priced(1000, 500), 8);
  });
});
