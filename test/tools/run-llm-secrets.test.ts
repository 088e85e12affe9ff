// No API key ever reaches a run_llm result, error or resource, even when a provider echoes it.
// (Every call in the other run_llm suites goes through the same check in run-llm-helpers.)
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { KEYS, PROMPT, expectNoSecrets, fakeEnv, startFakes, startHarness, type Fakes, type Harness } from "./run-llm-helpers.js";

let fakes: Fakes;
let h: Harness;

beforeAll(async () => {
  fakes = await startFakes();
  h = await startHarness({ env: fakeEnv({ openai: fakes.openai.url, anthropic: fakes.anthropic.url }) });
});
afterAll(async () => {
  await h.close();
  await fakes.close();
});
beforeEach(() => fakes.reset());

describe("run_llm: secrets", () => {
  it("sends the keys to the providers (so the checks below are meaningful)", async () => {
    await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
    await h.ok({ prompt: PROMPT, model: "anthropic:claude-haiku-4-5" });
    expect(fakes.openai.requests[0]?.headers["authorization"]).toBe(`Bearer ${KEYS.openai}`);
    const a = fakes.anthropic.requests[0]?.headers;
    expect(`${a?.["x-api-key"] ?? ""} ${a?.["authorization"] ?? ""}`).toContain(KEYS.anthropic);
  });

  it("keeps a key echoed in a 401 out of the result", async () => {
    fakes.openai.enqueue({ model: "gpt-4.1-mini", fault: { kind: "status", status: 401, message: `Incorrect API key provided: ${KEYS.openai}.` } });
    const out = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
    expect(out.attempts[0]).toMatchObject({ errorCode: "auth_failed", outcome: "error" });
    expect(out.attempts[0]!.message).toMatch(/rejected the credentials/);
  });

  it.each([
    [400, "invalid_request"],
    [500, "provider_unavailable"],
  ])("redacts a key echoed in a %i's message (kept for diagnosis otherwise)", async (status, code) => {
    fakes.openai.enqueue({ model: "gpt-4.1-mini", fault: { kind: "status", status, message: `bad header Authorization: Bearer ${KEYS.openai} (key ${KEYS.openai})` } });
    const out = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
    expect(out.attempts[0]).toMatchObject({ errorCode: code, outcome: "error" });
    expect(out.attempts[0]!.message).toContain("[redacted]");
    expect(out.attempts[0]!.message).toContain("bad header");
  });

  it("redacts a key that matches no key pattern by its exact value", async () => {
    // "ant-test-SECRETKEY-456" does not look like sk-...; only the list of configured secrets catches it.
    fakes.anthropic.enqueue({ model: "claude-haiku-4-5", fault: { kind: "status", status: 400, message: `unknown key ${KEYS.anthropic} for this workspace` } });
    const out = await h.ok({ prompt: PROMPT, model: "anthropic:claude-haiku-4-5" });
    expect(out.attempts[0]).toMatchObject({ errorCode: "invalid_request" });
    expect(out.attempts[0]!.message).toContain("unknown key [redacted] for this workspace");
  });

  it("redacts echoed keys in the structured error when every model fails", async () => {
    for (let i = 0; i < 40; i++) {
      fakes.openai.enqueue({ fault: { kind: "status", status: 503, message: `overloaded for ${KEYS.openai}` } });
      fakes.anthropic.enqueue({ fault: { kind: "status", status: 529, message: `overloaded for ${KEYS.anthropic}` } });
    }
    const { res, err } = await h.run({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
    expect(res.isError).toBe(true);
    expect(err.code).toBe("provider_unavailable");
    expect(err.message).toContain("[redacted]");
    expectNoSecrets(res);
  });

  it("shows no key in the status or config resources, or in the tool listing", async () => {
    const { resources } = await h.client.listResources();
    expect(resources.map((r) => r.uri)).toContain("switchboard://status");
    for (const r of resources) {
      const read = await h.client.readResource({ uri: r.uri });
      expect(read.contents.length).toBeGreaterThan(0);
      expectNoSecrets(read);
    }
    const status = await h.readStatus();
    expect(status.providers.find((p) => p.name === "openai")).toMatchObject({ configured: true, keyEnv: "OPENAI_API_KEY", baseUrl: fakes.openai.url });
    expectNoSecrets(await h.client.listTools());
  });
});
