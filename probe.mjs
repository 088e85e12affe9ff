const t0 = performance.now();
const { ElevenLabsAdapter } = await import("./dist/providers/elevenlabs.js");
const t1 = performance.now();
const a = new ElevenLabsAdapter({ apiKey: "k", baseUrl: "http://127.0.0.1:9" });
const t2 = performance.now();
try { await a.speak({ text: "hi", voiceId: "v", modelId: "m", outputFormat: "mp3_44100_128" }, AbortSignal.timeout(5000)); } catch (e) { console.log(e.message?.slice(0,80)); }
const t3 = performance.now();
try { await a.speak({ text: "hi", voiceId: "v", modelId: "m", outputFormat: "mp3_44100_128" }, AbortSignal.timeout(5000)); } catch (e) { }
const t4 = performance.now();
console.log({ import: t1 - t0, ctor: t2 - t1, first: t3 - t2, second: t4 - t3 });
