// The run_llm load both budget chaos suites drive: one pinned model on a loopback OpenAI fake whose
// replies cost a known amount, a tenant with a small daily ceiling, and a pool of concurrent calls.
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { FakeServer, RecordedRequest } from "../fakes/openai-fake.js";
import { callTool, type CallOutcome, type Prng } from "./helpers.js";

export const MODEL = "openai:gpt-4.1-mini";
/** gpt-4.1-mini at $0.4 / $1.6 per 1M: 100 in + 150 out = $0.00028 per answer; the worst case reserved is about $0.0004. */
export const USAGE = { input: 100, output: 150 };
export const COST = 0.00028;
export const RESERVE_MAX = 0.0005;
export const OPENAI_KEY = "sk-heavy-SECRETKEY-9000";

export const runArgs = (i: number, extra = "") => ({ prompt: `Question ${i}${extra}: what is the capital of Peru?`, model: MODEL, maxOutputTokens: 200 });

/** Budgets and deadlines of the chaos servers: a short lease so a crash's reservations are reaped in seconds. */
export function chaosOverlay(tenant: string, dailyUsd: number, lease: { deadlineMs: number; marginMs: number }) {
  return {
    tenants: { [tenant]: { budget: { dailyUsd } } },
    budgets: { leaseMarginMs: lease.marginMs, waitMs: 3000 },
    router: { latencyClasses: { interactive: { attemptTimeoutMs: lease.deadlineMs - 500, deadlineMs: lease.deadlineMs } } },
  };
}

/** Fake replies: quick ones with a seeded small delay, and a hang for prompts that ask for it. */
export function scriptFake(fake: FakeServer, rand: Prng, onRequest?: (req: RecordedRequest, hang: boolean) => void): void {
  fake.setDefault((req) => {
    const text = JSON.stringify(req.body?.messages ?? "");
    const hang = text.includes("HANG");
    onRequest?.(req, hang);
    return hang ? { text: "late", usage: USAGE, delayMs: 600_000 } : { text: "Lima is the capital of Peru.", usage: USAGE, delayMs: rand.int(40) };
  });
}

/** Runs `total` calls with at most `width` in flight, round-robin over `clients`; `stop()` ends early. */
export async function pool(clients: Client[], total: number, width: number, args: (i: number) => unknown, onDone?: (o: CallOutcome, i: number) => void, stop?: () => boolean) {
  const out: CallOutcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total && !stop?.()) {
      const i = next++;
      const o = await callTool(clients[i % clients.length]!, "run_llm", args(i));
      out[i] = o;
      onDone?.(o, i);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out.filter(Boolean);
}

export function tally(outcomes: CallOutcome[]) {
  const codes: Record<string, number> = {};
  for (const o of outcomes) {
    const k = o.ok ? "ok" : o.lost ? "lost" : o.code!;
    codes[k] = (codes[k] ?? 0) + 1;
  }
  return { codes, answeredUsd: outcomes.reduce((s, o) => s + o.costUsd, 0) };
}
