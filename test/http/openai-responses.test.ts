// POST /v1/responses (OpenAI's Responses API, which the Agents SDK, the Vercel AI SDK's OpenAI
// provider and Codex speak), driven with the official `openai` SDK's `responses` client, routed to
// either provider fake: plain and streamed answers, function calls both ways, structured output,
// images and PDFs, what is not carried named in a note, previous_response_id refused with its
// hint, errors in OpenAI's shape, and a provider failing before and after the first token.
import { describe, expect, it } from "vitest";
import OpenAI from "openai";
import { requestsFor } from "../helpers/llm-fakes.js";
import { TOKENS, useCompatServer } from "../helpers/compat-server.js";

const MINI = "openai:gpt-4.1-mini";
const HAIKU = "anthropic:claude-haiku-4-5";

const { server, openai } = useCompatServer();

const weather = { type: "function" as const, name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }, strict: false };

describe("POST /v1/responses with the OpenAI SDK", () => {
  it("answers a plain request in the Responses shape, with the model that served and why in headers", async () => {
    server().fakes.openai.setDefault({ text: "Lima.", usage: { input: 12, output: 2 } });
    const { data, response } = await openai().responses.create({ model: MINI, instructions: "Be brief.", input: "Capital of Peru?" }).withResponse();
    expect(data.object).toBe("response");
    expect(data.status).toBe("completed");
    expect(data.model).toBe(MINI);
    expect(data.output_text).toBe("Lima.");
    expect(data.output).toEqual([{ type: "message", id: expect.stringMatching(/^msg_/), status: "completed", role: "assistant", content: [{ type: "output_text", text: "Lima.", annotations: [], logprobs: [] }] }]);
    expect(data.usage).toMatchObject({ input_tokens: 12, output_tokens: 2, total_tokens: 14 });
    expect(response.headers.get("x-switchboard-model")).toBe(MINI);
    expect(response.headers.get("x-switchboard-request-id")).toBeTruthy();
    expect(requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Capital of Peru?" },
    ]);
    expect(server().records.map((r) => [r.tool, r.outcome])).toEqual([["responses", "ok"]]);
  });

  it("routes `auto` and streams the answer as Responses events, token by token", async () => {
    server().fakes.openai.setDefault({ text: "Lima is the capital.", chunks: 4 });
    server().fakes.anthropic.setDefault({ text: "Lima is the capital.", chunks: 4 });
    const stream = openai().responses.stream({ model: "auto", input: [{ role: "user", content: [{ type: "input_text", text: "What is the capital of Peru?" }] }] });
    const deltas: string[] = [];
    const types: string[] = [];
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === "response.output_text.delta") deltas.push(ev.delta);
    }
    const final = await stream.finalResponse();
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join("")).toBe("Lima is the capital.");
    expect(final.output_text).toBe("Lima is the capital.");
    expect(final.status).toBe("completed");
    expect(Object.keys(server().runtime.config.models)).toContain(final.model);
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(types).toContain("response.output_item.done");
  });

  it("returns function calls and carries their outputs back, whichever provider answers, streamed or whole", async () => {
    const call = { id: "call_7", name: "get_weather", arguments: '{"city":"Lima"}' };
    for (const [model, fake] of [
      [MINI, server().fakes.openai],
      [HAIKU, server().fakes.anthropic],
    ] as const) {
      fake.setDefault({ toolCalls: [call] });
      const whole = await openai().responses.create({ model, input: "Weather in Lima?", tools: [weather] });
      expect(whole.output).toEqual([{ type: "function_call", id: expect.stringMatching(/^fc_/), call_id: "call_7", name: "get_weather", arguments: '{"city":"Lima"}', status: "completed" }]);
      const streamed = await openai().responses.stream({ model, input: "Weather in Lima?", tools: [weather] }).finalResponse();
      // The SDK adds parsed_arguments to what it accumulates from a stream.
      expect(streamed.output).toMatchObject(whole.output.map((o) => ({ ...o, id: expect.stringMatching(/^fc_/) })));

      fake.setDefault({ text: "19 degrees." });
      const next = await openai().responses.create({
        model,
        tools: [weather],
        input: [
          { role: "user", content: "Weather in Lima?" },
          { type: "function_call", call_id: "call_7", name: "get_weather", arguments: '{"city":"Lima"}' },
          { type: "function_call_output", call_id: "call_7", output: '{"celsius":19}' },
        ],
      });
      expect(next.output_text).toBe("19 degrees.");
    }
    const sentOpenAI = requestsFor(server().fakes.openai, "gpt-4.1-mini").at(-1)!.body.messages;
    expect(sentOpenAI.slice(-2)).toEqual([
      { role: "assistant", content: null, tool_calls: [{ id: "call_7", type: "function", function: { name: "get_weather", arguments: '{"city":"Lima"}' } }] },
      { role: "tool", tool_call_id: "call_7", content: '{"celsius":19}' },
    ]);
    const sentAnthropic = server().fakes.anthropic.requests.at(-1)!.body.messages;
    expect(sentAnthropic.at(-1)).toEqual({ role: "user", content: [{ type: "tool_result", tool_use_id: "call_7", content: '{"celsius":19}' }] });
  });

  it("carries structured output (text.format json_schema), images and PDFs", async () => {
    server().fakes.openai.setDefault({ text: '{"city":"Lima"}' });
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false };
    const res = await openai().responses.create({
      model: MINI,
      text: { format: { type: "json_schema", name: "answer", schema, strict: true } },
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "Which city is on this map and in this brochure?" },
            { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" },
            { type: "input_file", filename: "brochure.pdf", file_data: "data:application/pdf;base64,JVBERi0xLjQK" },
          ],
        },
      ],
    });
    expect(JSON.parse(res.output_text)).toEqual({ city: "Lima" });
    const body = requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body;
    expect(body.response_format).toEqual({ type: "json_schema", json_schema: { name: "answer", schema, strict: true } });
    expect(body.messages[0].content).toEqual([
      { type: "file", file: { filename: "brochure.pdf", file_data: "data:application/pdf;base64,JVBERi0xLjQK" } },
      { type: "text", text: "Which city is on this map and in this brochure?" },
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
    ]);
  });

  it("names what the model was not sent: built-in tools, reasoning items, files by id", async () => {
    server().fakes.openai.setDefault({ text: "Done." });
    const { response } = await openai()
      .responses.create({
        model: MINI,
        tools: [{ type: "web_search_preview" }, weather],
        input: [
          { role: "user", content: [{ type: "input_text", text: "Summarize." }, { type: "input_file", file_id: "file-abc" }] },
          { type: "reasoning", id: "rs_1", summary: [] },
          { role: "assistant", content: [{ type: "output_text", text: "Let me see.", annotations: [] }] },
          { role: "user", content: "Go on." },
        ] as OpenAI.Responses.ResponseInput,
      })
      .withResponse();
    expect(response.headers.get("x-switchboard-notes")).toBe("tools dropped: web_search_preview; input items dropped: reasoning; content parts dropped: input_file");
    const sent = requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body;
    expect(sent.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(["get_weather"]);
    expect(sent.messages.map((m: { role: string }) => m.role)).toEqual(["user", "assistant", "user"]);
  });

  it("refuses previous_response_id with the way out, and bad input naming the field, in OpenAI's error shape", async () => {
    const chained = await openai()
      .responses.create({ model: MINI, input: "And Chile?", previous_response_id: "resp_123" })
      .catch((e: unknown) => e);
    expect(chained).toBeInstanceOf(OpenAI.BadRequestError);
    expect(chained).toMatchObject({ status: 400, param: "previous_response_id" });
    expect((chained as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ code: "invalid_request", hint: expect.stringMatching(/whole conversation in `input`/) });

    const bad = await openai()
      .responses.create({ model: MINI, input: "Hi", temperature: 5 })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, param: "temperature" });

    const empty = await openai()
      .responses.create({ model: MINI, input: [] })
      .catch((e: unknown) => e);
    expect(empty).toMatchObject({ status: 400, param: "input" });

    const unknown = await openai()
      .responses.create({ model: "gpt-7-ultra", input: "Hi" })
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ status: 404, param: "model" });

    const unauthorized = await new OpenAI({ apiKey: "not-a-token", baseURL: `${server().handle.url}/v1`, maxRetries: 0 }).responses.create({ model: MINI, input: "Hi" }).catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(server().fakes.openai.requests).toHaveLength(0);
  });

  it("fails over before the first token, and ends the stream with an error event after it", async () => {
    server().fakes.openai.enqueue({ model: "gpt-4.1-mini", fault: { kind: "status", status: 503 } });
    server().fakes.openai.setDefault({ text: "Lima." });
    server().fakes.anthropic.setDefault({ text: "Lima." });
    const over = await openai().responses.stream({ model: MINI, input: "Capital of Peru?" }).finalResponse();
    expect(over.output_text).toBe("Lima.");

    server().reset();
    server().fakes.openai.enqueue({ model: "gpt-4.1-mini", fault: { kind: "stream-cut", afterChunks: 2 }, reply: { text: "alpha beta gamma delta epsilon", chunks: 5 } });
    const got: string[] = [];
    const cut = await (async () => {
      for await (const ev of openai().responses.stream({ model: MINI, input: "Say five words." })) if (ev.type === "response.output_text.delta") got.push(ev.delta);
    })().catch((e: unknown) => e);
    expect(got.length).toBeGreaterThan(0);
    expect(cut).toBeInstanceOf(OpenAI.APIError);
    expect(server().records.at(-1)!.outcome).not.toBe("ok");
  });

  it("keeps tenants apart: another tenant's token is refused the default tenant's budget state", async () => {
    server().fakes.openai.setDefault({ text: "Lima." });
    const capped = new OpenAI({ apiKey: TOKENS.capped, baseURL: `${server().handle.url}/v1`, maxRetries: 0 });
    const refused = await capped.responses.create({ model: MINI, input: "Capital of Peru?" }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 429 });
    expect((refused as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ code: "budget_exceeded" });
    const fine = await openai().responses.create({ model: MINI, input: "Capital of Peru?" });
    expect(fine.output_text).toBe("Lima.");
  });

  it("answers a request in Codex's shape: developer instructions, its function tools beside a built-in one, reasoning, store off, a stream", async () => {
    server().fakes.openai.setDefault({ toolCalls: [{ id: "call_9", name: "shell", arguments: '{"command":["ls"]}' }] });
    const body = {
      model: MINI,
      instructions: "You are Codex, based on GPT-5. You are running as a coding agent in the Codex CLI on a user's computer.",
      input: [
        { type: "message", role: "developer", content: [{ type: "input_text", text: "<permissions instructions>Approvals: on-request.</permissions instructions>" }] },
        { type: "message", role: "user", content: [{ type: "input_text", text: "<environment_context><cwd>/home/dev/app</cwd></environment_context>" }] },
        { type: "message", role: "user", content: [{ type: "input_text", text: "List the files here." }] },
      ],
      tools: [
        { type: "function", name: "shell", description: "Runs a shell command and returns its output.", strict: false, parameters: { type: "object", properties: { command: { type: "array", items: { type: "string" } } }, required: ["command"], additionalProperties: false } },
        { type: "local_shell" },
      ],
      tool_choice: "auto",
      parallel_tool_calls: false,
      reasoning: { effort: "medium", summary: "auto" },
      store: false,
      stream: true,
      include: ["reasoning.encrypted_content"],
      prompt_cache_key: "0199c1a2-7d2e-7c31-8f7e-2b7c9b1f0a11",
    };
    const res = await fetch(`${server().handle.url}/v1/responses`, { method: "POST", headers: { authorization: `Bearer ${TOKENS.default}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    // gpt-4.1-mini takes no reasoning setting: said in the Responses API's own terms.
    expect(res.headers.get("x-switchboard-notes")).toBe(`reasoning.effort dropped: ${MINI} takes no reasoning setting; tools dropped: local_shell`);
    const events = (await res.text())
      .split("\n\n")
      .filter(Boolean)
      .map((frame) => JSON.parse(/^data: (.*)$/m.exec(frame)![1]!) as { type: string; response?: { output: Array<{ type: string; name?: string; arguments?: string }> } });
    expect(events[0]!.type).toBe("response.created");
    const done = events.at(-1)!;
    expect(done.type).toBe("response.completed");
    expect(done.response!.output).toMatchObject([{ type: "function_call", name: "shell", arguments: '{"command":["ls"]}' }]);
    const sent = requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body;
    expect(sent.messages.map((m: { role: string }) => m.role)).toEqual(["system", "system", "user", "user"]);
    expect(sent.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(["shell"]);
    expect(sent.parallel_tool_calls).toBe(false);
  });
});
