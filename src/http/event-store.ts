import type { EventStore } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

interface StoredEvent {
  seq: number;
  streamId: string;
  /**
   * The message as sent, serialized: a flat string is a third of what the live object graph of a
   * tool result takes (a decision with its alternatives, say), and a replay is rare. Released
   * (undefined) once the event is dropped; the record may linger in a queue a while.
   */
  json: string | undefined;
  /** Its characters: what the byte budget counts (a string holds one or two bytes per character). */
  bytes: number;
  at: number;
  owner: SessionEventStore;
}

export interface EventBudgetOptions {
  /** Events one session keeps; its oldest go first. */
  maxEventsPerSession?: number;
  /** Approximate bytes all sessions together keep; the oldest events of any session go first. */
  maxBytes?: number;
  /** An event older than this is dropped: a client that dropped its stream resumes within seconds. */
  ttlMs?: number;
  now?: () => number;
}

/** 200 events a session, 16 MB and 5 minutes in all: resuming a dropped stream needs only the recent ones. */
export const EVENT_STORE_DEFAULTS = { maxEventsPerSession: 200, maxBytes: 16 * 1024 * 1024, ttlMs: 5 * 60_000 } as const;

/**
 * The memory every session's event store shares, so resumability costs a bounded amount however
 * many sessions are open: events live in one queue, oldest first, and go when the total passes
 * `maxBytes`, when they pass `ttlMs`, when their session passes `maxEventsPerSession`, or when
 * their session ends.
 */
export class EventBudget {
  readonly maxEventsPerSession: number;
  readonly maxBytes: number;
  readonly ttlMs: number;
  readonly now: () => number;
  private queue: StoredEvent[] = [];
  private head = 0;
  /** Dropped records still in the queue; compacted once they are most of it. */
  private stale = 0;
  private total = 0;
  private live = 0;

  constructor(opts: EventBudgetOptions = {}) {
    this.maxEventsPerSession = Math.max(1, opts.maxEventsPerSession ?? EVENT_STORE_DEFAULTS.maxEventsPerSession);
    this.maxBytes = Math.max(0, opts.maxBytes ?? EVENT_STORE_DEFAULTS.maxBytes);
    this.ttlMs = Math.max(0, opts.ttlMs ?? EVENT_STORE_DEFAULTS.ttlMs);
    this.now = opts.now ?? Date.now;
  }

  /** What is held now: events and their approximate bytes. */
  usage(): { events: number; bytes: number } {
    return { events: this.live, bytes: this.total };
  }

  add(e: StoredEvent): void {
    this.queue.push(e);
    this.total += e.bytes;
    this.live++;
    this.expire(e.at);
    while (this.total > this.maxBytes && this.live > 0) this.dropHead();
  }

  /** Drops events past their time to live (also run by the HTTP server's sweeper). */
  expire(now = this.now()): void {
    const oldest = now - this.ttlMs;
    while (this.head < this.queue.length) {
      const e = this.queue[this.head]!;
      if (e.json !== undefined && e.at >= oldest) break;
      this.dropHead();
    }
  }

  /** Forgets an event dropped by its own store (session cap, session ended). */
  released(e: StoredEvent): void {
    this.total -= e.bytes;
    this.live--;
    this.stale++;
    if (this.stale > 1024 && this.stale * 2 > this.queue.length - this.head) this.compact();
  }

  private dropHead(): void {
    const e = this.queue[this.head];
    if (!e) return;
    this.queue[this.head++] = undefined as unknown as StoredEvent;
    if (e.json !== undefined) {
      e.owner.drop(e);
      this.total -= e.bytes;
      this.live--;
    } else this.stale--;
    if (this.head > 1024 && this.head * 2 > this.queue.length) this.compact();
  }

  private compact(): void {
    this.queue = this.queue.slice(this.head).filter((e) => e.json !== undefined);
    this.head = 0;
    this.stale = 0;
  }
}

/**
 * One session's recent server-to-client messages, so a client whose SSE stream dropped mid-call
 * (a long research or media job over a flaky network) reconnects with Last-Event-ID and gets the
 * rest, the result included, instead of losing the call. Bounded by the shared EventBudget: a
 * client gone longer than that starts over. Event ids are `<streamId>|<seq>`.
 *
 * Priming events (the empty event the SDK opens each stream with, so the client holds an id from
 * the start) carry nothing to resend: they take a sequence number, so a resume from one replays
 * what followed, and are not stored at all.
 */
export class SessionEventStore implements EventStore {
  private readonly events: StoredEvent[] = [];
  private head = 0;
  private seq = 0;
  private closed = false;

  constructor(private readonly budget: EventBudget = new EventBudget()) {}

  /** Events held now. */
  get size(): number {
    return this.events.length - this.head;
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const seq = ++this.seq;
    if (this.closed || !("jsonrpc" in message)) return `${streamId}|${seq}`;
    const json = JSON.stringify(message);
    const e: StoredEvent = { seq, streamId, json, bytes: json.length, at: this.budget.now(), owner: this };
    this.events.push(e);
    while (this.size > this.budget.maxEventsPerSession) {
      const oldest = this.events[this.head]!;
      this.drop(oldest);
      this.budget.released(oldest);
    }
    this.budget.add(e);
    return `${streamId}|${seq}`;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return parse(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const last = parse(lastEventId);
    if (!last) return "";
    this.budget.expire();
    // A copy: events may be dropped while a send awaits.
    for (const e of this.events.slice(this.head)) {
      if (e.streamId !== last.streamId || e.seq <= last.seq || e.json === undefined) continue;
      await send(`${e.streamId}|${e.seq}`, JSON.parse(e.json) as JSONRPCMessage);
    }
    return last.streamId;
  }

  /** Releases every event: the session ended. Later events are not kept. */
  close(): void {
    this.closed = true;
    while (this.size > 0) {
      const e = this.events[this.head]!;
      this.drop(e);
      this.budget.released(e);
    }
  }

  /**
   * Drops one event. Events go oldest first whoever drops them (this store's cap, the budget's
   * byte cap or time to live), so the dropped one is at or near this store's head.
   */
  drop(e: StoredEvent): void {
    if (e.json === undefined) return;
    e.json = undefined;
    while (this.head < this.events.length && this.events[this.head]!.json === undefined) this.head++;
    if (this.head > 64 && this.head * 2 > this.events.length) {
      this.events.splice(0, this.head);
      this.head = 0;
    }
  }
}

function parse(eventId: string): { streamId: string; seq: number } | undefined {
  const i = eventId.lastIndexOf("|");
  const seq = Number(eventId.slice(i + 1));
  return i > 0 && Number.isInteger(seq) ? { streamId: eventId.slice(0, i), seq } : undefined;
}
