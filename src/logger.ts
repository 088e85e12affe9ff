import pino from "pino";

/**
 * Logs go to stderr (fd 2) only: stdout carries the MCP protocol on the stdio transport.
 * Anything that looks like a credential is redacted by key name.
 */
export const logger = pino(
  {
    name: "switchboard",
    level: process.env.SWITCHBOARD_LOG_LEVEL ?? process.env.LOG_LEVEL ?? "info",
    redact: {
      paths: ["*.apiKey", "*.authorization", "*.Authorization", "*.token", "*.key", "apiKey", "authorization", "headers.authorization"],
      censor: "[redacted]",
    },
  },
  pino.destination({ fd: 2, sync: true }),
);

export type Logger = typeof logger;
