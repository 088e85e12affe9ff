import { afterAll, beforeAll, it, expect } from "vitest";
import type { Progress } from "@modelcontextprotocol/sdk/types.js";
import { PROMPT, fakeEnv, startFakes, startHarness, type Fakes, type Harness } from "./run-llm-helpers.js";
let fakes: Fakes; let h: Harness;
beforeAll(async () => { fakes = await startFakes(); h = await startHarness({ env: fakeEnv({ openai: fakes.openai.url, anthropic: fakes.anthropic.url }) }); });
afterAll(async () => { await h.close(); await fakes.close(); });
it("probe", async () => {
  fakes.openai.enqueue({ model: "gpt-4.1-mini", fault: { kind: "status", status: 429, retryAfter: 0 } });
  const seen: Progress[] = [];
  const out = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" }, { onprogress: (p) => void seen.push(p) });
  console.log(JSON.stringify(seen), JSON.stringify(out.attempts));
  fakes.reset();
  fakes.openai.enqueue({ model: "gpt-4.1-mini", fault: { kind: "reset" } });
  const o2 = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
  console.log(JSON.stringify(o2.attempts));
  expect(1).toBe(1);
});
