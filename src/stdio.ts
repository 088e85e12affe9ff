import { Transform, type TransformCallback } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode, JSONRPCMessageSchema, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { Runtime } from "./runtime.js";
import { logger } from "./logger.js";
import { malformedRequest, plainlyWellFormed } from "./tools/define-tool.js";

/** Past this many bytes without a newline, lines go to the SDK unread (its own limit then applies). */
const MAX_LINE = 10 * 1024 * 1024;

/**
 * Serves MCP over stdin/stdout. Exits cleanly when the client closes stdin (the host quit)
 * and on SIGTERM/SIGINT, after closing the transport and the config watchers.
 */
export async function serveStdio(server: McpServer, runtime: Runtime): Promise<void> {
  // The SDK drops a line that is not a valid JSON-RPC message without a word, so a request with
  // `params: null` would never be answered; such lines are answered here instead.
  const lines = new AnswerMalformed((answer) => void transport.send(answer).catch(() => undefined));
  process.stdin.pipe(lines);
  const transport = new StdioServerTransport(lines, process.stdout);
  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    logger.info({ why }, "switchboard stopping");
    // Bounded: a wedged store must not keep a quitting host waiting.
    await Promise.race([runtime.close(), new Promise((r) => setTimeout(r, 3000).unref())]);
    try {
      await server.close();
    } catch {
      // Already closed by the other side.
    }
    process.exit(0);
  };
  process.stdin.on("end", () => void shutdown("stdin closed"));
  process.stdin.on("close", () => void shutdown("stdin closed"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  await server.connect(transport);
  logger.info({ configVersion: runtime.configVersion }, "switchboard serving on stdio");
}

/**
 * Newline-delimited JSON-RPC in, the same lines out, minus the ones the SDK could not read:
 * invalid JSON is answered with -32700, and a request (it has an id and a method) that is not a
 * valid message with -32602 (params not an object) or -32600, under its id.
 */
export class AnswerMalformed extends Transform {
  private pending = "";
  private skipping = false;
  private readonly decoder = new StringDecoder("utf8");

  constructor(private readonly answer: (message: JSONRPCMessage) => void) {
    super();
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, done: TransformCallback): void {
    let text = typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    if (this.skipping) {
      const nl = text.indexOf("\n");
      if (nl < 0) return done(null, text);
      this.push(text.slice(0, nl + 1));
      this.skipping = false;
      text = text.slice(nl + 1);
    }
    this.pending += text;
    let nl: number;
    while ((nl = this.pending.indexOf("\n")) >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      this.line(line);
    }
    if (this.pending.length > MAX_LINE) {
      this.push(this.pending);
      this.pending = "";
      this.skipping = true;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    const rest = this.pending + this.decoder.end();
    this.pending = "";
    if (rest.trim()) this.push(rest);
    done();
  }

  private line(raw: string): void {
    const line = raw.replace(/\r$/, "");
    if (!line.trim()) return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      logger.warn({ bytes: line.length }, "stdin line is not JSON; answered with a parse error");
      this.answer({ jsonrpc: "2.0", error: { code: ErrorCode.ParseError, message: "Parse error: the line is not JSON" } } as JSONRPCMessage);
      return;
    }
    if (plainlyWellFormed(message) || JSONRPCMessageSchema.safeParse(message).success) {
      this.push(line + "\n");
      return;
    }
    const answer = malformedRequest(message);
    if (answer) {
      logger.warn({ method: String((message as { method: unknown }).method).slice(0, 100) }, "malformed JSON-RPC request answered with an error");
      this.answer(answer);
    } else this.push(line + "\n"); // Not a request: the SDK reports it and nothing waits for an answer.
  }
}
