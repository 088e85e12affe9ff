// A separate Switchboard-like process for the two-process budget race: reserves and settles
// `count` calls of `amount` against one tenant on a shared PostgreSQL, prints how many got through.
import { openDb } from "../../dist/store/db.js";
import { Budgets } from "../../dist/budgets/ledger.js";

const [url, tenant, limit, amount, count] = process.argv.slice(2);
const db = await openDb({ databaseUrl: url });
const budgets = new Budgets(db, () => ({ tenants: { [tenant]: { budget: { dailyUsd: Number(limit) } } }, budgets: { global: {}, degradeAt: 0.8, inputMargin: 1.25 } }));
// Start together: wait for the parent's go on stdin.
await new Promise((res) => process.stdin.once("data", res));
const results = await Promise.allSettled(Array.from({ length: Number(count) }, async () => budgets.settle(await budgets.reserve(tenant, Number(amount)), Number(amount))));
process.stdout.write(JSON.stringify({ ok: results.filter((r) => r.status === "fulfilled").length, refused: results.filter((r) => r.status === "rejected" && r.reason?.body?.code === "budget_exceeded").length }) + "\n");
await db.close();
