import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig } from "../../src/config/load.js";
import { COMPLEXITIES, COST_TIERS, TASK_TYPES } from "../../src/config/schema.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "dist", "cli.js");

/** The parent's env minus anything that could configure a provider or an overlay. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/(_API_KEY|_API_TOKEN|_TOKEN|_BASE_URL)$/.test(k) || k === "SWITCHBOARD_CONFIG" || k === "LOG_LEVEL") continue;
    env[k] = v;
  }
  // Keep stderr to what the CLI itself writes.
  env.SWITCHBOARD_LOG_LEVEL = "silent";
  return env;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<RunResult> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", rej);
    // 'close' fires after the process exited and both pipes are drained.
    child.on("close", (code) => res({ code, stdout, stderr }));
  });
}

const VALID_TIERS = ["explicit", "signals", "classifier", "default"];
let dir: string;

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  dir = mkdtempSync(join(tmpdir(), "switchboard-cli-"));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("switchboard route", () => {
  it("prints a readable decision", async () => {
    const r = await runCli(["route", "Write a Python function that checks whether a string is a palindrome."]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^model\s+\S+:\S+/m);
    expect(r.stdout).toMatch(/^reason\s+\S.{10,}/m);
    expect(r.stdout).toMatch(/^fallbacks\s+\S/m);
    expect(r.stdout).toMatch(/^estimate\s+\d+ in \/ \d+ out tokens/m);
    expect(() => JSON.parse(r.stdout)).toThrow();
  });

  it("prints the decision as JSON with --json", async () => {
    const r = await runCli(["route", "What is the boiling point of water at sea level?", "--json"]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(TASK_TYPES).toContain(d.taskType);
    expect(typeof d.model).toBe("string");
    expect(typeof d.provider).toBe("string");
    expect((d.model as string).startsWith(`${d.provider as string}:`)).toBe(true);
    expect(VALID_TIERS).toContain(d.tier);
    expect(typeof d.confidence).toBe("number");
    expect(d.confidence).toBeGreaterThanOrEqual(0);
    expect(d.confidence).toBeLessThanOrEqual(1);
    expect(COST_TIERS).toContain(d.costTier);
    expect(COMPLEXITIES).toContain(d.complexity);
    expect(typeof d.mode).toBe("string");
    expect(loadConfig({ env: {} }).config.modes).toHaveProperty(d.mode as string);
  });

  it("applies --mode and --task-type", async () => {
    const r = await runCli(["route", "Plan a three-day offsite for the team.", "--mode", "structured_planning", "--task-type", "planning", "--json"]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(d.mode).toBe("structured_planning");
    expect(d.modeSource).toBe("explicit");
    expect(d.taskType).toBe("planning");
    expect(d.tier).toBe("explicit");
  });

  it("exits 2 on an unknown --mode with a JSON error naming the valid modes", async () => {
    const r = await runCli(["route", "Summarise this text.", "--mode", "warp_speed", "--json"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const body = JSON.parse(r.stderr) as { error: { code: string; message: string; field: string; validValues: string[]; retryable: boolean } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.field).toBe("mode");
    expect(body.error.message).toContain("warp_speed");
    expect(body.error.validValues).toContain("realtime_assist");
    expect(body.error.retryable).toBe(false);
  });

  it("exits 2 on a non-numeric --context-tokens", async () => {
    const r = await runCli(["route", "Summarise this text.", "--context-tokens", "lots"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("--context-tokens");
  });

  describe("--batch", () => {
    let batchFile: string;

    beforeAll(() => {
      batchFile = join(dir, "batch.jsonl");
      const rows = [
        { id: "a", prompt: "Translate 'thank you very much' into German." },
        { id: "b", prompt: "Break this launch into milestones with owners.", mode: "structured_planning" },
        { id: "c", prompt: "Anything at all.", mode: "no_such_mode" },
      ];
      writeFileSync(batchFile, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    });

    function checkBatch(text: string): void {
      const lines = text.split("\n").filter((l) => l.trim());
      expect(lines).toHaveLength(3);
      const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(rows.map((r) => r.id)).toEqual(["a", "b", "c"]);
      for (const r of rows.slice(0, 2)) {
        expect(r.error).toBeUndefined();
        expect(typeof r.model).toBe("string");
        expect(typeof r.provider).toBe("string");
        expect(TASK_TYPES).toContain(r.taskType);
        expect(typeof r.reason).toBe("string");
      }
      expect(rows[1]!.mode).toBe("structured_planning");
      expect(rows[1]!.modeSource).toBe("explicit");
      const bad = rows[2]!;
      expect(bad.model).toBeUndefined();
      const err = bad.error as { code: string; field: string; validValues: string[] };
      expect(err.code).toBe("invalid_request");
      expect(err.field).toBe("mode");
      expect(err.validValues).toContain("realtime_assist");
    }

    it("writes one JSON line per row, with an error line for the bad row", async () => {
      const r = await runCli(["route", "--batch", batchFile]);
      expect(r.code).toBe(0);
      checkBatch(r.stdout);
    });

    it("writes to --out instead of stdout", async () => {
      const outFile = join(dir, "decisions.jsonl");
      const r = await runCli(["route", "--batch", batchFile, "--out", outFile]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
      checkBatch(readFileSync(outFile, "utf8"));
    });
  });
});

describe("switchboard eval", () => {
  let evalFile: string;
  const rows = [
    { prompt: "Write a JavaScript function that deep-clones an object.", task_type: "coding" },
    { prompt: "Translate 'where is the train station?' into French.", task_type: "translation" },
    { prompt: "What is 17 multiplied by 23?", task_type: "math" },
    { prompt: "Summarize the following article in three bullet points: The city council voted on Tuesday to expand the bike lane network.", task_type: "summarization" },
    { prompt: "Write a short poem about autumn leaves.", task_type: "creative_writing" },
    { prompt: "Plan a two-week itinerary for Japan in spring.", task_type: "planning" },
    { prompt: "I get TypeError: undefined is not a function at line 12 of app.js, how do I fix it?", task_type: "debugging" },
    { prompt: "Who wrote Pride and Prejudice?", task_type: "simple_qa" },
    { prompt: "Extract every email address from this text: contact ann@example.com or bob@example.org.", task_type: "extraction" },
    { prompt: "Compare the pros and cons of SQL and NoSQL databases for a startup.", task_type: "analysis|research" },
  ];

  beforeAll(() => {
    evalFile = join(dir, "eval.jsonl");
    writeFileSync(evalFile, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  });

  it("prints accuracy, macro-F1, a per-class table and a confusion matrix", async () => {
    const r = await runCli(["eval", evalFile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rows 10\b/);
    expect(r.stdout).toMatch(/accuracy\s+\d+(\.\d+)?%/);
    expect(r.stdout).toMatch(/macro-F1\s+\d+(\.\d+)?%/);
    expect(r.stdout).toMatch(/^class\s+precision\s+recall\s+f1\s+support$/m);
    expect(r.stdout).toMatch(/^coding\s+\d/m);
    expect(r.stdout).toContain("confusion (rows: expected, columns: predicted)");
  });

  it("prints a JSON report with --json", async () => {
    const r = await runCli(["eval", evalFile, "--json"]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as {
      rows: number;
      accuracy: number;
      macroF1: number;
      perClass: Record<string, { precision: number; recall: number; f1: number; support: number }>;
      confusion: Record<string, Record<string, number>>;
    };
    expect(rep.rows).toBe(rows.length);
    expect(rep.accuracy).toBeGreaterThanOrEqual(0);
    expect(rep.accuracy).toBeLessThanOrEqual(1);
    expect(rep.macroF1).toBeGreaterThanOrEqual(0);
    expect(rep.macroF1).toBeLessThanOrEqual(1);
    expect(typeof rep.confusion).toBe("object");
    let total = 0;
    for (const [gold, preds] of Object.entries(rep.confusion)) {
      expect(TASK_TYPES).toContain(gold);
      for (const [pred, n] of Object.entries(preds)) {
        expect(TASK_TYPES).toContain(pred);
        total += n;
      }
    }
    expect(total).toBe(rows.length);
    // The diagonal is exactly the rows counted correct.
    const diagonal = Object.entries(rep.confusion).reduce((s, [g, p]) => s + (p[g] ?? 0), 0);
    expect(diagonal / rows.length).toBeCloseTo(rep.accuracy, 3);
    for (const m of Object.values(rep.perClass)) {
      expect(m.f1).toBeGreaterThanOrEqual(0);
      expect(m.f1).toBeLessThanOrEqual(1);
    }
  });

  it("exits 2 with a clear message on an unknown task_type", async () => {
    const bad = join(dir, "bad-eval.jsonl");
    writeFileSync(bad, JSON.stringify({ prompt: "Write a haiku.", task_type: "creative_writing" }) + "\n" + JSON.stringify({ prompt: "Hello", task_type: "smalltalk" }) + "\n");
    const r = await runCli(["eval", bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const body = JSON.parse(r.stderr) as { error: { code: string; message: string; validValues: string[] } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.message).toContain('unknown task_type "smalltalk"');
    expect(body.error.message).toContain(`${bad}:2`);
    expect(body.error.validValues).toEqual([...TASK_TYPES]);
  });

  it("exits 2 when no file is given", async () => {
    const r = await runCli(["eval"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("eval needs a JSONL file");
  });
});

describe("switchboard config validate", () => {
  it("accepts the shipped config", async () => {
    const r = await runCli(["config", "validate"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/config ok/);
    expect(r.stderr).toBe("");
  });

  it("rejects an overlay with a bad price type, naming the file and the path", async () => {
    const model = Object.keys(loadConfig({ env: {} }).config.models)[0]!;
    const bad = join(dir, "BAD.yaml");
    writeFileSync(bad, `models:\n  "${model}":\n    price: { input: "cheap", output: 1 }\n`);
    const r = await runCli(["config", "validate", bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("invalid configuration");
    expect(r.stderr).toContain(bad);
    expect(r.stderr).toContain(`models.${model}.price.input`);
  });

  it("accepts a valid overlay", async () => {
    const model = Object.keys(loadConfig({ env: {} }).config.models)[0]!;
    const good = join(dir, "good.yaml");
    writeFileSync(good, `models:\n  "${model}":\n    price: { input: 1.5, output: 3 }\n`);
    const r = await runCli(["config", "validate", good]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("config ok");
    expect(r.stdout).toContain(`overlay ${good}`);
  });
});

describe("switchboard --help and usage errors", () => {
  it("prints usage with --help", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage:");
    for (const cmd of ["switchboard serve", "switchboard route", "switchboard eval", "switchboard config validate"]) expect(r.stdout).toContain(cmd);
  });

  it("exits 2 with usage on an unknown command", async () => {
    const r = await runCli(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('unknown command "frobnicate"');
    expect(r.stderr).toContain("Usage:");
  });

  it("exits 2 with usage on an unknown flag", async () => {
    const r = await runCli(["route", "hello", "--bogus-flag"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--bogus-flag");
    expect(r.stderr).toContain("Usage:");
  });
});
