// The token table: a presented token is found by its hash, and the table is rebuilt from config and
// env when the config reloads, not re-read on every request (reading the environment and building
// the table's key cost more than the rest of a token check).
import { describe, expect, it } from "vitest";
import { TokenTable } from "../src/auth.js";
import { loadConfig } from "../src/config/load.js";
import type { SwitchboardConfig } from "../src/config/schema.js";

const shipped = loadConfig({ env: {} }).config;

/** An environment that counts the variables read from it. */
function countingEnv(vars: Record<string, string>) {
  const reads = { n: 0 };
  const env = new Proxy({ ...vars } as NodeJS.ProcessEnv, {
    get(target, key) {
      reads.n++;
      return target[key as string];
    },
  });
  return { env, reads };
}

describe("TokenTable", () => {
  it("finds a tenant's token and refuses others, reading the environment once per config", () => {
    const { env, reads } = countingEnv({ SWITCHBOARD_TOKENS: "acme=tok-acme-123", SWITCHBOARD_ADMIN_TOKEN: "tok-admin-456" });
    let cfg: SwitchboardConfig = shipped;
    const table = new TokenTable(() => cfg, env);
    expect(table.authenticate("Bearer tok-acme-123")).toMatchObject({ ok: true, principal: { tenant: "acme", admin: false } });
    const afterFirst = reads.n;
    expect(afterFirst).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) expect(table.authenticate("Bearer tok-admin-456")).toMatchObject({ ok: true, principal: { admin: true } });
    expect(table.authenticate("Bearer nope")).toEqual({ ok: false, reason: "invalid" });
    expect(table.authenticate(undefined)).toEqual({ ok: false, reason: "missing" });
    expect(reads.n).toBe(afterFirst);
    // A reload (a new config object) reads the environment again, and sees a changed token there.
    env.SWITCHBOARD_TOKENS = "acme=tok-acme-789";
    cfg = { ...shipped };
    expect(table.authenticate("Bearer tok-acme-789")).toMatchObject({ ok: true, principal: { tenant: "acme" } });
    expect(table.authenticate("Bearer tok-acme-123")).toEqual({ ok: false, reason: "invalid" });
    expect(reads.n).toBeGreaterThan(afterFirst);
  });
});
