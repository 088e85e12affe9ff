import type { ToolCallDelta } from "../../providers/types.js";

/** A streamed call's first piece that can open its block: its id (possibly empty), its name, the arguments so far. */
export interface OpenedCall {
  id: string;
  name: string;
  args: string;
}

/**
 * Holds a streamed tool call's pieces until its name is known: some OpenAI-compatible providers
 * send the id, the name and the first arguments in separate pieces, and a client's block or item
 * for the call can open only with its name. `take` returns the call once it can open (with what
 * was held), and nothing before; after that, its later pieces' arguments come straight through.
 */
export class NamedCalls {
  private readonly opened = new Set<number>();
  private readonly held = new Map<number, OpenedCall>();

  take(d: ToolCallDelta): { open: OpenedCall } | { args: string } | undefined {
    if (this.opened.has(d.index)) return d.arguments ? { args: d.arguments } : undefined;
    const held = this.held.get(d.index) ?? { id: "", name: "", args: "" };
    held.id ||= d.id ?? "";
    held.name += d.name ?? "";
    held.args += d.arguments ?? "";
    if (!held.name) {
      this.held.set(d.index, held);
      return undefined;
    }
    this.held.delete(d.index);
    this.opened.add(d.index);
    return { open: held };
  }
}
