import type { Logger } from "../logger.js";
import type { Db } from "./db.js";
import type { CallRecord } from "./telemetry.js";

const CHANNEL = "switchboard_calls";
/** How long records gather before they go out together. */
const GATHER_MS = 250;
/** PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more: batches are cut under it. */
const MAX_PAYLOAD = 7000;

/**
 * Every instance on one PostgreSQL tells the others about the calls it finished (prompts never
 * included), a batch every 250 ms over NOTIFY, so each dashboard's live feed shows the whole fleet.
 */
export class CallBroadcast {
  private buffer: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly db: Db,
    private readonly instance: string,
    private readonly log: Logger,
    private readonly stopListening: () => Promise<void>,
  ) {}

  /** Starts listening; `onRecords` gets the calls other instances finished. Undefined when the store cannot listen. */
  static async start(db: Db, instance: string, log: Logger, onRecords: (records: CallRecord[]) => void): Promise<CallBroadcast | undefined> {
    if (!db.listen) return undefined;
    const stop = await db.listen(CHANNEL, (payload) => {
      try {
        const m = JSON.parse(payload) as { from?: string; records?: Array<CallRecord & { at: string }> };
        if (m.from === instance || !Array.isArray(m.records)) return;
        onRecords(m.records.map((r) => ({ ...r, at: new Date(r.at) })));
      } catch {
        // not ours to read
      }
    });
    return new CallBroadcast(db, instance, log, stop);
  }

  publish(r: CallRecord): void {
    const { prompt: _prompt, ...shown } = r;
    this.buffer.push(JSON.stringify(shown));
    this.timer ??= setTimeout(() => this.flush(), GATHER_MS);
    this.timer.unref();
  }

  private flush(): void {
    this.timer = undefined;
    const items = this.buffer.splice(0);
    const head = `{"from":${JSON.stringify(this.instance)},"records":[`;
    let batch: string[] = [];
    let size = head.length + 2;
    const send = () => {
      if (!batch.length) return;
      void this.db.query("SELECT pg_notify($1, $2)", [CHANNEL, `${head}${batch.join(",")}]}`]).catch((err: unknown) =>
        this.log.debug({ err: String((err as Error)?.message ?? err) }, "could not tell other instances about finished calls"),
      );
      batch = [];
      size = head.length + 2;
    };
    for (const item of items) {
      // A record too large to go alone is left out (the store still has it).
      if (head.length + item.length + 2 > MAX_PAYLOAD) continue;
      if (size + item.length + 1 > MAX_PAYLOAD) send();
      batch.push(item);
      size += item.length + 1;
    }
    send();
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.flush();
    await this.stopListening();
  }
}
