// The peer for overhead figures: Portkey's open-source gateway (a dev dependency), started on a
// free port and pointed at the same loopback fake as Switchboard, so both add their hop to one upstream.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** Starts the gateway; resolves once it listens. `headers(upstreamUrl)` are what route a request through it to the fake. */
export async function startPortkey() {
  const pkgDir = dirname(require.resolve("@portkey-ai/gateway/package.json"));
  const version = require("@portkey-ai/gateway/package.json").version;
  const port = await freePort();
  const child = spawn(process.execPath, [join(pkgDir, "build", "start-server.js"), `--port=${port}`], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise((resolve, reject) => {
    let out = "";
    const onData = (c) => {
      out += c;
      if (out.includes("Ready for connections")) resolve();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`portkey gateway exited (${code}): ${out.slice(-500)}`)));
  });
  child.stdout.resume();
  child.stderr.resume();
  // PORTKEY_DEBUG=1 shows the gateway's own log (it explains its 500s).
  if (process.env.PORTKEY_DEBUG) { child.stderr.on("data", (d) => process.stderr.write(d)); child.stdout.on("data", (d) => process.stderr.write(d)); }
  return {
    version,
    url: `http://127.0.0.1:${port}/v1`,
    /** Portkey's own headers: the provider's wire format and where its upstream lives. */
    headers: (upstreamUrl) => ({ "x-portkey-provider": "openai", "x-portkey-custom-host": upstreamUrl }),
    pid: child.pid,
    close: () =>
      new Promise((r) => {
        child.once("exit", r);
        child.kill("SIGTERM");
      }),
  };
}
