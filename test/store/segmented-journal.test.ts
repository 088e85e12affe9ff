// The journal both the telemetry import and the budget's write-behind stand on: appends survive in
// order across seals, a line a crash cut short is skipped, and a removed segment is gone.
import { describe, expect, it } from "vitest";
import { appendFileSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { SegmentedJournal } from "../../src/store/segmented-journal.js";

describe("segmented journal", () => {
  it("seals appends into ordered segments, skips a torn last line, and streams batches", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-journal-"));
    const j = new SegmentedJournal<{ n: number }>(dir, "things");
    expect(j.seal()).toBeUndefined();
    for (let n = 1; n <= 3; n++) j.append({ n });
    const first = j.seal()!;
    j.append({ n: 4 });
    j.close();
    // A crash mid-append leaves a line without its end.
    appendFileSync(join(dir, "things.jsonl"), '{"n": 5, "tor');
    const second = j.seal()!;
    expect(j.segments()).toEqual([first, second]);
    expect(j.read(first).map((e) => e.n)).toEqual([1, 2, 3]);
    expect(j.read(second).map((e) => e.n)).toEqual([4]);
    const batches: number[][] = [];
    for await (const b of j.batches(first, 2)) batches.push(b.map((e) => e.n));
    expect(batches).toEqual([[1, 2], [3]]);
    j.remove(first);
    expect(j.segments()).toEqual([second]);
    // Another journal's files in the same folder are not this one's.
    new SegmentedJournal<{ n: number }>(dir, "others").append({ n: 9 });
    expect(readdirSync(dir).sort()).toEqual(["others.jsonl", basename(second)]);
    expect(j.segments()).toEqual([second]);
  });
});
