import { SegmentedJournal } from "./segmented-journal.js";

/**
 * Call records on disk until the embedded store takes them. Writing each batch straight into
 * PGlite kept its WebAssembly PostgreSQL awake (about 80 MB resident, and a worker thread's CPU)
 * through every burst of calls; appending a line to a file costs one system call, survives a
 * killed process, and lets the store sleep until the calls stop. Rows are kept in the shape the
 * INSERT reads (column name to value); an import stores each sealed segment and then removes it.
 */
export class TelemetryJournal extends SegmentedJournal<Record<string, unknown>> {
  constructor(dir: string) {
    super(dir, "telemetry");
  }
}
