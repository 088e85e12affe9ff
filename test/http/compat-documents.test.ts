// PDFs on both compatible APIs, driven with the official SDKs: a document block (/v1/messages) or a
// file part (/v1/chat/completions) reaches the serving model in its own API's terms, whichever
// provider serves (Anthropic's document block, OpenAI's file part), in the user's turn or from a
// tool result (Claude Code reading a PDF); text documents travel as text; a PDF by URL goes to
// Anthropic as a URL and elsewhere as a link, with a note; a PDF asks the router for a model that
// reads documents (router.test.ts checks the filter); count_tokens counts its pages.
import { describe, expect, it } from "vitest";
import type Anthropic from "@anthropic-ai/sdk";
import type OpenAI from "openai";
import { requestsFor } from "../helpers/llm-fakes.js";
import { useCompatServer } from "../helpers/compat-server.js";
import { messagesJob, messagesRequestSchema, parseMessages } from "../../src/http/compat/anthropic-messages.js";
import { chatJob, parseChatRequest } from "../../src/http/compat/openai-chat.js";

const MINI = "openai:gpt-4.1-mini";
const HAIKU = "anthropic:claude-haiku-4-5";

const { server, openai, anthropic } = useCompatServer();

/** A three-page PDF, as small as one gets: what a page counter reads is the page objects. */
const PDF = Buffer.from(
  "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >> endobj\n" +
    "3 0 obj << /Type /Page /Parent 2 0 R >> endobj\n4 0 obj << /Type /Page /Parent 2 0 R >> endobj\n5 0 obj << /Type /Page /Parent 2 0 R >> endobj\n%%EOF\n",
).toString("base64");
const pdfBlock = { type: "document" as const, source: { type: "base64" as const, media_type: "application/pdf" as const, data: PDF }, title: "spec.pdf" };

const both = (text: string) => {
  server().fakes.openai.setDefault({ text });
  server().fakes.anthropic.setDefault({ text });
};

