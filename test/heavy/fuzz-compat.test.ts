// Fuzzed requests to the compatible APIs over HTTP: valid Chat Completions, Responses, Messages and
// count_tokens bodies (images, PDFs, tools, tool results, server tools, thinking, structured output,
// streamed or not), mutated anywhere inside by a seeded PRNG (wrong types, huge and broken strings,
// prototype names, deep nesting, unknown keys, dropped fields). Every request is answered in the
// API's shape, none fails `internal` or crashes the server, and no answer carries a provider key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { startFakes, type Fakes } from "../helpers/llm-fakes.js";
import { cleanEnv, prng, SEED, startServer, tempDir, writeOverlay, type Prng, type ServerProc } from "./helpers.js";

const KEY = "sk-fuzz-SECRETKEY-31337";
const ANT_KEY = "ant-fuzz-SECRETKEY-4242";
const TOKEN = "tok-fuzz-compat-0123456789";
const CALLS = Number(process.env.HEAVY_FUZZ_COMPAT_CALLS ?? 600);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const PNG = "data:image/png;base64,iVBORw0KGgo=";
const PDF = "JVBERi0xLjQKMSAwIG9iaiA8PCAvVHlwZSAvUGFnZSA+PgolJUVPRgo=";
const PROMPTS = ["What is the capital of Peru?", "Summarize the attached file.", "Write a haiku about rain", "Fix this: TypeError: x is undefined", ""];
const PROTO = ["__proto__", "constructor", "toString", "prototype"];

/** A valid body for each API, its optional parts drawn at random. */
function validBody(api: string, r: Prng): Record<string, Json> {
  const text = r.pick(PROMPTS) || "hi";
  const model = r.pick(["auto", "openai:gpt-4.1-mini", "anthropic:claude-haiku-4-5", "switchboard/realtime_assist", "gpt-4.1-mini", "claude-sonnet-4-5"]);
  const stream = r.chance(0.5);
  if (api === "chat") {
    return {
      model,
      stream,
      ...(stream && r.chance(0.5) ? { stream_options: { include_usage: true } } : {}),
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text }, ...(r.chance(0.3) ? [{ type: "image_url", image_url: { url: PNG } }] : []), ...(r.chance(0.3) ? [{ type: "file", file: { filename: "a.pdf", file_data: `data:application/pdf;base64,${PDF}` } }] : [])] },
        ...(r.chance(0.4)
          ? [
              { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } }] },
              { role: "tool", tool_call_id: "call_1", content: "found" },
            ]
          : []),
      ],
      ...(r.chance(0.5) ? { tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } } }], tool_choice: r.pick(["auto", "required", "none"]) } : {}),
      ...(r.chance(0.3) ? { response_format: r.pick<Json>([{ type: "json_object" }, { type: "json_schema", json_schema: { name: "a", schema: { type: "object" }, strict: true } }]) } : {}),
      ...(r.chance(0.3) ? { temperature: 0.5, top_p: 0.9, seed: 7, presence_penalty: 0.1, parallel_tool_calls: false } : {}),
      ...(r.chance(0.3) ? { reasoning_effort: r.pick(["low", "high", "none"]) } : {}),
      max_tokens: 200,
    };
  }
  if (api === "responses") {
    return {
      model,
      stream,
      instructions: "Be brief.",
      input: r.chance(0.3)
        ? text
        : [
            { role: "user", content: [{ type: "input_text", text }, ...(r.chance(0.3) ? [{ type: "input_image", image_url: PNG }] : []), ...(r.chance(0.3) ? [{ type: "input_file", filename: "a.pdf", file_data: `data:application/pdf;base64,${PDF}` }] : [])] },
            ...(r.chance(0.4)
              ? [
                  { type: "function_call", call_id: "call_1", name: "lookup", arguments: '{"q":"x"}' },
                  { type: "function_call_output", call_id: "call_1", output: "found" },
                ]
              : []),
            ...(r.chance(0.2) ? [{ type: "reasoning", id: "rs_1", summary: [] }] : []),
          ],
      ...(r.chance(0.5) ? { tools: [{ type: "function", name: "lookup", parameters: { type: "object" } }, ...(r.chance(0.3) ? [{ type: "web_search_preview" }] : [])], tool_choice: r.pick<Json>(["auto", "required", { type: "function", name: "lookup" }]) } : {}),
      ...(r.chance(0.3) ? { text: { format: { type: "json_schema", name: "a", schema: { type: "object" } } } } : {}),
      ...(r.chance(0.3) ? { reasoning: { effort: "low" } } : {}),
      max_output_tokens: 200,
    };
  }
  const messages: Json[] = [
    {
      role: "user",
      content: [
        { type: "text", text, ...(r.chance(0.3) ? { cache_control: { type: "ephemeral" } } : {}) },
        ...(r.chance(0.3) ? [{ type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } }] : []),
        ...(r.chance(0.3) ? [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF }, title: "a.pdf" }] : []),
      ],
    },
    ...(r.chance(0.4)
      ? [
          { role: "assistant", content: [{ type: "text", text: "Looking." }, { type: "tool_use", id: "toolu_1", name: "lookup", input: { q: "x" } }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "found" }, ...(r.chance(0.3) ? [{ type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } }] : [])] }] },
        ]
      : []),
  ];
  return {
    model,
    ...(api === "messages" ? { max_tokens: 2000, stream } : {}),
    system: [{ type: "text", text: "Be brief." }],
    messages,
    ...(r.chance(0.5) ? { tools: [{ name: "lookup", input_schema: { type: "object" } }, ...(r.chance(0.3) ? [{ type: "web_search_20250305", name: "web_search", max_uses: 2 }] : [])] } : {}),
    ...(api === "messages" && r.chance(0.2) ? { thinking: { type: "enabled", budget_tokens: 1024 } } : {}),
    ...(r.chance(0.2) ? { tool_choice: { type: "auto", disable_parallel_tool_use: true } } : {}),
  };
}

