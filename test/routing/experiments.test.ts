import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { experimentArm } from "../../src/routing/router.js";

describe("experiment traffic split", () => {
  const { config } = loadConfig({ env: {} });
  config.experiments.split = { mode: "realtime_assist", model: "openai:gpt-4.1-nano", share: 0.3, enabled: true };
  delete config.experiments["realtime-haiku"];

  it("sends close to the configured share even when request ids differ only in their last characters", () => {
    let treatment = 0;
    for (let i = 0; i < 4000; i++) if (experimentArm(config, "realtime_assist", "acme", `req-2026-11-22-${i}`)?.treatment) treatment++;
    expect(treatment / 4000).toBeGreaterThan(0.27);
    expect(treatment / 4000).toBeLessThan(0.33);
  });

  it("is deterministic per tenant and request id, and independent across tenants", () => {
    const a = experimentArm(config, "realtime_assist", "acme", "req-1");
    expect(experimentArm(config, "realtime_assist", "acme", "req-1")).toEqual(a);
    const differs = Array.from({ length: 200 }, (_, i) => experimentArm(config, "realtime_assist", "acme", `r${i}`)?.treatment !== experimentArm(config, "realtime_assist", "globex", `r${i}`)?.treatment);
    expect(differs.filter(Boolean).length).toBeGreaterThan(40);
  });
});
