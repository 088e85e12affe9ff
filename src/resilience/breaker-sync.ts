import type { Logger } from "../logger.js";
import type { Db } from "../store/db.js";
import type { BreakerBoard } from "./breakers.js";

const CHANNEL = "switchboard_breakers";
/** How long a hold may last whatever a message says (a bad message cannot hold a model out for long). */
const MAX_HOLD_MS = 10 * 60_000;

/**
 * Shares breaker openings between the instances on one PostgreSQL: when a breaker opens here,
 * every other instance holds the same model's breaker open for as long (LISTEN/NOTIFY, no new
 * infrastructure), so the fleet stops calling a provider that one instance has found down.
 * Resolves with the function that stops sharing.
 */
export async function shareBreakers(board: BreakerBoard, db: Db, instance: string, log: Logger): Promise<() => Promise<void>> {
  if (!db.listen) return async () => undefined;
  const stopListening = await db.listen(CHANNEL, (payload) => {
    let m: { id?: unknown; forMs?: unknown; from?: unknown };
    try {
      m = JSON.parse(payload) as typeof m;
    } catch {
      return;
    }
    if (m.from === instance || typeof m.id !== "string") return;
    const forMs = Math.min(MAX_HOLD_MS, Math.max(1000, Number(m.forMs) || 0));
    log.info({ breaker: m.id, from: m.from, forMs }, "circuit opened on another instance; held open here too");
    board.holdOpen(m.id, forMs);
  });
  const off = board.onOpen((id, forMs) => {
    void db.query("SELECT pg_notify($1, $2)", [CHANNEL, JSON.stringify({ id, forMs, from: instance })]).catch((err: unknown) =>
      log.warn({ breaker: id, err: String((err as Error)?.message ?? err) }, "could not tell other instances that a circuit opened"),
    );
  });
  return async () => {
    off();
    await stopListening();
  };
}