function oddValue(r: Prng): Json {
  switch (r.int(10)) {
    case 0: return null;
    case 1: return r.pick([0, -1, 1e308, 2 ** 53 + 1, 0.5]);
    case 2: return r.chance(0.5);
    case 3: return [];
    case 4: return {};
    case 5: return "x".repeat(r.pick([10_000, 200_000]));
    case 6: return `a\u0000b${r.pick(["\ud800", "\udfff", ""])}`;
    case 7: return r.pick(PROTO);
    case 8: {
      let v: Json = "bottom";
      for (let i = 0; i < r.pick([20, 200]); i++) v = r.chance(0.5) ? [v] : { a: v };
      return v;
    }
    default: return r.pick(["", "auto", "text", "image", "document", "tool_use", "function_call", "input_file", "base64", "url", "file"]);
  }
}

/** The body with one value somewhere inside replaced, a key dropped or added, or the whole body replaced. */
function mutate(body: Record<string, Json>, r: Prng): unknown {
  if (r.chance(0.03)) return r.pick<unknown>([null, [], "body", 42, true]);
  const copy = structuredClone(body) as Record<string, Json>;
  // Walk to a random container, then change one of its entries.
  let node: Json = copy;
  for (let depth = 0; depth < 8; depth++) {
    const kids: Json[] = Array.isArray(node) ? node : node && typeof node === "object" ? Object.values(node) : [];
    const containers = kids.filter((k) => k !== null && typeof k === "object");
    if (!containers.length || r.chance(0.3)) break;
    node = r.pick(containers);
  }
  if (Array.isArray(node)) {
    if (node.length && r.chance(0.7)) node[r.int(node.length)] = oddValue(r);
    else node.push(oddValue(r));
  } else if (node && typeof node === "object") {
    const keys = Object.keys(node);
    const k = keys.length ? r.pick(keys) : "type";
    const what = r.int(3);
    if (what === 0) node[k] = oddValue(r);
    else if (what === 1) delete node[k];
    else node[r.chance(0.5) ? r.pick(PROTO) : `extra${r.int(10)}`] = oddValue(r);
  }
  return copy;
}

