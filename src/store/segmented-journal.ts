import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

/**
 * Entries on disk until a store takes them: one JSON line appended per entry to a live file kept
 * open between appends (one system call each, and a killed process loses nothing the OS was
 * given). `seal` renames the live file into a numbered segment for its reader to store and then
 * remove; segments a crash left behind are there for the next start. A line cut short by a crash
 * is skipped when read: its writer never returned.
 */
export class SegmentedJournal<T> {
  /** The live file, open for appending since the last seal. */
  private fd: number | undefined;
  private seq = 0;
  private readonly live: string;
  private readonly segment: RegExp;

  constructor(
    readonly dir: string,
    private readonly name: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.live = join(dir, `${name}.jsonl`);
    this.segment = new RegExp(`^${name}\\.\\d+\\.jsonl$`);
  }

  append(entry: T): void {
    this.fd ??= openSync(this.live, "a");
    writeSync(this.fd, JSON.stringify(entry) + "\n");
  }

  /** Seals what has been appended so far into a segment; returns its path, or undefined when nothing was. */
  seal(): string | undefined {
    this.close();
    if (!existsSync(this.live)) return undefined;
    const seg = join(this.dir, `${this.name}.${Date.now()}${String(this.seq++).padStart(4, "0")}.jsonl`);
    renameSync(this.live, seg);
    return seg;
  }

  /** Sealed segments not yet removed (a crashed process's included), oldest first. */
  segments(): string[] {
    return readdirSync(this.dir)
      .filter((f) => this.segment.test(f))
      .sort()
      .map((f) => join(this.dir, f));
  }

  /** A segment's entries, read whole. */
  read(segment: string): T[] {
    const entries: T[] = [];
    for (const line of readFileSync(segment, "utf8").split("\n")) {
      const e = parseLine<T>(line);
      if (e !== undefined) entries.push(e);
    }
    return entries;
  }

  /** A segment's entries in batches of `size`, streamed: an import after a long burst need not hold it all. */
  async *batches(segment: string, size: number): AsyncGenerator<T[]> {
    let batch: T[] = [];
    for await (const line of createInterface({ input: createReadStream(segment, "utf8"), crlfDelay: Infinity })) {
      const e = parseLine<T>(line);
      if (e === undefined) continue;
      batch.push(e);
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

  /** Closes the live file (the next append opens it again). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** A journal line's entry; undefined for a blank line or one a crash cut short. */
function parseLine<T>(line: string): T | undefined {
  if (!line.trim()) return undefined;
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}
