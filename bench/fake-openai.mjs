// A minimal OpenAI-compatible chat endpoint for benchmarks: fixed answer, or 503 while `down`.
import { createServer } from "node:http";

export async function startBenchFake() {
  const state = { down: false, requests: 0 };
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
      const { model } = JSON.parse(body || "{}");
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
