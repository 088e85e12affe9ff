// How fast a breaker opening travels between instances on one PostgreSQL (LISTEN/NOTIFY): three
// runtimes, each on its own connections; one breaks a model open by its own failures and the time
// until both others hold it open is measured, 30 times. Needs a PostgreSQL (SWITCHBOARD_TEST_DATABASE_URL
// or DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test); without one it says so and skips.
import { reachablePgUrl } from "./pg.mjs";
import { Runtime } from "../dist/runtime.js";
import { ProviderFailure } from "../dist/providers/errors.js";

const GOAL_MS = 1000;
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];


export async function benchFleet({ rounds = 30 } = {}) {
  const url = await reachablePgUrl();
  if (!url) {
    console.log("breaker propagation between instances: skipped (no PostgreSQL at SWITCHBOARD_TEST_DATABASE_URL, DATABASE_URL or 127.0.0.1:5432/test)");
    return undefined;
  }
  const runtimes = [0, 1, 2].map(() => new Runtime({ env: {}, store: { databaseUrl: url } }));
  await Promise.all(runtimes.map((r) => r.shareBreakers()));
  const [a, b, c] = runtimes;
  const fail = () => Promise.reject(new ProviderFailure("provider_unavailable", "down", true));
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const id = `bench:model-${Date.now()}-${i}`;
    const held = (r) => new Promise((resolve) => r.breakers.onHeld((x) => x === id && resolve(performance.now())));
    const waits = [held(b), held(c)];
    const opened = new Promise((resolve) => a.breakers.onOpen((x) => x === id && resolve(performance.now())));
    for (let k = 0; k < 10 && !a.breakers.isOpen(id); k++) await a.breakers.get(id).execute(fail).catch(() => undefined);
    const t0 = await opened;
    times.push(Math.max(...(await Promise.all(waits))) - t0);
  }
  for (const r of runtimes) await r.close();
  const p50 = q(times, 0.5);
  const max = Math.max(...times);
  console.log(
    `breaker propagation between instances (PostgreSQL LISTEN/NOTIFY, 3 instances, ${rounds} openings): p50 ${p50.toFixed(2)} ms, max ${max.toFixed(2)} ms (goal < ${GOAL_MS} ms: ${max < GOAL_MS ? "ok" : "MISSED"})`,
  );
  return { p50, max };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchFleet();
