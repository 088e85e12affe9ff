// A separate Switchboard-like process for the two-process budget race: reserves and settles
// `count` calls of `amount` against one tenant on a shared PostgreSQL, prints how many got through.
// With a 6th argument "mixed": the tenant also has a monthly ceiling and the global ceilings apply
// (several rows locked per call), each call settles to a seeded share of its reservation (some fail
// and release), calls wait for settles as the guard does, and every error is reported by its code.
import { openDb } from "../../dist/store/db.js";
import { Budgets } from "../../dist/budgets/ledger.js";

const [url, tenant, limit, amount, count, mode] = process.argv.slice(2);
const mixed = mode === "mixed";
const db = await openDb({ databaseUrl: url });
const budget = mixed ? { dailyUsd: Number(limit), monthlyUsd: Number(limit) * 10 } : { dailyUsd: Number(limit) };
const global = mixed ? { dailyUsd: 1e9, monthlyUsd: 1e10 } : {};
const budgets = new Budgets(db, () => ({ tenants: { [tenant]: { budget } }, budgets: { global, degradeAt: 0.8, inputMargin: 1.25, waitMs: mixed ? 3000 : 0 } }));
let seed = Number(process.pid) % 9973;
const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
// Start together: wait for the parent's go on stdin.
await new Promise((res) => process.stdin.once("data", res));
const results = await Promise.allSettled(
  Array.from({ length: Number(count) }, async () => {
    const r = await budgets.reserve(tenant, Number(amount), { leaseMs: 60000 });
    const share = mixed ? (rand() < 0.1 ? 0 : 0.2 + 0.8 * rand()) : 1;
    await new Promise((res) => setImmediate(res));
    return budgets.settle(r, Number(amount) * share);
  }),
);
const errors = {};
for (const r of results) if (r.status === "rejected") errors[r.reason?.body?.code ?? `raw: ${r.reason?.message}`] = (errors[String(r.reason?.body?.code ?? `raw: ${r.reason?.message}`)] ?? 0) + 1;
process.stdout.write(
  JSON.stringify({
    ok: results.filter((r) => r.status === "fulfilled").length,
    refused: results.filter((r) => r.status === "rejected" && r.reason?.body?.code === "budget_exceeded").length,
    settledUsd: results.reduce((s, r) => s + (r.status === "fulfilled" ? r.value : 0), 0),
    errors,
  }) + "\n",
);
await db.close();
