// Wire-faithful fake of ElevenLabs' POST /v1/text-to-speech/{voice_id}, for the real
// `@elevenlabs/elevenlabs-js` SDK: `new ElevenLabsClient({ apiKey, baseUrl: fake.url })`.
//
// The audio is fake but its length encodes a duration of 0.06 s per input character at the bitrate
// of `output_format` (default mp3_44100_128 = 16000 bytes/s; pcm_16000 = 32000 bytes/s of silence).
// It is streamed with chunked transfer encoding, as ElevenLabs does.
import { randomBytes } from "node:crypto";
import { startServiceFake, type ErrorReply, type ServiceFake, type ServiceFault, type ServiceStatusFault } from "./service-fake.js";

export type { ServiceFake, ServiceFault, ServiceRequest } from "./service-fake.js";

export type ElevenLabsStep = { fault: ServiceFault };

export type ElevenLabsFake = ServiceFake<ElevenLabsStep>;

export const SECONDS_PER_CHAR = 0.06;

const detailError = (status: number, code: string, message: string): ErrorReply => ({ status, body: { detail: { status: code, message } } });

const STATUS_DEFAULTS: Record<number, { code: string; message: string }> = {
  400: { code: "invalid_request", message: "Invalid request." },
  401: { code: "invalid_api_key", message: "Invalid API key" },
  402: { code: "payment_required", message: "This request exceeds your quota." },
  404: { code: "voice_not_found", message: "A voice with the voice_id was not found." },
  429: {
    code: "too_many_concurrent_requests",
    message: "Too many concurrent requests. Your current subscription is associated with a maximum of 2 concurrent requests.",
  },
  500: { code: "internal_server_error", message: "An internal server error occurred." },
  503: { code: "system_busy", message: "Our services are experiencing high traffic at the moment. Please try again later." },
};

function statusError(f: ServiceStatusFault): ErrorReply {
  const d = STATUS_DEFAULTS[f.status] ?? (f.status >= 500 ? STATUS_DEFAULTS[500]! : STATUS_DEFAULTS[400]!);
  return detailError(f.status, d.code, f.message ?? d.message);
}

interface AudioFormat {
  codec: "mp3" | "pcm" | "wav" | "ulaw" | "alaw" | "opus";
  sampleRate: number;
  bytesPerSecond: number;
  contentType: string;
}

/** Parse an ElevenLabs output_format ("mp3_44100_128", "pcm_16000", "ulaw_8000", "wav_22050", "opus_48000_64"). */
export function parseOutputFormat(format: string): AudioFormat | undefined {
  const m = /^(mp3|pcm|wav|ulaw|alaw|opus)_(\d+)(?:_(\d+))?$/.exec(format);
  if (!m) return undefined;
  const codec = m[1] as AudioFormat["codec"];
  const sampleRate = Number(m[2]);
  const kbps = m[3] === undefined ? undefined : Number(m[3]);
  switch (codec) {
    case "mp3":
    case "opus":
      if (kbps === undefined) return undefined;
      return { codec, sampleRate, bytesPerSecond: (kbps * 1000) / 8, contentType: codec === "mp3" ? "audio/mpeg" : "audio/opus" };
    case "pcm":
    case "wav":
      return { codec, sampleRate, bytesPerSecond: sampleRate * 2, contentType: codec === "pcm" ? "audio/pcm" : "audio/wav" };
    case "ulaw":
    case "alaw":
      return { codec, sampleRate, bytesPerSecond: sampleRate, contentType: "audio/basic" };
  }
}

/** Byte length of the fake audio for `chars` characters of text. */
export function expectedAudioBytes(chars: number, outputFormat = "mp3_44100_128"): number {
  const f = parseOutputFormat(outputFormat);
  if (!f) throw new Error(`unknown output_format ${outputFormat}`);
  const seconds = chars * SECONDS_PER_CHAR;
  if (f.codec === "pcm") return Math.round(seconds * f.sampleRate) * 2; // 16-bit mono samples
  if (f.codec === "wav") return 44 + Math.round(seconds * f.sampleRate) * 2;
  return Math.round(seconds * f.bytesPerSecond);
}

