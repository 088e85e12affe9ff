import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Runtime } from "../../src/runtime.js";
import type { Attachment } from "../../src/routing/types.js";

/**
 * Job first, measured on two suites of prompts written by helpers who had not seen the router's
 * code: job-suite.json (written before the routing changes) and job-holdout.json (written later,
 * blind to the first suite). Each job must reach its mode and tool; every near-miss (a prompt that
 * only talks about such things) must stay on a chat mode.
 */
interface Case {
  prompt: string;
  expectMode: string;
  tool: string | null;
  args?: Record<string, unknown>;
  attachments?: Attachment[];
}

const CHAT_MODES = new Set(["realtime_assist", "structured_planning"]);
const runtime = new Runtime({ env: {} });

for (const file of ["job-suite.json", "job-holdout.json"]) {
  const cases = JSON.parse(readFileSync(new URL(file, import.meta.url), "utf8")) as Case[];
  const jobs = cases.filter((c) => c.expectMode !== "chat");
  const nearMisses = cases.filter((c) => c.expectMode === "chat");

  describe(`job routing on ${file} (${jobs.length} jobs, ${nearMisses.length} near-misses)`, () => {
    const route = (c: Case) => runtime.route({ prompt: c.prompt, ...(c.attachments ? { attachments: c.attachments } : {}) });

    it("sends at least 95% of job prompts to their mode and tool", () => {
      const wrong = jobs.filter((c) => {
        const d = route(c);
        return d.mode !== c.expectMode || d.action.tool !== c.tool;
      });
      const share = 1 - wrong.length / jobs.length;
      expect(share, wrong.map((c) => c.prompt).join("\n")).toBeGreaterThanOrEqual(0.95);
    });

    it("keeps every near-miss on a chat mode", () => {
      const hijacked = nearMisses.filter((c) => !CHAT_MODES.has(route(c).mode)).map((c) => `${route(c).mode}: ${c.prompt}`);
      expect(hijacked).toEqual([]);
    });

    // Only job-suite.json records the arguments it expects.
    const withImage = jobs.filter((c) => typeof c.args?.image === "string");
    if (withImage.length) it("finds the file or URL the prompt names and hands it to the tool", () => {
      const missed = withImage.filter((c) => route(c).action.arguments.image !== c.args!.image).map((c) => c.prompt);
      expect(missed.length / withImage.length, missed.join("\n")).toBeLessThanOrEqual(0.05);
    });
  });
}