const PATHS: Record<string, string> = { chat: "/v1/chat/completions", responses: "/v1/responses", messages: "/v1/messages", count: "/v1/messages/count_tokens" };

describe("fuzzed requests to the compatible APIs", () => {
  let fakes: Fakes;
  let srv: ServerProc | undefined;
  beforeAll(async () => {
    fakes = await startFakes();
    fakes.openai.setDefault({ text: "Lima.", usage: { input: 20, output: 5 } });
    fakes.anthropic.setDefault({ text: "Lima.", usage: { input: 20, output: 5 } });
    const dir = tempDir("sb-heavy-fuzz-compat-");
    const overlayFile = writeOverlay(dir, { router: { failover: { maxAttemptsPerModel: 1, initialDelayMs: 1, maxDelayMs: 5 } } });
    const env = { ...cleanEnv(), OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fakes.openai.url, ANTHROPIC_API_KEY: ANT_KEY, ANTHROPIC_BASE_URL: fakes.anthropic.url, SWITCHBOARD_DATA_DIR: join(dir, "data"), SWITCHBOARD_TOKENS: `default=${TOKEN}` };
    srv = await startServer({ env, overlayFile });
  }, 120_000);
  afterAll(async () => {
    await srv?.kill9();
    await fakes?.close();
  });

  it(`${CALLS} requests over the four endpoints: answered in shape, no internal, no key, the server survives`, async () => {
    const r = prng(SEED + 7);
    const plan = Array.from({ length: CALLS }, () => {
      const api = r.pick(Object.keys(PATHS));
      const valid = validBody(api, r);
      return { api, body: r.chance(0.15) ? valid : mutate(valid, r) };
    });
    const statuses: Record<string, number> = {};
    const internal: string[] = [];
    const leaks: string[] = [];
    const unshaped: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (next < plan.length) {
          const { api, body } = plan[next++]!;
          const label = `${api} ${JSON.stringify(body)?.slice(0, 200)}`;
          const res = await fetch(`${srv!.url}${PATHS[api]}`, {
            method: "POST",
            headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", "anthropic-version": "2023-06-01" },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(120_000),
          });
          const text = await res.text();
          statuses[`${api} ${res.status}`] = (statuses[`${api} ${res.status}`] ?? 0) + 1;
          if (/"code":"internal"/.test(text) || (res.status >= 500 && !/"code":"/.test(text))) internal.push(`${label} -> ${res.status} ${text.slice(0, 300)}`);
          if (text.includes("SECRETKEY")) leaks.push(label);
          // An error answer is JSON in the API's own shape: OpenAI's { error } or Anthropic's { type: "error", error }.
          if (res.status >= 400) {
            let shaped = false;
            try {
              const j = JSON.parse(text) as { error?: { message?: unknown }; type?: string };
              shaped = typeof j.error?.message === "string" && (api === "chat" || api === "responses" ? j.type === undefined : j.type === "error");
            } catch {
              shaped = false;
            }
            if (!shaped) unshaped.push(`${label} -> ${res.status} ${text.slice(0, 200)}`);
          }
        }
      }),
    );
    console.log(`fuzz(compat): ${plan.length} requests, seed ${SEED + 7}, statuses ${JSON.stringify(statuses)}`);
    if (internal.length) console.log(srv!.stderr().split("\n").filter((l) => l.includes("failed")).slice(0, 3).join("\n"));
    expect(internal.slice(0, 5)).toEqual([]);
    expect(leaks.slice(0, 5)).toEqual([]);
    expect(unshaped.slice(0, 5)).toEqual([]);
    // Most valid bodies were answered, so the fuzz reached the pipeline, not only the parsers.
    const ok = Object.entries(statuses).filter(([k]) => k.endsWith(" 200")).reduce((n, [, v]) => n + v, 0);
    expect(ok).toBeGreaterThan(plan.length * 0.1);
    expect(srv!.child.exitCode).toBeNull();
    expect(srv!.stderr()).not.toContain("SECRETKEY");
    const clean = await fetch(`${srv!.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Capital of Peru?" }] }),
    });
    expect(clean.status).toBe(200);
  }, 600_000);
});
