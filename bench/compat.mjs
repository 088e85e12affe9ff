// The OpenAI-compatible endpoints (`serve --http`, POST /v1/chat/completions and /v1/responses) against the same loopback
// fake, side by side in one run: a direct OpenAI SDK call (the upstream), a bare Node proxy (the
// floor any gateway adds: the hop alone), the Portkey gateway, and Switchboard with its store and
// budgets on. Added latency of whole answers, and time to the first
// streamed token next to the upstream's own. The fake runs in a process of its own, as a real
// upstream does: in the client's process its first token crossed no process boundary at all.
import OpenAI from "openai";
import { startBenchFakeProcess } from "./fake-openai.mjs";
import { startPortkey } from "./portkey.mjs";
import { startBareProxy } from "./bare-proxy.mjs";
import { startServer, stopServer, TOKEN } from "./http.mjs";
import { interleaved, quantile as q } from "./interleave.mjs";

const REPEATS = 3;
const CALLS = Number(process.env.BENCH_COMPAT_CALLS ?? 300);
const STREAMS = Number(process.env.BENCH_COMPAT_STREAMS ?? 100);
/** Between streamed chunks, so the first token is a moment of its own. */
const CHUNK_GAP_MS = 5;
const median = (xs) => q(xs, 0.5);
const fmt = (n) => (Math.abs(n) < 1 ? n.toFixed(3) : n.toFixed(2));

/** Time to the first non-empty content delta. */
async function firstToken(client, body) {
  const t0 = performance.now();
  const stream = await client.chat.completions.create({ ...body, stream: true });
  let first;
  for await (const chunk of stream) if (first === undefined && chunk.choices[0]?.delta?.content) first = performance.now() - t0;
  if (first === undefined) throw new Error("the stream carried no text");
  return first;
}

export async function benchCompat() {
  // The upstream runs in its own process, as a real one does (see startBenchFakeProcess).
  const fake = await startBenchFakeProcess();
  const portkey = await startPortkey();
  const bare = await startBareProxy(fake.url);
  const sb = await startServer("switchboard", false, { OPENAI_API_KEY: "bench-key", OPENAI_BASE_URL: fake.url, SWITCHBOARD_LOG_LEVEL: "info" });
  try {
    const clients = {
      direct: new OpenAI({ apiKey: "bench-key", baseURL: fake.url, maxRetries: 0 }),
      bare: new OpenAI({ apiKey: "bench-key", baseURL: bare.url, maxRetries: 0 }),
      portkey: new OpenAI({ apiKey: "bench-key", baseURL: portkey.url, maxRetries: 0, defaultHeaders: portkey.headers(fake.url) }),
      switchboard: new OpenAI({ apiKey: TOKEN, baseURL: `${sb.url}/v1`, maxRetries: 0 }),
    };
    const body = { model: "gpt-4.1-mini", messages: [{ role: "user", content: "What is the capital of Peru?" }], max_completion_tokens: 64 };
    const ways = {
      direct: () => clients.direct.chat.completions.create(body),
      // The floor: a bare proxy's hop, with nothing a gateway does (bench/bare-proxy.mjs).
      bare: () => clients.bare.chat.completions.create(body),
      portkey: () => clients.portkey.chat.completions.create(body),
      // The same model named explicitly, and routed ("auto"): the router's own cost shows apart.
      switchboard: () => clients.switchboard.chat.completions.create({ ...body, model: "openai:gpt-4.1-mini" }),
      routed: () => clients.switchboard.chat.completions.create({ ...body, model: "auto" }),
      // The Responses API on the same model: what translating it to the provider's chat call costs.
      responses: () => clients.switchboard.responses.create({ model: "openai:gpt-4.1-mini", input: body.messages[0].content, max_output_tokens: body.max_completion_tokens }),
    };
    const reps = await interleaved(ways, { repeats: REPEATS, calls: CALLS, warmup: 100 });
    const added = (n, p) => median(reps.map((r) => r[n][p] - r.direct[p]));

    await fake.set({ chunkGapMs: CHUNK_GAP_MS });
    const ttft = { direct: [], bare: [], portkey: [], switchboard: [] };
    // Portkey 1.15.2 answers every streamed request 500 under Node 20 (its header rewrite throws
    // "immutable" on undici's response headers; PORTKEY_DEBUG=1 shows it): then it is left out here.
    const portkeyStreams = await firstToken(clients.portkey, body).then(
      () => true,
      (e) => (console.log(`  (Portkey cannot stream here: ${e.status ?? ""} ${e.message}; left out of time to first token)`), false),
    );
    for (let i = 0; i < STREAMS; i++) {
      ttft.direct.push(await firstToken(clients.direct, body));
      ttft.bare.push(await firstToken(clients.bare, body));
      if (portkeyStreams) ttft.portkey.push(await firstToken(clients.portkey, body));
      ttft.switchboard.push(await firstToken(clients.switchboard, { ...body, model: "openai:gpt-4.1-mini" }));
    }
    const ok = (mine, peer) => (mine <= peer ? "≤ Portkey: ok" : "> Portkey: MISSED");
    const sbAdded = { p50: added("switchboard", "p50"), p99: added("switchboard", "p99") };
    const pk = { p50: added("portkey", "p50"), p99: added("portkey", "p99") };
    const ttftAdded = median(ttft.switchboard) - median(ttft.direct);
    console.log(
      `POST /v1/chat/completions added over a direct SDK call (direct p50 ${fmt(median(reps.map((r) => r.direct.p50)))} ms; median of ${REPEATS} interleaved repeats of ${CALLS}):\n` +
        `  floor: a bare Node proxy (no parsing):          +${fmt(added("bare", "p50"))} ms p50  +${fmt(added("bare", "p99"))} ms p99\n` +
        `  Portkey gateway ${portkey.version}:                 +${fmt(pk.p50)} ms p50  +${fmt(pk.p99)} ms p99\n` +
        `  Switchboard, model named, store + budgets on:  +${fmt(sbAdded.p50)} ms p50  +${fmt(sbAdded.p99)} ms p99  (goal: p50 ${ok(sbAdded.p50, pk.p50)})\n` +
        `  Switchboard, model "auto" (routed):            +${fmt(added("routed", "p50"))} ms p50  +${fmt(added("routed", "p99"))} ms p99\n` +
        `  Switchboard POST /v1/responses, model named:   +${fmt(added("responses", "p50"))} ms p50  +${fmt(added("responses", "p99"))} ms p99\n` +
        `  time to first token, p50 of ${STREAMS} streams: upstream ${fmt(median(ttft.direct))} ms | bare proxy +${fmt(median(ttft.bare) - median(ttft.direct))} ms | Portkey ${portkeyStreams ? `${fmt(median(ttft.portkey))} ms` : "n/a"} | Switchboard ${fmt(median(ttft.switchboard))} ms ` +
        `(+${fmt(ttftAdded)} ms; goal within 2 ms: ${ttftAdded <= 2 ? "ok" : "MISSED"})`,
    );
    return { portkey: pk, switchboard: sbAdded, ttftAddedMs: ttftAdded, ttftFloorMs: median(ttft.bare) - median(ttft.direct) };
  } finally {
    await stopServer(sb);
    await portkey.close();
    await bare.close();
    await fake.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCompat();
