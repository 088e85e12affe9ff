// A budget reserves what a call may really bill: extended thinking raises an Anthropic request's
// max_tokens to make room for its budget, and the reservation must cover the raised allowance (the
// settle is capped at the reservation, so a smaller one would let spend pass the ceiling unseen).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import Anthropic from "@anthropic-ai/sdk";
import { sdkClients, startCompatServer, TOKENS, type CompatServer } from "../helpers/compat-server.js";

const OPUS = "anthropic:claude-opus-4-5";
// Opus output is $25 per million: 1,000 tokens reserve about $0.025, 5,000 about $0.125.
const CEILING_USD = 0.05;

let server: CompatServer;

beforeAll(async () => {
  server = await startCompatServer({ tenants: { acme: { budget: { dailyUsd: CEILING_USD } } } });
}, 60_000);
afterEach(() => server.reset());
afterAll(() => server?.close());

const ask: Anthropic.MessageParam = { role: "user", content: "What is 2+2?" };

describe("budgets and extended thinking", () => {
  it("reserves the max_tokens thinking raises: refused with 429 where the client's own max_tokens would fit", async () => {
    const client = sdkClients(server, TOKENS.acme).anthropic;
    server.fakes.anthropic.setDefault({ text: "4.", usage: { input: 10, output: 5 } });
    const plain = await client.messages.create({ model: OPUS, max_tokens: 1000, messages: [ask] });
    expect(plain.content[0]).toMatchObject({ type: "text", text: "4." });

    const thinking = await client.messages.create({ model: OPUS, max_tokens: 1000, thinking: { type: "enabled", budget_tokens: 4000 }, messages: [ask] }).catch((e: unknown) => e);
    expect(thinking).toBeInstanceOf(Anthropic.APIError);
    const err = thinking as InstanceType<typeof Anthropic.APIError>;
    expect(err.status).toBe(429);
    expect((err.error as { error: { code: string } }).error.code).toBe("budget_exceeded");
    // Refused before any provider call: only the plain request reached the fake.
    expect(server.fakes.anthropic.requests).toHaveLength(1);
  });
});
