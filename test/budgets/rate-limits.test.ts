// Requests and tokens per minute, per tenant and per token: counted in memory for one process, and
// in PostgreSQL shared exactly by several processes (here two pools racing, as two instances would).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { RateLimiter, type RateScope } from "../../src/budgets/rate-limits.js";
import { openDb, type Db } from "../../src/store/db.js";
import { SwitchboardError } from "../../src/errors.js";
import { postgresUrl } from "../store/pg-available.js";

const pgUrl = await postgresUrl();
if (!pgUrl) console.warn("rate-limits: no PostgreSQL at SWITCHBOARD_TEST_DATABASE_URL; the shared-count tests are skipped");

/** A clock fixed mid-window, moved by hand. */
function clock(start = Date.UTC(2026, 10, 30, 12, 0, 10)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}
const tenant = (limits: RateScope["limits"]): RateScope => ({ scope: `tenant:t-${randomUUID()}`, label: "tenant t", limits });
const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => (e as SwitchboardError).body);

describe("rate limits in one process", () => {
  it("admits the configured requests a minute, refuses the next with the seconds to wait, and admits again in the next minute", async () => {
    const c = clock();
    const rl = new RateLimiter(undefined, c.now);
    const s = tenant({ requestsPerMinute: 3 });
    for (let i = 0; i < 3; i++) await rl.admit([s], 10);
    const err = await refusal(rl.admit([s], 10));
    expect(err).toMatchObject({ code: "rate_limited", retryable: true, retryAfterSeconds: 50 });
    expect(err!.message).toMatch(/tenant t's rate limit is reached: 3 of 3 requests this minute used/);
    expect(err!.hint).toMatch(/retry in 50 s/);
    c.advance(50_000);
    await expect(rl.admit([s], 10)).resolves.toMatchObject({ tokens: 10 });
  });

  it("counts estimated tokens, corrected by the real use", async () => {
    const rl = new RateLimiter(undefined, clock().now);
    const s = tenant({ tokensPerMinute: 1000 });
    const a = await rl.admit([s], 400);
    await rl.admit([s], 400);
    expect((await refusal(rl.admit([s], 400)))?.code).toBe("rate_limited");
    // The first call used far fewer tokens than estimated: room for one more.
    rl.correct(a, 100);
    await expect(rl.admit([s], 400)).resolves.toBeDefined();
  });

  it("refuses a call larger than the whole allowance as not worth retrying", async () => {
    const rl = new RateLimiter(undefined, clock().now);
    const err = await refusal(rl.admit([tenant({ tokensPerMinute: 1000 })], 5000));
    expect(err).toMatchObject({ code: "rate_limited", retryable: false });
    expect(err!.message).toMatch(/needs about 5000 tokens, more than tenant t's whole allowance of 1000/);
  });

  it("applies the tenant's and the token's limits together, naming the one that refused, and counts neither then", async () => {
    const rl = new RateLimiter(undefined, clock().now);
    const t = tenant({ requestsPerMinute: 10 });
    const token: RateScope = { scope: `token:k-${randomUUID()}`, label: "token ci-bot", limits: { requestsPerMinute: 2 } };
    await rl.admit([t, token], 1);
    await rl.admit([t, token], 1);
    expect((await refusal(rl.admit([t, token], 1)))?.message).toMatch(/token ci-bot's rate limit/);
    // The tenant's own count was not touched by the refusal: 8 more fit.
    for (let i = 0; i < 8; i++) await rl.admit([t], 1);
    expect((await refusal(rl.admit([t], 1)))?.message).toMatch(/10 of 10 requests/);
  });

  it("without limits, admits without counting", async () => {
    const rl = new RateLimiter(undefined, clock().now);
    await expect(rl.admit([tenant({})], 1_000_000)).resolves.toEqual({ scopes: [], windowStart: 0, tokens: 0 });
  });
});

describe.runIf(!!pgUrl)("rate limits shared through PostgreSQL", () => {
  let a: Db;
  let b: Db;
  beforeAll(async () => {
    [a, b] = [await openDb({ databaseUrl: pgUrl! }), await openDb({ databaseUrl: pgUrl! })];
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("two instances racing admit exactly the configured count between them", async () => {
    const c = clock();
    const [one, two] = [new RateLimiter(a, c.now), new RateLimiter(b, c.now)];
    const s = tenant({ requestsPerMinute: 20, tokensPerMinute: 1_000_000 });
    const tries = Array.from({ length: 60 }, (_, i) => refusal((i % 2 ? one : two).admit([s], 100)));
    const outcomes = await Promise.all(tries);
    expect(outcomes.filter((o) => o === undefined)).toHaveLength(20);
    expect(outcomes.filter((o) => o?.code === "rate_limited")).toHaveLength(40);
  });

  it("a refusal by one scope leaves the other's count as it was, across instances", async () => {
    const c = clock();
    const [one, two] = [new RateLimiter(a, c.now), new RateLimiter(b, c.now)];
    const t = tenant({ requestsPerMinute: 5 });
    const token: RateScope = { scope: `token:k-${randomUUID()}`, label: "token k", limits: { requestsPerMinute: 1 } };
    await one.admit([t, token], 1);
    expect((await refusal(two.admit([t, token], 1)))?.message).toMatch(/token k/);
    for (let i = 0; i < 4; i++) await (i % 2 ? one : two).admit([t], 1);
    expect((await refusal(one.admit([t], 1)))?.message).toMatch(/5 of 5 requests/);
  });
});