// MPEG-1 Layer III, 128 kbps, 44.1 kHz, no CRC, no padding, joint stereo: 417-byte frames.
const MP3_FRAME_HEADER = Buffer.from([0xff, 0xfb, 0x90, 0x64]);
const MP3_FRAME_BYTES = 417;

function fakeAudio(chars: number, outputFormat: string, f: AudioFormat): Buffer {
  const size = expectedAudioBytes(chars, outputFormat);
  const buf = Buffer.alloc(size);
  switch (f.codec) {
    case "mp3":
      for (let off = 0; off < size; off += MP3_FRAME_BYTES) MP3_FRAME_HEADER.copy(buf, off, 0, Math.min(4, size - off));
      break;
    case "ulaw":
      buf.fill(0xff); // u-law silence
      break;
    case "alaw":
      buf.fill(0xd5); // A-law silence
      break;
    case "opus":
      Buffer.from("OggS").copy(buf, 0, 0, Math.min(4, size));
      break;
    case "wav": {
      const data = size - 44;
      buf.write("RIFF", 0, "latin1");
      buf.writeUInt32LE(36 + data, 4);
      buf.write("WAVEfmt ", 8, "latin1");
      buf.writeUInt32LE(16, 16);
      buf.writeUInt16LE(1, 20); // PCM
      buf.writeUInt16LE(1, 22); // mono
      buf.writeUInt32LE(f.sampleRate, 24);
      buf.writeUInt32LE(f.sampleRate * 2, 28);
      buf.writeUInt16LE(2, 32);
      buf.writeUInt16LE(16, 34);
      buf.write("data", 36, "latin1");
      buf.writeUInt32LE(data, 40);
      break;
    }
    case "pcm":
      break; // zeros are silence
  }
  return buf;
}

/** Start a fake ElevenLabs server; give `url` to `new ElevenLabsClient({ baseUrl: url })`. */
export function startElevenLabsFake(): Promise<ElevenLabsFake> {
  return startServiceFake<ElevenLabsStep>({
    urlSuffix: "",
    handle(ex) {
      const { rec } = ex;
      const m = /^\/v1\/text-to-speech\/([^/]+)$/.exec(rec.path);
      if (!m) return ex.json(404, { detail: "Not Found" });
      if (rec.method !== "POST") return ex.json(405, { detail: "Method Not Allowed" });

      const key = rec.headers["xi-api-key"];
      if (typeof key !== "string" || key === "") {
        return ex.error(detailError(401, "needs_authorization", "Neither authorization header nor xi-api-key received, please provide one."));
      }
      if (key === "bad-key") return ex.error(detailError(401, "invalid_api_key", "Invalid API key"));

      const body = rec.body && typeof rec.body === "object" ? rec.body : {};
      if (typeof body.text !== "string") {
        return ex.json(422, { detail: [{ type: "missing", loc: ["body", "text"], msg: "Field required", input: body }] });
      }
      const outputFormat = rec.query["output_format"] ?? "mp3_44100_128";
      const format = parseOutputFormat(outputFormat);
      if (!format) {
        return ex.json(422, { detail: [{ type: "enum", loc: ["query", "output_format"], msg: "Input should be a valid output format", input: outputFormat }] });
      }

      const step = ex.take();
      if (step?.fault) return ex.fault(step.fault, statusError);

      const audio = fakeAudio(body.text.length, outputFormat, format);
      const res = ex.res;
      res.writeHead(200, {
        "content-type": format.contentType,
        "request-id": randomBytes(10).toString("hex"),
        "history-item-id": randomBytes(10).toString("hex"),
        "x-character-count": String(body.text.length),
      });
      const CHUNK = 16 * 1024;
      for (let off = 0; off < audio.length; off += CHUNK) res.write(audio.subarray(off, off + CHUNK));
      res.end();
    },
  });
}
