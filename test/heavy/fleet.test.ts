// Three `serve --http` processes on one PostgreSQL with clients spread across them: a provider
// outage seen through one instance opens that breaker on all three; a tenant's requests-per-minute
// limit admits its count across the fleet; killing one instance mid-load loses no settled spend
// and the others keep serving.
import { afterAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { startOpenAIFake, type FakeServer } from "../fakes/openai-fake.js";
import { postgresUrl } from "../store/pg-available.js";
import { budgetState, callTool, cleanEnv, connectHttp, openDb, startServer, tempDir, writeOverlay, type ServerProc } from "./helpers.js";
import { COST, OPENAI_KEY, pool, runArgs, tally, USAGE } from "./budget-load.js";

const pgUrl = await postgresUrl();
if (!pgUrl) console.warn("[heavy] PostgreSQL not reachable: the fleet test is skipped");

const LIMIT = 40;
const DOWN = "openai:gpt-4.1";

describe.runIf(!!pgUrl)("a fleet of three instances on one PostgreSQL", () => {
  let fake: FakeServer;
  const servers: ServerProc[] = [];
  const clients: Client[] = [];
  const suffix = randomBytes(4).toString("hex");
  const tenant = `fleet-${suffix}`;
  const limited = `fleet-rl-${suffix}`;
  const tokens = { tenant: `tok-${randomBytes(12).toString("hex")}`, limited: `tok-${randomBytes(12).toString("hex")}` };

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(servers.map((s) => s.kill9()));
    await fake?.close();
  });

  it("shares breakers, rate limits and settled spend, and survives losing an instance", async () => {
    fake = await startOpenAIFake();
    fake.setDefault((req) => (req.body?.model === "gpt-4.1" ? { text: "never", usage: USAGE } : { text: "Lima is the capital of Peru.", usage: USAGE, delayMs: 5 }));
    const overlayFile = writeOverlay(tempDir("sb-heavy-fleet-"), {
      tenants: { [tenant]: { budget: { dailyUsd: 100 } }, [limited]: { rateLimits: { requestsPerMinute: LIMIT } } },
      router: { failover: { maxAttemptsPerModel: 1, breaker: { consecutiveFailures: 2, halfOpenAfterMs: 120_000 } } },
    });
    const env = { ...cleanEnv(), DATABASE_URL: pgUrl!, OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: fake.url, SWITCHBOARD_TOKENS: `${tenant}=${tokens.tenant},${limited}=${tokens.limited}` };
    servers.push(...(await Promise.all([0, 1, 2].map(() => startServer({ env, overlayFile })))));
    for (let i = 0; i < 6; i++) clients.push(await connectHttp(servers[i % 3]!.url, tokens.tenant, `fleet-${i}`));

    // 1. An outage seen through instance 0 opens the breaker on 1 and 2 as well.
    for (let i = 0; i < 30; i++) fake.enqueue({ model: "gpt-4.1", fault: { kind: "status", status: 503 } });
    const heldOn = [servers[1]!, servers[2]!].map((s) => s.waitForLog(/held open here too/, 60_000));
    const t0 = Date.now();
    const probes = [];
    for (let i = 0; i < 3; i++) probes.push(await callTool(clients[0]!, "run_llm", { prompt: `Outage probe ${i}`, model: DOWN, maxOutputTokens: 50 }));
    await Promise.all(heldOn);
    console.log(`fleet: breaker for ${DOWN} opened on instance 0, held open on instances 1 and 2 within ${Date.now() - t0} ms of the first probe`);
    const before = fake.requests.filter((r) => r.body?.model === "gpt-4.1").length;
    // Instance 2 never called the model, yet skips it (no request reaches the provider) and answers from a fallback.
    const skipped = await callTool(clients[2]!, "run_llm", { prompt: "Through instance 2", model: DOWN, maxOutputTokens: 50 });
    expect(fake.requests.filter((r) => r.body?.model === "gpt-4.1").length).toBe(before);
    expect(skipped.ok).toBe(true);

    // 2. The rate limit holds across the fleet: 2x the limit, sent through all three within one minute.
    const rl: Client[] = [];
    for (let i = 0; i < 3; i++) rl.push(await connectHttp(servers[i]!.url, tokens.limited, `fleet-rl-${i}`));
    clients.push(...rl);
    // Start at the top of a minute when less than 30 s of this one are left, so one window holds the burst.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 30_000) await new Promise((r) => setTimeout(r, left + 200));
    const burst = await pool(rl, LIMIT * 2, 12, (i) => runArgs(i, " (rate limited)"));
    const { codes } = tally(burst);
    console.log(`fleet: ${LIMIT * 2} calls against ${LIMIT}/min across 3 instances: ${JSON.stringify(codes)}`);
    expect(codes.ok ?? 0).toBeGreaterThanOrEqual(Math.floor(LIMIT * 0.95));
    expect(codes.ok ?? 0).toBeLessThanOrEqual(Math.ceil(LIMIT * 1.05));
    expect((codes.ok ?? 0) + (codes.rate_limited ?? 0)).toBe(LIMIT * 2);

    // 3. Kill instance 2 mid-load: the others keep answering, and every answered call's cost is settled.
    let answered = 0;
    const load = pool(clients.slice(0, 6), 120, 12, (i) => runArgs(i, " (fleet load)"), (o) => {
      if (o.ok) answered++;
      // Closing its sessions ends the calls the dead instance will never answer (no waiting for timeouts).
      if (answered === 30) void servers[2]!.kill9().then(() => Promise.all([clients[2]!, clients[5]!].map((c) => c.close().catch(() => undefined))));
    });
    const outcomes = await load;
    const t = tally(outcomes);
    console.log(`fleet: 120 calls with instance 2 killed after 30 answers: ${JSON.stringify(t.codes)}`);
    expect(t.codes.internal ?? 0).toBe(0);
    // Calls through the two live instances after the kill were answered.
    const afterKill = outcomes.slice(60).filter((o, i) => (i + 60) % 3 !== 2);
    expect(afterKill.every((o) => o.ok)).toBe(true);
    const db = await openDb({ databaseUrl: pgUrl! });
    try {
      const st = await budgetState(db, tenant);
      // Every answered call's cost is settled (one call's worth of slack: a PostgreSQL settle is sent as the answer goes back).
      const answeredAll = [...probes, skipped].reduce((s, o) => s + o.costUsd, 0) + t.answeredUsd;
      expect(st.settledUsd).toBeGreaterThanOrEqual(answeredAll - COST);
      expect(st.settledUsd).toBeLessThanOrEqual(answeredAll + 1e-9);
    } finally {
      await db.close();
    }
  }, 300_000);
});
