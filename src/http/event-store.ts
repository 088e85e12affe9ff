import type { EventStore } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

interface StoredEvent {
  seq: number;
  streamId: string;
  message: JSONRPCMessage;
}

/**
 * One session's recent server-to-client messages, so a client whose SSE stream dropped mid-call
 * (a long research or media job over a flaky network) reconnects with Last-Event-ID and gets the
 * rest, the result included, instead of losing the call. Bounded by count: a client gone longer
 * than that starts over. Event ids are `<streamId>|<seq>`.
 */
export class SessionEventStore implements EventStore {
  private readonly events: StoredEvent[] = [];
  private seq = 0;

  constructor(private readonly maxEvents = 1000) {}

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const seq = ++this.seq;
    this.events.push({ seq, streamId, message });
    if (this.events.length > this.maxEvents) this.events.shift();
    return `${streamId}|${seq}`;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return parse(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const last = parse(lastEventId);
    if (!last) return "";
    for (const e of this.events) {
      // Priming events carry an empty message: they mark a position, there is nothing to resend.
      if (e.streamId !== last.streamId || e.seq <= last.seq || !("jsonrpc" in e.message)) continue;
      await send(`${e.streamId}|${e.seq}`, e.message);
    }
    return last.streamId;
  }
}

function parse(eventId: string): { streamId: string; seq: number } | undefined {
  const i = eventId.lastIndexOf("|");
  const seq = Number(eventId.slice(i + 1));
  return i > 0 && Number.isInteger(seq) ? { streamId: eventId.slice(0, i), seq } : undefined;
}
