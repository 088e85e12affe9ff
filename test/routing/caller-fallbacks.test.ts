// The caller's own fallbacks (RouteInput.fallbacks, from the compatible APIs' `models` and
// `fallbacks`): tried first, in the caller's order, after the primary; a preference such as the
// mode's cost ceiling does not hold one back, a limit (no credentials, a local provider not
// running, a missing capability) skips it and the reason says why; unknown or disallowed ids are
// refused naming their place in the list.
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { SwitchboardConfig } from "../../src/config/schema.js";
import { SwitchboardError } from "../../src/errors.js";
import { loadOrTrainClassifier } from "../../src/routing/classifier-cache.js";
import { createRouter, type Router } from "../../src/routing/router.js";
import type { RouteContext, RouteInput } from "../../src/routing/types.js";

let cfg: SwitchboardConfig;
let router: Router;
/** OpenAI and Anthropic keys set, nothing else. */
const ctx: RouteContext = { configuredProviders: new Set(["openai", "anthropic"]) };
const QUESTION = "What is the capital of Peru?";

beforeAll(() => {
  const loaded = loadConfig({ env: {} });
  cfg = loaded.config;
  router = createRouter(cfg, loaded.version, loadOrTrainClassifier(cfg).classifier);
});

const decide = (input: RouteInput) => router.decide({ prompt: QUESTION, ...input }, ctx);
const chain = (input: RouteInput) => decide(input).fallbacks.map((f) => f.model);

describe("the caller's fallbacks", () => {
  it("come first, in the caller's order, before the router's own, which fill the rest", () => {
    const own = chain({ model: "openai:gpt-4.1-mini" });
    const listed = ["anthropic:claude-sonnet-4-5", "openai:gpt-4.1"];
    expect(own.slice(0, 2)).not.toEqual(listed);
    const mine = chain({ model: "openai:gpt-4.1-mini", fallbacks: listed });
    expect(mine.slice(0, 2)).toEqual(listed);
    expect(mine).toHaveLength(Math.max(cfg.router.maxFallbacks, listed.length));
    expect(mine.slice(2)).toEqual(own.filter((id) => !listed.includes(id)).slice(0, mine.length - 2));
  });

  it("follow a routed primary too, and leave out the primary itself and repeats", () => {
    const routed = decide({}).model;
    const d = decide({ fallbacks: [routed, "anthropic:claude-sonnet-4-5", "anthropic:claude-sonnet-4-5"] });
    expect(d.model).toBe(routed);
    expect(d.fallbacks[0]!.model).toBe("anthropic:claude-sonnet-4-5");
    expect(d.fallbacks.filter((f) => f.model === "anthropic:claude-sonnet-4-5")).toHaveLength(1);
    expect(d.fallbacks.map((f) => f.model)).not.toContain(routed);
  });

  it("are kept past a preference (the mode's cost ceiling) that keeps the router from choosing them", () => {
    // A plain question's mode does not reach the premium tier on its own.
    expect(chain({})).not.toContain("anthropic:claude-opus-4-5");
    expect(chain({ fallbacks: ["anthropic:claude-opus-4-5"] })[0]).toBe("anthropic:claude-opus-4-5");
  });

  it("are all kept when the caller lists more than router.maxFallbacks", () => {
    const listed = ["anthropic:claude-sonnet-4-5", "openai:gpt-4.1", "anthropic:claude-haiku-4-5", "openai:gpt-5-mini", "openai:gpt-4.1-nano"];
    expect(listed.length).toBeGreaterThan(cfg.router.maxFallbacks);
    expect(chain({ model: "openai:gpt-4.1-mini", fallbacks: listed })).toEqual(listed);
  });

  it("are skipped when they cannot serve the call, and the reason says why", () => {
    const d = decide({ model: "openai:gpt-4.1-mini", fallbacks: ["deepseek:deepseek-chat", "ollama:llama3.1:8b", "anthropic:claude-sonnet-4-5"] });
    expect(d.fallbacks[0]!.model).toBe("anthropic:claude-sonnet-4-5");
    expect(d.fallbacks.map((f) => f.model)).not.toContain("deepseek:deepseek-chat");
    expect(d.reason).toContain("Fallback deepseek:deepseek-chat skipped: provider deepseek has no credentials here.");
    expect(d.reason).toContain("Fallback ollama:llama3.1:8b skipped: local provider ollama is not enabled");
  });

  it("are skipped when they lack a capability the call needs (images)", () => {
    expect(cfg.models["deepseek:deepseek-chat"]!.supports.vision).toBe(false);
    const withDeepseek: RouteContext = { configuredProviders: new Set(["openai", "anthropic", "deepseek"]) };
    const listed = { prompt: QUESTION, fallbacks: ["deepseek:deepseek-chat", "anthropic:claude-sonnet-4-5"] };
    expect(router.decide(listed, withDeepseek).fallbacks[0]!.model).toBe("deepseek:deepseek-chat");
    const d = router.decide({ ...listed, attachments: [{ kind: "image" }] }, withDeepseek);
    expect(d.fallbacks[0]!.model).toBe("anthropic:claude-sonnet-4-5");
    expect(d.fallbacks.map((f) => f.model)).not.toContain("deepseek:deepseek-chat");
    expect(d.reason).toContain("Fallback deepseek:deepseek-chat skipped: does not accept images.");
  });

  it("leave the decision as it was when there are none", () => {
    const a = decide({ model: "openai:gpt-4.1-mini" });
    const b = decide({ model: "openai:gpt-4.1-mini", fallbacks: [] });
    expect(b.fallbacks).toEqual(a.fallbacks);
    expect(b.reason).toBe(a.reason);
  });

  it("are refused when unknown or not allowed for the tenant, naming their place in the list", () => {
    const refusal = (input: RouteInput) => {
      try {
        decide(input);
      } catch (err) {
        expect(err).toBeInstanceOf(SwitchboardError);
        return (err as SwitchboardError).body;
      }
      throw new Error("expected a refusal");
    };
    const unknown = refusal({ fallbacks: ["openai:gpt-4.1", "openai:gpt-4o"] });
    expect(unknown).toMatchObject({ code: "invalid_request", field: "fallbacks.1" });
    expect(unknown.validValues).toContain("openai:gpt-4.1");
    const locked = createRouter({ ...cfg, tenants: { ...cfg.tenants, narrow: { ...cfg.tenants[cfg.router.defaultTenant]!, allowedModels: ["openai:gpt-4.1-mini"] } } }, "test", router.classifier);
    let body;
    try {
      locked.decide({ prompt: QUESTION, tenant: "narrow", fallbacks: ["anthropic:claude-sonnet-4-5"] }, ctx);
    } catch (err) {
      body = (err as SwitchboardError).body;
    }
    expect(body).toMatchObject({ code: "invalid_request", field: "fallbacks.0" });
    expect(body!.message).toContain('tenant "narrow" does not allow model anthropic:claude-sonnet-4-5');
  });
});