describe("PDFs on /v1/messages", () => {
  it("reach an OpenAI model as a file part and an Anthropic model as a document block, before the question", async () => {
    both("It specifies a parser.");
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: [pdfBlock, { type: "text", text: "What does this spec specify?" }] }];

    await anthropic().messages.create({ model: MINI, max_tokens: 100, messages });
    expect(requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "file", file: { filename: "spec.pdf", file_data: `data:application/pdf;base64,${PDF}` } },
          { type: "text", text: "What does this spec specify?" },
        ],
      },
    ]);

    await anthropic().messages.create({ model: HAIKU, max_tokens: 100, messages });
    expect(server().fakes.anthropic.requests[0]!.body.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF }, title: "spec.pdf" },
          { type: "text", text: "What does this spec specify?" },
        ],
      },
    ]);
    expect(server().records.map((r) => r.outcome)).toEqual(["ok", "ok"]);
  });

  it("carries a PDF a tool returned (Claude Code's Read on a paper) to the model, whichever provider serves", async () => {
    both("Section 2 defines the grammar.");
    const messages: Anthropic.MessageParam[] = [
      { role: "user", content: "What does section 2 of paper.pdf define?" },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_3", name: "Read", input: { file_path: "paper.pdf" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_3", content: [{ type: "text", text: "paper.pdf:" }, pdfBlock] }] },
    ];
    const tools: Anthropic.Tool[] = [{ name: "Read", input_schema: { type: "object", properties: { file_path: { type: "string" } } } }];

    const { response } = await anthropic().messages.create({ model: MINI, max_tokens: 100, tools, messages }).withResponse();
    expect(response.headers.get("x-switchboard-notes")).toBeNull();
    const sent = requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body.messages;
    expect(sent.at(-2)).toEqual({ role: "tool", tool_call_id: "toolu_3", content: "paper.pdf:" });
    expect(sent.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "file", file: { filename: "spec.pdf", file_data: `data:application/pdf;base64,${PDF}` } },
        { type: "text", text: "(a document from the tool result toolu_3)" },
      ],
    });

    await anthropic().messages.create({ model: HAIKU, max_tokens: 100, tools, messages });
    const turn = server().fakes.anthropic.requests[0]!.body.messages.at(-1);
    expect(turn.content).toEqual([
      { type: "tool_result", tool_use_id: "toolu_3", content: "paper.pdf:" },
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF }, title: "spec.pdf" },
      { type: "text", text: "(a document from the tool result toolu_3)" },
    ]);
  });

  it("sends text documents as text to every provider", async () => {
    both("Two rules.");
    await anthropic().messages.create({
      model: MINI,
      max_tokens: 100,
      messages: [
        {
          role: "user",
          content: [
            { type: "document", source: { type: "text", media_type: "text/plain", data: "Rule 1: be kind.\nRule 2: be brief." }, title: "rules.txt", context: "house rules" },
            { type: "text", text: "How many rules are there?" },
          ],
        },
      ],
    });
    expect(requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body.messages).toEqual([
      { role: "user", content: 'Document "rules.txt" (house rules):\nRule 1: be kind.\nRule 2: be brief.\nHow many rules are there?' },
    ]);
  });

  it("sends a PDF by URL to Anthropic as a URL, and elsewhere as a link with a note", async () => {
    both("Read.");
    const messages: Anthropic.MessageParam[] = [
      { role: "user", content: [{ type: "document", source: { type: "url", url: "https://example.com/spec.pdf" } }, { type: "text", text: "Summarize it." }] },
    ];
    const viaAnthropic = await anthropic().messages.create({ model: HAIKU, max_tokens: 100, messages }).withResponse();
    expect(viaAnthropic.response.headers.get("x-switchboard-notes")).toBeNull();
    expect(server().fakes.anthropic.requests[0]!.body.messages[0].content[0]).toEqual({ type: "document", source: { type: "url", url: "https://example.com/spec.pdf" } });

    const viaOpenAI = await anthropic().messages.create({ model: MINI, max_tokens: 100, messages }).withResponse();
    expect(viaOpenAI.response.headers.get("x-switchboard-notes")).toBe(`document URL sent as a link: ${MINI} takes PDFs as data only`);
    expect(requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body.messages[0].content[0]).toEqual({ type: "text", text: "(a PDF document at https://example.com/spec.pdf)" });
  });

  it("asks the router for a model that reads documents, with the PDF's pages in the prompt's size", () => {
    const body = parseMessages(messagesRequestSchema, { model: "auto", max_tokens: 100, messages: [{ role: "user", content: [pdfBlock, { type: "text", text: "Summarize it." }] }] });
    const job = messagesJob(body, { kind: "auto" }, { tenant: "default" });
    expect(job.route.needs?.documents).toBe(true);
    expect(job.route.attachments).toEqual([{ kind: "document", mimeType: "application/pdf", tokens: 3 * 2250 }]);
    const plain = chatJob(parseChatRequest({ model: "auto", messages: [{ role: "user", content: "Summarize it." }] }), { kind: "auto" }, { tenant: "default" });
    expect(plain.route.needs?.documents).toBeUndefined();
  });

  it("answer a PDF sent with no question, and name `messages` when a request has nothing to answer", async () => {
    both("A parser specification.");
    const res = await anthropic().messages.create({ model: "auto", max_tokens: 100, messages: [{ role: "user", content: [pdfBlock] }] });
    expect(res.content).toEqual([{ type: "text", text: "A parser specification." }]);
    const empty = await anthropic()
      .messages.create({ model: "auto", max_tokens: 100, messages: [{ role: "user", content: [{ type: "text", text: " " }] }] })
      .catch((e: unknown) => e);
    expect(empty).toMatchObject({ status: 400 });
    expect((empty as { error: { error: { param?: string; hint?: string } } }).error.error).toMatchObject({ param: "messages", hint: expect.stringContaining("`messages`") });
  });

  it("counts a PDF's pages in count_tokens", async () => {
    const question = { type: "text" as const, text: "What does this spec specify?" };
    const without = await anthropic().messages.countTokens({ model: HAIKU, messages: [{ role: "user", content: [question] }] });
    const withPdf = await anthropic().messages.countTokens({ model: HAIKU, messages: [{ role: "user", content: [pdfBlock, question] }] });
    // Three pages at 1,500-3,000 tokens each, as Anthropic counts a page's text and image.
    expect(withPdf.input_tokens - without.input_tokens).toBeGreaterThanOrEqual(3 * 1500);
    expect(withPdf.input_tokens - without.input_tokens).toBeLessThanOrEqual(3 * 3000);
  });

  it("refuses a document block with missing fields, naming them", async () => {
    const err = await anthropic()
      .messages.create({
        model: MINI,
        max_tokens: 100,
        messages: [{ role: "user", content: [{ type: "document", source: { type: "base64", media_type: "application/pdf" } } as unknown as Anthropic.DocumentBlockParam] }],
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400 });
    expect((err as { error: { error: { param?: string } } }).error.error.param).toBe("messages.0.content.0.source.data");
    expect(server().fakes.openai.requests).toHaveLength(0);
  });
});

describe("PDFs on /v1/chat/completions", () => {
  it("reach an OpenAI model as the file part they came as, and an Anthropic model as a document block", async () => {
    both("A parser.");
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      {
        role: "user",
        content: [
          { type: "text", text: "What does this spec specify?" },
          { type: "file", file: { filename: "spec.pdf", file_data: `data:application/pdf;base64,${PDF}` } },
        ],
      },
    ];
    const { response } = await openai().chat.completions.create({ model: MINI, messages }).withResponse();
    expect(response.headers.get("x-switchboard-notes")).toBeNull();
    expect(requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body.messages[0].content).toContainEqual({
      type: "file",
      file: { filename: "spec.pdf", file_data: `data:application/pdf;base64,${PDF}` },
    });

    await openai().chat.completions.create({ model: HAIKU, messages });
    expect(server().fakes.anthropic.requests[0]!.body.messages[0].content).toEqual([
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF }, title: "spec.pdf" },
      { type: "text", text: "What does this spec specify?" },
    ]);
  });
});
