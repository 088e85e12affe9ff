import { logger } from "../logger.js";

/**
 * The provider SDKs log through console by default, which on the stdio transport would write
 * into the protocol stream. They get this pino-backed logger instead (stderr only).
 */
const sdkLog = logger.child({ component: "provider-sdk" });
const forward =
  (level: "error" | "warn" | "info" | "debug") =>
  (message: string, ...rest: unknown[]) =>
    sdkLog[level]({ detail: rest.length ? rest.map((r) => (r instanceof Error ? r.message : r)) : undefined }, message);

export const sdkLogger = { error: forward("error"), warn: forward("warn"), info: forward("info"), debug: forward("debug") };
