import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

const LIVE = "telemetry.jsonl";
const SEGMENT = /^telemetry\.\d+\.jsonl$/;

/**
 * Call records on disk until the embedded store takes them. Writing each batch straight into
 * PGlite kept its WebAssembly PostgreSQL awake (about 80 MB resident, and a worker thread's CPU)
 * through every burst of calls; appending a line to a file costs one system call, survives a
 * killed process, and lets the store sleep until the calls stop. Rows are kept in the shape the
 * INSERT reads (column name to value). `seal` turns the live file into a numbered segment that an
 * import reads and deletes once stored; segments left by a crash are imported at the next start.
 */
export class TelemetryJournal {
  private fd: number | undefined;
  private seq = 0;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  append(row: Record<string, unknown>): void {
    this.fd ??= openSync(join(this.dir, LIVE), "a");
    writeSync(this.fd, JSON.stringify(row) + "\n");
  }

  /** Closes the live file into a segment (if it holds anything); returns every segment, oldest first. */
  seal(): string[] {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    const live = join(this.dir, LIVE);
    if (existsSync(live)) renameSync(live, join(this.dir, `telemetry.${Date.now()}${String(this.seq++).padStart(4, "0")}.jsonl`));
    return this.segments();
  }

  /** Segments waiting to be imported (a crashed process's included). */
  segments(): string[] {
    return readdirSync(this.dir)
      .filter((f) => SEGMENT.test(f))
      .sort()
      .map((f) => join(this.dir, f));
  }

  /** A segment's rows in batches of `size`; a line cut short by a crash is skipped. */
  async *batches(segment: string, size: number): AsyncGenerator<Record<string, unknown>[]> {
    let batch: Record<string, unknown>[] = [];
    for await (const line of createInterface({ input: createReadStream(segment, "utf8"), crlfDelay: Infinity })) {
      if (!line) continue;
      try {
        batch.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        continue;
      }
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }

  remove(segment: string): void {
    unlinkSync(segment);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
