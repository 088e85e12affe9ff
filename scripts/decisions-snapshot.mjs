// Writes the router's decision for a fixed, wide set of prompts, one JSON line each, so a change
// meant to be behaviour-free (a speed-up, a refactor) can be proved so with a byte diff:
//
//   npm run build && node scripts/decisions-snapshot.mjs /tmp/decisions-before.jsonl
//   ... change, rebuild ...
//   node scripts/decisions-snapshot.mjs /tmp/decisions-after.jsonl && cmp /tmp/decisions-{before,after}.jsonl
//
// SWITCHBOARD_BUILD=/path/to/other/checkout snapshots that checkout's build instead (with this
// script's prompt set), so a baseline can be rewritten after the prompt set grows.
//
// Prompts: the development sets in ../shared/data (routing-dev.jsonl, routing-outcomes-dev.jsonl;
// override the folder with SWITCHBOARD_DATA), every config example and the prompts of test/routing's job
// suites, each routed as a bare prompt;
// then a sample of them with call options (mode, latency, cost, tools, hints, tenant, attachments,
// conversations, long prompts, configured providers, a budget downgrade). Volatile fields
// (requestId, decisionMs) are left out. A second file (the first path + ".classify") holds the
// classifier's raw output for every prompt, to full precision: a stricter check than the decision's
// rounded confidence.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// SWITCHBOARD_BUILD: another checkout's build to snapshot (its dist/ and config/), e.g. the base of a change.
const build = resolve(process.env.SWITCHBOARD_BUILD ?? root);
const { Runtime } = await import(pathToFileURL(join(build, "dist", "runtime.js")).href);
const out = process.argv[2] ?? join(tmpdir(), "decisions.jsonl");
const dataDir = process.env.SWITCHBOARD_DATA ?? resolve(root, "../shared/data");

