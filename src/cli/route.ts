import { createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { SwitchboardError, invalidRequest } from "../errors.js";
import type { Runtime } from "../runtime.js";
import type { Decision, RouteInput } from "../routing/types.js";
import { out } from "./output.js";

type Flags = Record<string, string | boolean | undefined>;

function inputFromFlags(prompt: string, f: Flags): RouteInput {
  const num = (k: string) => {
    const v = f[k];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw invalidRequest(`--${k} must be a whole number, got "${v}"`, `pass --${k} 1000`);
    return n;
  };
  const input: RouteInput = { prompt };
  if (typeof f.mode === "string") input.mode = f.mode;
  if (typeof f.tenant === "string") input.tenant = f.tenant;
  if (typeof f["task-type"] === "string") input.taskType = f["task-type"] as RouteInput["taskType"];
  if (typeof f.model === "string") input.model = f.model;
  if (typeof f.latency === "string") input.latency = f.latency as RouteInput["latency"];
  if (typeof f["cost-sensitivity"] === "string") input.costSensitivity = f["cost-sensitivity"] as RouteInput["costSensitivity"];
  const ctx = num("context-tokens");
  if (ctx !== undefined) input.contextTokens = ctx;
  const max = num("max-output-tokens");
  if (max !== undefined) input.maxOutputTokens = max;
  return input;
}

export function formatDecision(d: Decision): string {
  const rows: Array<[string, string]> = [
    ["call", formatCall(d.action)],
    ...(d.action.steps ? d.action.steps.map((s, i): [string, string] => [`  step ${i + 1}`, formatCall(s)]) : []),
    ...(d.action.note ? [["note", d.action.note] as [string, string]] : []),
    ["model", `${d.model}  (${d.provider})`],
    ...(d.taskType ? [["task", `${d.taskType} · ${d.complexity} · ${d.costTier} tier   [${d.tier}, confidence ${d.confidence.toFixed(2)}]`] as [string, string]] : []),
    ["mode", `${d.mode} (${d.modeSource}) · ${d.latency} · ${d.job}`],
    ["reason", d.reason],
    ["fallbacks", d.fallbacks.map((f) => f.model).join(" → ") || "none"],
    ["estimate", formatEstimate(d.estimate)],
    ["tools", [...d.tools, ...d.mcpTools.map((t) => `mcp:${t}`)].join(", ") || "none"],
    ["signals", d.signals.join(", ") || "none"],
  ];
  if (d.experiment) rows.push(["experiment", `${d.experiment.name}: ${d.experiment.arm}`]);
  const lines = rows.map(([k, v]) => `${k.padEnd(11)}${v}`);
  if (d.alternatives.length) {
    lines.push("alternatives");
    for (const a of d.alternatives) lines.push(`  ${a.model}: ${a.why}`);
  }
  lines.push(`decided in ${d.decisionMs} ms (config ${d.configVersion})`);
  return lines.join("\n");
}

/** `remove_background {"image":"./shoe.jpg"}`, the call an agent would make. */
function formatCall(c: { tool: string; arguments: Record<string, unknown>; services?: string[] }): string {
  const args = Object.keys(c.arguments).length ? ` ${JSON.stringify(c.arguments)}` : "";
  return `${c.tool}${args}${c.services ? `  (services: ${c.services.join(" → ")})` : ""}`;
}

function formatEstimate(e: Decision["estimate"]): string {
  if (e.unit && e.units === undefined) return `$${e.unitPriceUsd} per ${e.unit} (the prompt does not say how many)`;
  if (e.unit) return `$${e.costUsd.toFixed(6)} for ${e.units} ${e.unit} ($${e.unitPriceUsd} per ${e.unit})`;
  return `${e.inputTokens} in / ${e.outputTokens} out tokens · $${e.costUsd.toFixed(6)}`;
}

export async function runRoute(runtime: Runtime, prompt: string, f: Flags): Promise<number> {
  if (typeof f.batch === "string") return runBatch(runtime, f.batch, typeof f.out === "string" ? f.out : undefined);
  const d = runtime.route(inputFromFlags(prompt, f));
  out(f.json ? JSON.stringify(d, null, 2) : formatDecision(d));
  return 0;
}

/** One decision per line; a bad row gets an error line and the batch goes on. */
async function runBatch(runtime: Runtime, file: string, outFile?: string): Promise<number> {
  const sink = outFile ? createWriteStream(outFile) : undefined;
  const write = (line: string) => (sink ? sink.write(line + "\n") : out(line));
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  let failed = 0;
  for await (const line of rl) {
    if (!line.trim()) continue;
    n++;
    let id: unknown = n;
    try {
      const row = JSON.parse(line) as Record<string, unknown>;
      id = row.id ?? n;
      const { id: _id, task_type: _t, ...inputs } = row;
      const d = runtime.route(inputs as RouteInput);
      write(JSON.stringify({ id, ...d }));
    } catch (e) {
      failed++;
      const body = e instanceof SwitchboardError ? e.body : { code: "invalid_request", message: `line ${n}: ${(e as Error).message}`, retryable: false };
      write(JSON.stringify({ id, error: body }));
    }
  }
  if (sink) await new Promise<void>((res) => sink.end(res));
  return failed && failed === n ? 2 : 0;
}
