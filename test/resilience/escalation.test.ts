// strongerModel: where an answer that failed a visible check is retried, as a pure function of the config.
import { describe, expect, it } from "vitest";
import { taskCapability, tierRank } from "../../src/config/catalog.js";
import { loadConfig } from "../../src/config/load.js";
import { TASK_TYPES, type ModelEntry, type SwitchboardConfig } from "../../src/config/schema.js";
import { strongerModel } from "../../src/routing/escalation.js";

const CFG = loadConfig({ env: {} }).config;
const all = () => true;

/** A catalog entry with the given capability (every score), tier and output price. */
function model(capability: number, tier: ModelEntry["tier"], output: number, speed = 50): ModelEntry {
  const base = CFG.models["openai:gpt-4.1-mini"]!;
  const capabilities = Object.fromEntries(Object.keys(base.capabilities).map((k) => [k, capability])) as ModelEntry["capabilities"];
  return { ...base, tier, price: { ...base.price, output }, capabilities: { ...capabilities, speed } };
}

function withModels(models: Record<string, ModelEntry>, weights?: SwitchboardConfig["tasks"]["simple_qa"]["weights"]): SwitchboardConfig {
  const tasks = weights ? { ...CFG.tasks, simple_qa: { ...CFG.tasks.simple_qa, weights } } : CFG.tasks;
  return { ...CFG, models, tasks };
}

describe("strongerModel: shipped catalog", () => {
  it("picks the cheapest clearly stronger model of at least the same tier", () => {
    // For coding, gpt-5-mini is the cheapest (output price) model more than 3 points above Haiku, and standard like it.
    expect(strongerModel(CFG, "coding", "anthropic:claude-haiku-4-5", all)).toBe("openai:gpt-5-mini");
  });

  it("only picks models the predicate allows", () => {
    const pick = strongerModel(CFG, "coding", "anthropic:claude-haiku-4-5", (id) => id !== "openai:gpt-5-mini");
    expect(pick).toBe("openai:gpt-4.1");
    expect(strongerModel(CFG, "coding", "anthropic:claude-haiku-4-5", () => false)).toBeUndefined();
  });

  it("answers undefined for a model outside the catalog (the client's sampling model)", () => {
    expect(strongerModel(CFG, "coding", "sampling:client", all)).toBeUndefined();
  });

  it("for every task and model, its pick is usable, clearly stronger, not of a lower tier, and the cheapest such", () => {
    for (const task of TASK_TYPES) {
      const { speed: _speed, ...quality } = CFG.tasks[task].weights;
      for (const [id, cur] of Object.entries(CFG.models)) {
        const usable = (m: string) => m !== id && !m.startsWith("deepseek:");
        const pick = strongerModel(CFG, task, id, usable);
        const qualifies = (m: string) => usable(m) && taskCapability(CFG.models[m]!, quality) > taskCapability(cur, quality) + 3 && tierRank(CFG.models[m]!.tier) >= tierRank(cur.tier);
        const cheapest = Math.min(...Object.keys(CFG.models).filter(qualifies).map((m) => CFG.models[m]!.price.output));
        if (pick === undefined) expect(Object.keys(CFG.models).filter(qualifies)).toEqual([]);
        else {
          expect(qualifies(pick)).toBe(true);
          expect(CFG.models[pick]!.price.output).toBe(cheapest);
        }
      }
    }
  });
});

describe("strongerModel: hand-built catalog", () => {
  it("needs more than 3 points of capability", () => {
    const cfg = withModels({ "x:cur": model(70, "standard", 1), "x:close": model(73, "standard", 1), "x:clear": model(74, "standard", 5) });
    expect(strongerModel(cfg, "coding", "x:cur", all)).toBe("x:clear");
  });

  it("never steps down a tier, however capable the cheaper model", () => {
    const cfg = withModels({ "x:cur": model(70, "standard", 5), "x:economy": model(95, "economy", 0.1), "x:premium": model(80, "premium", 20) });
    expect(strongerModel(cfg, "coding", "x:cur", all)).toBe("x:premium");
  });

  it("prefers the lowest output price, then catalog order", () => {
    const cfg = withModels({ "x:cur": model(60, "standard", 1), "x:a": model(90, "premium", 10), "x:b": model(80, "standard", 4), "x:c": model(85, "standard", 4) });
    expect(strongerModel(cfg, "coding", "x:cur", all)).toBe("x:b");
  });

  it("leaves speed out of the task's weights: faster is not stronger", () => {
    // simple_qa weighs speed; a model as capable but much faster does not count as stronger.
    const cfg = withModels({ "x:cur": model(70, "standard", 1, 20), "x:fast": model(70, "standard", 1, 99) });
    expect(CFG.tasks.simple_qa.weights.speed).toBeGreaterThan(0);
    expect(strongerModel(cfg, "simple_qa", "x:cur", all)).toBeUndefined();
  });

  it("falls back to reasoning and instruction when a task weighs only speed", () => {
    const cur = { ...model(70, "standard", 1), capabilities: { ...model(70, "standard", 1).capabilities, reasoning: 60, instruction: 60 } };
    const cfg = withModels({ "x:cur": cur, "x:smart": { ...model(40, "standard", 2), capabilities: { ...model(40, "standard", 2).capabilities, reasoning: 90, instruction: 90 } } }, { speed: 1 });
    expect(strongerModel(cfg, "simple_qa", "x:cur", all)).toBe("x:smart");
  });
});