function readJsonl(name) {
  const file = join(dataDir, name);
  if (!existsSync(file)) throw new Error(`${name} not found in ${dataDir} (set SWITCHBOARD_DATA to the folder that holds it)`);
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

const runtime = new Runtime({ env: {} });
// Some providers with credentials, so the "configured providers" filter takes part.
const keyed = new Runtime({ env: { OPENAI_API_KEY: "x", ANTHROPIC_API_KEY: "x", GOOGLE_API_KEY: "x", GEMINI_API_KEY: "x" } });

/** The prompts of the job suites in test/routing (jobs found in the prompt: media, voice, research...). */
function jobSuite(name) {
  const file = join(root, "test", "routing", name);
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")).map((c, i) => [`${name}:${i}`, c.prompt]) : [];
}

const prompts = [
  ...readJsonl("routing-dev.jsonl").map((r) => ["dev:" + r.id, r.prompt]),
  ...readJsonl("routing-outcomes-dev.jsonl").map((r) => ["outcomes:" + r.id, r.prompt]),
  ...Object.entries(runtime.config.tasks).flatMap(([task, t]) => t.examples.map((p, i) => [`example:${task}:${i}`, p])),
  ...jobSuite("job-suite.json"),
  ...jobSuite("job-holdout.json"),
];

const models = Object.keys(runtime.config.models);
const long = (p, n) => (p + "\n\n").repeat(Math.ceil(n / (p.length + 2))).slice(0, n);

/** Call options, each applied to a sample of the prompts: [name, (prompt, i) => input, runtime?, extra?]. */
const variants = [
  ["mode:structured_planning", (p) => ({ prompt: p, mode: "structured_planning" })],
  ["mode:realtime_assist+background", (p) => ({ prompt: p, mode: "realtime_assist", latency: "background" })],
  ["mode:research_analyst", (p) => ({ prompt: p, mode: "research_analyst" })],
  ["mode:vision_editing", (p) => ({ prompt: p, mode: "vision_editing" })],
  ["latency:interactive+automated", (p) => ({ prompt: p, latency: "interactive", interaction: "automated" })],
  ["cost:high", (p) => ({ prompt: p, costSensitivity: "high" })],
  ["cost:low+intelligence", (p) => ({ prompt: p, costSensitivity: "low", modelPreferences: { intelligencePriority: 0.85 } })],
  ["prefs:quality-first", (p) => ({ prompt: p, modelPreferences: { intelligencePriority: 0.95, costPriority: 0.1 } })],
  ["prefs:cheap", (p) => ({ prompt: p, modelPreferences: { costPriority: 0.9, speedPriority: 0.4 } })],
  ["prefs:hints", (p) => ({ prompt: p, modelPreferences: { hints: [{ name: "nonexistent-model" }, { name: "claude" }, { name: "gpt-4.1" }] } })],
  ["prefs:hint-opus", (p) => ({ prompt: p, modelPreferences: { hints: [{ name: "opus" }] } })],
  ["tools", (p) => ({ prompt: p, tools: ["web_search", "code_interpreter"], mcpTools: ["fs.read"] })],
  ["taskType", (p, i) => ({ prompt: p, taskType: runtime.config.tasks ? Object.keys(runtime.config.tasks)[i % 13] : "coding" })],
  ["model", (p, i) => ({ prompt: p, model: models[i % 13] })],
  ["tenant:acme", (p) => ({ prompt: p, tenant: "acme" })],
  ["attachments", (p, i) => ({ prompt: p, attachments: i % 2 ? [{ kind: "image" }] : [{ kind: "document", tokens: 5000 }, { kind: "audio" }] })],
  ["context+maxOutput", (p) => ({ prompt: p, contextTokens: 60000, maxOutputTokens: 500 })],
  ["context:huge", (p) => ({ prompt: p, contextTokens: 900000 })],
  ["needs", (p, i) => ({ prompt: p, needs: { llm: true, json: i % 2 === 0, toolCalling: i % 3 === 0 } })],
  ["qualityTarget", (p, i) => ({ prompt: p, qualityTarget: [0.5, 0.8, 0.95, 0.99][i % 4] })],
  [
    "messages",
    (p, i) => ({
      messages: [
        { role: "system", content: "You are a helpful assistant." },
        { role: "user", content: prompts[(i * 7) % prompts.length][1] },
        { role: "assistant", content: "Sure, here is what I think about that." },
        { role: "user", content: p },
      ],
    }),
  ],
  ["messages+prompt", (p) => ({ prompt: "Answer briefly.", messages: [{ role: "user", content: p }, { role: "assistant", content: "ok" }] })],
  ["messages:long-conversation", (p) => ({ messages: Array.from({ length: 12 }, (_, k) => ({ role: k % 2 ? "assistant" : "user", content: k === 11 ? "thanks" : k === 10 ? p : `turn ${k}` })) })],
  ["long:20k", (p) => ({ prompt: long(p, 20000) })],
  ["long:100k", (p) => ({ prompt: long(p, 100000) })],
  ["requestId", (p, i) => ({ prompt: p, requestId: `req-${i}` })],
  ["keyed", (p) => ({ prompt: p }), keyed],
  ["keyed+hints", (p) => ({ prompt: p, modelPreferences: { hints: [{ name: "sonnet" }] } }), keyed],
  ["degrade", (p) => ({ prompt: p }), runtime, { degrade: { reason: "tenant budget near its ceiling" } }],
];

const strip = (d) => {
  const { requestId: _r, decisionMs: _m, ...rest } = d;
  return rest;
};
const route = (rt, input, extra) => {
  try {
    return strip(rt.route(input, extra));
  } catch (err) {
    return { error: String(err?.code ?? "") + ": " + String(err?.message ?? err) };
  }
};

const lines = [];
const raw = [];
for (const [id, prompt] of prompts) {
  lines.push(JSON.stringify({ id, decision: route(runtime, { prompt }) }));
  raw.push(JSON.stringify({ id, classify: runtime.router.classify(prompt) }));
}
const SAMPLE = 23;
for (const [name, make, rt = runtime, extra] of variants) {
  for (let i = 0; i < prompts.length; i += SAMPLE) {
    const [id, prompt] = prompts[i];
    lines.push(JSON.stringify({ id: `${name}|${id}`, decision: route(rt, make(prompt, i), extra) }));
  }
}
writeFileSync(out, lines.join("\n") + "\n");
writeFileSync(out + ".classify", raw.join("\n") + "\n");
process.stderr.write(`${lines.length} decisions -> ${out}; ${raw.length} classifications -> ${out}.classify\n`);
process.exit(0);
