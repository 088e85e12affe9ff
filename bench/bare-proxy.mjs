// The floor of any gateway on this machine: a bare Node HTTP proxy in a process of its own that
// pipes each request to the upstream over a keep-alive connection and its answer straight back,
// with no parsing, no auth, no decision. What it adds to a call or to the first streamed token is
// the hop itself (one more process, two more loopback sockets), which no gateway can avoid.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Starts the proxy in front of `upstreamUrl` (whose path, e.g. /v1, replaces the request's /v1). */
export async function startBareProxy(upstreamUrl) {
  const child = fork(fileURLToPath(import.meta.url), ["--serve", upstreamUrl], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const port = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`the bare proxy exited early (code ${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise((resolve) => {
        child.once("exit", resolve);
        child.kill();
      }),
  };
}

if (process.argv[2] === "--serve" && process.send) {
  const http = await import("node:http");
  const agent = new http.Agent({ keepAlive: true });
  const up = new URL(process.argv[3]);
  const base = up.pathname.replace(/\/$/, "");
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const headers = { ...req.headers, host: up.host, "content-length": String(body.length) };
      const out = http.request({ host: up.hostname, port: up.port, method: req.method, path: base + req.url.replace(/^\/v1/, ""), headers, agent }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on("error", () => res.destroy());
      out.end(body);
    });
  });
  server.listen(0, "127.0.0.1", () => process.send(server.address().port));
}
