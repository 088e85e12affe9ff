import { Writable } from "node:stream";
import pino from "pino";
import type { Logger } from "../../src/logger.js";

/** A pino logger whose JSON lines land in `lines`, so tests can assert on what was logged. */
export function captureLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: "debug" }, sink) as unknown as Logger, lines };
}
