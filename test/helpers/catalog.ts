/** A plain economy model with neither tool calls nor vision: hard filters and unusable hints show on it. */
export const plainModel = {
  displayName: "Plain test model",
  tier: "economy",
  capabilities: { coding: 70, reasoning: 70, creative: 70, speed: 80, context: 70, instruction: 70, toolUse: 10 },
  price: { input: 0.2, output: 0.6 },
  contextWindow: 100000,
  maxOutput: 8000,
  supports: { tools: false, vision: false, json: true },
  latencyMs: 900,
};
