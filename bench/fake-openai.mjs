// A minimal OpenAI-compatible chat endpoint for benchmarks: fixed answer, or 503 while `down`.
// Streamed requests get the answer in five chunks, `state.chunkGapMs` apart (the first at once).
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

export async function startBenchFake() {
  const state = { down: false, requests: 0, chunkGapMs: 0 };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      state.requests++;
      if (state.down) {
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "overloaded", type: "server_error", param: null, code: null } }));
        return;
      }
      const { model, stream } = JSON.parse(body || "{}");
      if (stream) return streamAnswer(res, model, state.chunkGapMs);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "chatcmpl-bench",
          object: "chat.completion",
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [{ index: 0, message: { role: "assistant", content: "Lima is the capital of Peru.", refusal: null }, finish_reason: "stop", logprobs: null }],
          usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
        }),
      );
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/v1`, state, close: () => new Promise((r) => server.close(r)) };
}

const PIECES = ["Lima ", "is ", "the capital ", "of ", "Peru."];

function streamAnswer(res, model, gapMs) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const base = { id: "chatcmpl-bench", object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model, system_fingerprint: null };
  const send = (choices, extra = {}) => res.write(`data: ${JSON.stringify({ ...base, choices, ...extra })}\n\n`);
  send([{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]);
  let i = 0;
  const next = () => {
    if (i < PIECES.length) {
      send([{ index: 0, delta: { content: PIECES[i++] }, logprobs: null, finish_reason: null }]);
      return gapMs ? setTimeout(next, gapMs) : next();
    }
    send([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }]);
    send([], { usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 } });
    res.end("data: [DONE]\n\n");
  };
  next();
}

/**
 * The same fake in a process of its own, as a real upstream is: a client that shares its process
 * with the fake would see a first token with no process hop at all, a floor no real deployment has.
 * `set(patch)` changes its state (down, chunkGapMs) and resolves once applied.
 */
export async function startBenchFakeProcess() {
  const { fork } = await import("node:child_process");
  const child = fork(fileURLToPath(import.meta.url), ["--serve"], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const url = await new Promise((resolve, reject) => {
    child.once("message", (m) => resolve(m.url));
    child.once("exit", (code) => reject(new Error(`the fake upstream exited early (code ${code})`)));
  });
  return {
    url,
    set: (patch) =>
      new Promise((resolve) => {
        child.once("message", resolve);
        child.send({ patch });
      }),
    close: () =>
      new Promise((resolve) => {
        child.once("exit", resolve);
        child.send({ close: true });
      }),
  };
}

if (process.argv[2] === "--serve" && process.send) {
  const fake = await startBenchFake();
  process.on("message", (m) => {
    if (m.patch) {
      Object.assign(fake.state, m.patch);
      process.send({ ok: true });
    }
    // Clients may still hold keep-alive connections: nothing to wait for.
    if (m.close) process.exit(0);
  });
  process.send({ url: fake.url });
}
