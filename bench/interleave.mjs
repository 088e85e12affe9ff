// Times several ways of making the same call, interleaved call by call so that a busy moment of
// the machine falls on all of them alike.
export const quantile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

/**
 * Runs `warmup` rounds, then `repeats` repeats of `calls` rounds (each round calls every way once,
 * starting one further along each time, so no way always follows the same one: a peer still busy
 * after its answer would otherwise slow whichever way comes next) and returns, per repeat, each
 * way's p50 and p99 in ms.
 */
export async function interleaved(ways, { repeats, calls, warmup }) {
  const names = Object.keys(ways);
  for (let i = 0; i < warmup; i++) for (const n of names) await ways[n]();
  const reps = [];
  for (let rep = 0; rep < repeats; rep++) {
    const t = Object.fromEntries(names.map((n) => [n, []]));
    for (let i = 0; i < calls; i++) {
      for (let k = 0; k < names.length; k++) {
        const n = names[(i + k) % names.length];
        const t0 = performance.now();
        await ways[n]();
        t[n].push(performance.now() - t0);
      }
    }
    reps.push(Object.fromEntries(names.map((n) => [n, { p50: quantile(t[n], 0.5), p99: quantile(t[n], 0.99) }])));
  }
  return reps;
}
