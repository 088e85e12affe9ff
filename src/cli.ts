#!/usr/bin/env node
import { parseArgs } from "node:util";
import { ConfigError } from "./config/load.js";
import { SwitchboardError } from "./errors.js";
import { Runtime } from "./runtime.js";
import { err, out } from "./cli/output.js";
import { PACKAGE_VERSION } from "./version.js";

/** How long after stdio serving starts the store begins to open in the background. */
const STORE_WARM_DELAY_MS = 1500;

const HELP = `switchboard ${PACKAGE_VERSION}: route agent jobs to the right model and provider.

Usage:
  switchboard serve [--config FILE] [--no-watch] [--no-store]  MCP server on stdio (the default command)
  switchboard serve --http [--host H] [--port P] [--stateless]
                                                           MCP over HTTP (/mcp, legacy /sse), /dashboard, /metrics
  switchboard route "<prompt>" [options] [--json]          decide and explain, no model is called
  switchboard route --batch FILE.jsonl [--out FILE]        one JSON decision per input row
  switchboard eval FILE.jsonl [--json] [--group-by FIELD]  task-type accuracy, macro-F1, confusion;
                                                          outcome rows (weakCorrect, strongCorrect): deferral curve, APGR
  switchboard report [--tenant T] [--days N] [--json]       usage and spend from the store
  switchboard simulate --data FILE.jsonl [--per-day 1000,10000,100000] [--json]
                                                           price a workload routed vs always-premium
  switchboard config validate [FILE]                       check the shipped config plus FILE

Route options:
  --mode M  --tenant T  --task-type T  --model provider:model  --latency interactive|background
  --cost-sensitivity low|medium|high  --context-tokens N  --max-output-tokens N

Every command takes --config FILE (or env SWITCHBOARD_CONFIG) to overlay your own config.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string" },
      json: { type: "boolean" },
      batch: { type: "string" },
      out: { type: "string" },
      mode: { type: "string" },
      tenant: { type: "string" },
      "task-type": { type: "string" },
      model: { type: "string" },
      latency: { type: "string" },
      "cost-sensitivity": { type: "string" },
      "context-tokens": { type: "string" },
      "max-output-tokens": { type: "string" },
      "group-by": { type: "string" },
      data: { type: "string" },
      "per-day": { type: "string" },
      days: { type: "string" },
      "no-watch": { type: "boolean" },
      "no-store": { type: "boolean" },
      "bench-echo": { type: "boolean" },
      http: { type: "boolean" },
      host: { type: "string" },
      port: { type: "string" },
      stateless: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  });
  if (values.help) return out(HELP), 0;
  if (values.version) return out(PACKAGE_VERSION), 0;
  const [command = "serve", ...rest] = positionals;

  switch (command) {
    case "serve": {
      // Flags first: a bad one must fail before the store and watchers hold the process open.
      const port = values.port !== undefined ? parsePort(values.port) : undefined;
      const runtime = new Runtime({ overlayFile: values.config, store: values["no-store"] ? false : {} });
      if (!values["no-watch"]) runtime.watch();
      if (values.http) {
        runtime.warm();
        const { serveHttp } = await import("./cli/serve-http.js");
        await serveHttp(runtime, {
          ...(values.host ? { host: values.host } : {}),
          ...(port !== undefined ? { port } : {}),
          ...(values.stateless ? { stateless: true } : {}),
          benchEcho: values["bench-echo"],
        });
        // Listening: load the code the tools run before the first client needs it.
        const { preloadJobs } = await import("./tools/index.js");
        preloadJobs().catch(() => undefined);
        return -1;
      }
      const [{ createServer }, { serveStdio }, { preloadJobs }] = await Promise.all([import("./server.js"), import("./stdio.js"), import("./tools/index.js")]);
      const { server } = createServer({ runtime, benchEcho: values["bench-echo"] });
      await serveStdio(server, runtime);
      // The store opens once the host has connected and listed the tools, not while it waits for
      // them: PGlite's start-up takes a second of CPU, on a host that may have two cores. A call
      // that needs the store before then opens it itself.
      // So does the code the tools run, which the first tools/list and route_task never need.
      setTimeout(() => {
        runtime.warm();
        // A module that fails to load fails again, and is reported, on the tool's own first run.
        preloadJobs().catch(() => undefined);
      }, STORE_WARM_DELAY_MS).unref();
      return -1; // keeps running
    }
    // Each command loads its own code: serving never pays for the others.
    case "route": {
      const { runRoute } = await import("./cli/route.js");
      return runRoute(new Runtime({ overlayFile: values.config }), rest.join(" "), values);
    }
    case "eval": {
      if (!rest[0]) throw new UsageError("eval needs a JSONL file: switchboard eval FILE.jsonl");
      const { runEval } = await import("./cli/eval.js");
      return runEval(new Runtime({ overlayFile: values.config }), rest[0], values);
    }
    case "report": {
      const { runReport } = await import("./cli/report.js");
      return runReport(new Runtime({ overlayFile: values.config, store: {} }), values);
    }
    case "simulate": {
      const { runSimulate } = await import("./cli/simulate.js");
      return runSimulate(new Runtime({ overlayFile: values.config }), values);
    }
    case "config": {
      if (rest[0] !== "validate") throw new UsageError("unknown config command; use: switchboard config validate [FILE]");
      const { runConfigValidate } = await import("./cli/config.js");
      return runConfigValidate(rest[1] ?? values.config);
    }
    default:
      throw new UsageError(`unknown command "${command}"; commands: serve, route, eval, report, simulate, config validate`);
  }
}

class UsageError extends Error {}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, not "${v}"`);
  return n;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof ConfigError) err(e.message);
    else if (e instanceof SwitchboardError) err(JSON.stringify({ error: e.body }, null, 2));
    else if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) err(`${(e as Error).message}\n\n${HELP}`);
    else err(`switchboard: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 2;
  },
);
