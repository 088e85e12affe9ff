import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Runtime } from "../../src/runtime.js";
import { startMcpHarness, type McpHarness } from "../helpers/mcp-harness.js";

const runtime = new Runtime({ env: {} });
const route = (prompt: string, extra: Record<string, unknown> = {}) => runtime.route({ prompt, ...extra });

describe("a job's decision says what to call, on which chain, at what price", () => {
  it("background removal: the tool, the image found, the configured chain and a per-image price, no LLM tier", () => {
    const d = route("Remove the background from my product photo ./photos/shoe.jpg");
    expect(d).toMatchObject({ mode: "vision_editing", modeSource: "job", job: "media", action: { tool: "remove_background", arguments: { image: "./photos/shoe.jpg" } } });
    expect(d.model).toBe(runtime.config.jobs.media.backgroundRemoval![0]);
    expect(d.taskType).toBeUndefined();
    expect(d.costTier).toBeUndefined();
    // Priced in the service's own unit (Replicate bills this model by GPU second).
    expect(d.estimate.unit).toBe("second");
    expect(d.estimate.unitPriceUsd).toBe(runtime.config.services[d.model]!.price.perSecond);
    expect(d.reason).toMatch(/^Background removal: it asks to remove an image's background; remove_background runs on replicate:/);
  });

  it("upscaling keeps the factor, style transfer the style, with each job's own chain", () => {
    const up = route("upscale https://cdn.example.com/logo.png 4x please");
    expect(up.action).toEqual({ tool: "upscale_image", arguments: { image: "https://cdn.example.com/logo.png", scale: 4 } });
    expect([up.model, ...up.fallbacks.map((f) => f.model)]).toEqual(runtime.config.jobs.media.upscaling);
    const style = route("make portrait.jpg look like a Van Gogh painting");
    expect(style.action).toMatchObject({ tool: "style_transfer", arguments: { image: "portrait.jpg" } });
    expect(String(style.action.arguments.prompt)).toMatch(/Van Gogh/);
  });

  it("voiceover: the script and the voice asked for, priced per 1k characters of that script", () => {
    const d = route('Record a voiceover of this script in a warm female voice: "Welcome to Switchboard, the router for agents."');
    expect(d).toMatchObject({ mode: "voice_generation", job: "voice", action: { tool: "voiceover", arguments: { text: "Welcome to Switchboard, the router for agents." } } });
    expect(d.action.note).toMatch(/warm female/);
    expect(d.estimate.unit).toBe("1k characters");
    expect(d.estimate.units).toBeCloseTo(0.046, 3);
  });

  it("dubbing names its steps: transcribe the recording, translate it, voice it", () => {
    const d = route("Dub ~/Videos/promo_en.mp4 into Spanish");
    expect(d.mode).toBe("voice_generation");
    expect(d.action.steps?.map((s) => s.tool)).toEqual(["transcribe", "run_llm", "voiceover"]);
    expect(d.action.steps?.[0]?.arguments).toEqual({ audio: "~/Videos/promo_en.mp4" });
    expect(String(d.action.steps?.[1]?.arguments.prompt)).toMatch(/into Spanish/);
  });

  it("transcription, fresh research and the specialised LLM modes", () => {
    expect(route("Transcribe the attached interview recording", { attachments: [{ kind: "audio" }] })).toMatchObject({ mode: "batch_transcription", action: { tool: "transcribe" } });
    const news = route("What did the Fed announce at today's meeting?");
    expect(news).toMatchObject({ mode: "research_analyst", job: "llm", action: { tool: "research", arguments: { kind: "news" } } });
    expect(news.action.services).toEqual(runtime.config.jobs.retrieval.news);
    expect(news.taskType).toBeDefined();
    expect(route("p99 latency doubled after yesterday's deploy; here are the traces").mode).toBe("system_optimizer");
    expect(route("Add a crossfade between clip 4 and clip 5 at 02:15 on the timeline").mode).toBe("timeline_doctor");
    expect(route("tag all 12,000 photos in our asset library with subject and colour keywords").mode).toBe("asset_tagging");
    for (const m of ["system_optimizer", "timeline_doctor", "asset_tagging"]) {
      const d = route({ system_optimizer: "analyze these logs, the API times out every night", timeline_doctor: "trim clip 3 at 00:45 on the timeline", asset_tagging: "auto-tag our whole b-roll library" }[m]!);
      expect(d).toMatchObject({ mode: m, job: "llm", action: { tool: "run_llm", arguments: { mode: m } } });
      expect(d.reason).toMatch(new RegExp(`so ${m}\\.`));
    }
  });

  it("writing is not research; chat that mentions a job stays chat", () => {
    for (const p of [
      "Write a 2000-word essay with citations on the causes of the French Revolution",
      "write a poem about background noise",
      "explain how speech recognition works",
      "write the script for a 30-second radio ad",
      "summarize this transcript: Alice: hi. Bob: hello, shall we start?",
    ]) {
      const d = route(p);
      expect(["realtime_assist", "structured_planning"], p).toContain(d.mode);
      expect(d.action.tool, p).toBe("run_llm");
    }
  });

  it("the caller's word wins: a task type means chat, a mode keeps only its own jobs", () => {
    expect(route("Remove the background from shoe.jpg", { taskType: "coding" }).mode).not.toBe("vision_editing");
    const voice = route("Remove the background from shoe.jpg", { mode: "voice_generation" });
    expect(voice).toMatchObject({ mode: "voice_generation", modeSource: "explicit", action: { tool: "voiceover" } });
    // A non-LLM mode named without a job in the prompt runs the job its chain starts with.
    expect(route("here is my file", { mode: "vision_editing" }).action.tool).toBe("remove_background");
  });
});

describe("route_task over MCP answers a job prompt with the tool to call", () => {
  let h: McpHarness;
  beforeAll(async () => {
    h = await startMcpHarness({ env: { OPENAI_API_KEY: "sk-job-test-secret" }, secrets: ["sk-job-test-secret"] });
  });
  afterAll(() => h.close());

  it("lists mode as an enum of the routing table's modes, so an agent can discover them", async () => {
    const { tools } = await h.client.listTools();
    for (const name of ["route_task", "run_llm"]) {
      const mode = (tools.find((t) => t.name === name)!.inputSchema.properties as Record<string, { enum?: string[]; description?: string }>).mode!;
      expect(mode.enum).toEqual(Object.keys(h.runtime.config.modes));
      // What each mode is for is in the routing table resource (tools/list stays small); route_task points there.
      if (name === "route_task") expect(mode.description).toContain("switchboard://config/routing-table");
    }
    const table = await h.client.readResource({ uri: "switchboard://config/routing-table" });
    const modes = JSON.parse((table.contents[0] as { text: string }).text).modes as Record<string, { description: string }>;
    expect(modes.vision_editing!.description.length).toBeGreaterThan(10);
    expect(modes.voice_generation!.description.length).toBeGreaterThan(10);
    // The router still checks the value and answers a wrong one with the valid ones.
    const err = await h.callFail("route_task", { prompt: "hi", mode: "vision_edit" });
    expect(err).toMatchObject({ code: "invalid_request", field: "mode" });
  });

  it("writing is not research, and a design request is complex planning (point 4)", async () => {
    const essay = await h.callOk<{ mode: string; taskType: string; action: { tool: string } }>("route_task", { prompt: "Write a 5000-word essay with citations on the causes of the First World War" });
    expect(essay).toMatchObject({ taskType: "creative_writing", action: { tool: "run_llm" } });
    expect(essay.mode).not.toBe("research_analyst");
    const schema = await h.callOk<{ mode: string; taskType: string; complexity: string; costTier: string }>("route_task", {
      prompt: "Design the database schema for a multi-tenant SaaS billing system with invoices, usage metering, proration and dunning",
    });
    expect(schema).toMatchObject({ mode: "structured_planning", taskType: "planning", complexity: "complex", costTier: "premium" });
    const fresh = await h.callOk<{ mode: string; action: { tool: string } }>("route_task", { prompt: "What are the latest iPhone rumors this week?" });
    expect(fresh).toMatchObject({ mode: "research_analyst", action: { tool: "research" } });
  });

  it("returns the action in structuredContent", async () => {
    const d = await h.callOk< { mode: string; action: { tool: string; arguments: Record<string, unknown> }; estimate: { unit?: string } }>("route_task", { prompt: "Transcribe ~/Downloads/interview.m4a please" });
    expect(d.mode).toBe("batch_transcription");
    expect(d.action).toEqual({ tool: "transcribe", arguments: { audio: "~/Downloads/interview.m4a" } });
    expect(d.estimate.unit).toBe("minute");
  });
});
