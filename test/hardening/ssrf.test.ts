// Finding 10 of issue 13: one address check for every form of a private, loopback, link-local or
// special address, applied to every URL a network caller supplies (fetched by Switchboard or
// forwarded to a provider), and Origin compared with its scheme.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { SwitchboardConfig } from "../../src/config/schema.js";
import { assertPublicUrl, isPrivateAddress, parseIPv4 } from "../../src/jobs/files.js";
import { SwitchboardError } from "../../src/errors.js";
import { Runtime } from "../../src/runtime.js";
import { startHttpServer, type HttpServerHandle } from "../../src/http/http-server.js";
import { captureLogger } from "../helpers/capture-logger.js";
import { startReplicateFake, type ReplicateFake } from "../fakes/replicate-fake.js";

const cfg = (privateUrls = false) => ({ files: { remoteCallers: { localFiles: false, privateUrls } } }) as unknown as SwitchboardConfig;

async function refusal(url: string): Promise<string | undefined> {
  try {
    await assertPublicUrl(url, "image", cfg());
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(SwitchboardError);
    expect((err as SwitchboardError).body).toMatchObject({ code: "invalid_request", field: "image", retryable: false });
    return (err as SwitchboardError).body.message;
  }
}

const REFUSED: Array<[string, string]> = [
  // IPv4 special ranges
  ["0/8", "http://0.0.0.0/"],
  ["0/8 high", "http://0.255.1.2/"],
  ["10/8", "http://10.1.2.3/"],
  ["100.64/10", "http://100.64.0.1/"],
  ["100.64/10 top", "http://100.127.255.254/"],
  ["127/8", "http://127.0.0.1/"],
  ["127/8 other", "http://127.45.6.7:8080/x"],
  ["169.254/16 metadata", "http://169.254.169.254/latest/meta-data"],
  ["172.16/12", "http://172.16.0.1/"],
  ["172.16/12 top", "http://172.31.255.255/"],
  ["192.0.0/24", "http://192.0.0.1/"],
  ["192.0.2/24", "http://192.0.2.10/"],
  ["192.168/16", "http://192.168.1.1/"],
  ["198.18/15", "http://198.19.0.1/"],
  ["198.51.100/24", "http://198.51.100.7/"],
  ["203.0.113/24", "http://203.0.113.9/"],
  ["224/4 multicast", "http://224.0.0.1/"],
  ["239 multicast", "http://239.255.255.250/"],
  ["240/4", "http://240.0.0.1/"],
  ["broadcast", "http://255.255.255.255/"],
  // IPv4 in decimal, octal, hex and short forms
  ["decimal", "http://2130706433/"],
  ["octal", "http://017700000001/"],
  ["hex", "http://0x7f000001/"],
  ["dotted hex", "http://0x7f.0x0.0x0.0x1/"],
  ["dotted octal", "http://0177.0.0.01/"],
  ["short", "http://127.1/"],
  ["decimal metadata", "http://2852039166/"],
  // IPv6
  ["::", "http://[::]/"],
  ["::1", "http://[::1]/"],
  ["::1 long", "http://[0:0:0:0:0:0:0:1]/"],
  ["IPv4-compatible loopback", "http://[::127.0.0.1]/"],
  ["IPv4-mapped loopback", "http://[::ffff:127.0.0.1]/"],
  ["IPv4-mapped metadata", "http://[::ffff:169.254.169.254]/"],
  ["IPv4-mapped hex", "http://[::ffff:a9fe:a9fe]/"],
  ["IPv4-mapped 10/8", "http://[::ffff:10.0.0.1]/"],
  ["NAT64 loopback", "http://[64:ff9b::7f00:1]/"],
  ["NAT64 metadata", "http://[64:ff9b::a9fe:a9fe]/"],
  ["NAT64 dotted", "http://[64:ff9b::192.168.0.1]/"],
  ["NAT64 local-use", "http://[64:ff9b:1::8.8.8.8]/"],
  ["6to4 loopback", "http://[2002:7f00:1::]/"],
  ["6to4 private", "http://[2002:c0a8:101::1]/"],
  ["6to4 metadata", "http://[2002:a9fe:a9fe::1]/"],
  ["Teredo", "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/"],
  ["site-local", "http://[fec0::1]/"],
  ["ULA fc", "http://[fc00::1]/"],
  ["ULA fd", "http://[fd12:3456:789a::1]/"],
  ["link-local", "http://[fe80::1]/"],
  ["link-local high", "http://[febf::1]/"],
  ["multicast", "http://[ff02::1]/"],
  ["documentation v6", "http://[2001:db8::1]/"],
  // names that resolve to loopback
  ["localhost", "http://localhost:9/"],
];

const ALLOWED: Array<[string, string]> = [
  ["8.8.8.8", "http://8.8.8.8/"],
  ["1.1.1.1", "https://1.1.1.1/x.png"],
  ["172.32 (just past 172.16/12)", "http://172.32.0.1/"],
  ["100.128 (just past 100.64/10)", "http://100.128.0.1/"],
  ["198.20 (just past 198.18/15)", "http://198.20.0.1/"],
  ["2606:4700::1111", "http://[2606:4700::1111]/"],
  ["2001:4860:4860::8888", "http://[2001:4860:4860::8888]/"],
  ["IPv4-mapped public", "http://[::ffff:8.8.8.8]/"],
  ["NAT64 public", "http://[64:ff9b::808:808]/"],
  ["6to4 public", "http://[2002:808:808::1]/"],
];

describe("assertPublicUrl", () => {
  it.each(REFUSED)("refuses %s (%s)", async (_what, url) => {
    expect(await refusal(url)).toMatch(/loopback, private or link-local/);
  });

  it.each(ALLOWED)("allows %s (%s)", async (_what, url) => {
    expect(await refusal(url)).toBeUndefined();
  });

  it("allows private URLs when the operator says so", async () => {
    await expect(assertPublicUrl("http://169.254.169.254/", "image", cfg(true))).resolves.toBeUndefined();
  });

  it("refuses a name that does not resolve, naming it", async () => {
    expect(await refusal("http://no-such-host.invalid/x.png")).toMatch(/cannot resolve no-such-host\.invalid/);
  });
});

describe("isPrivateAddress on raw resolver answers", () => {
  it.each([
    ["127.0.0.1", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:7f00:1", true],
    ["fe80::1%eth0", true],
    ["64:ff9b::a9fe:a9fe", true],
    ["0x7f.1", true],
    ["not an address", true],
    ["8.8.8.8", false],
    ["2606:4700::1111", false],
  ])("%s -> %s", (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  it("parses every inet_aton form of an IPv4 address", () => {
    const loopback = 0x7f000001;
    for (const form of ["127.0.0.1", "2130706433", "017700000001", "0x7f000001", "0x7F.1", "127.0.1", "0177.0.0.1"]) expect(parseIPv4(form), form).toBe(loopback);
    for (const bad of ["256.0.0.1", "1.2.3.4.5", "0x", "08", "1..2", "4294967296", ""]) expect(parseIPv4(bad) ?? null, bad).toBe(bad === "0x" ? 0 : null);
  });
});

describe("over HTTP", () => {
  const TOKEN = "r8_test-SSRFKEY-1234";
  let rep: ReplicateFake;
  let runtime: Runtime;
  let handle: HttpServerHandle;
  let client: Client;

  beforeAll(async () => {
    rep = await startReplicateFake();
    runtime = new Runtime({ env: { REPLICATE_API_TOKEN: TOKEN, REPLICATE_BASE_URL: rep.url } });
    handle = await startHttpServer({ runtime, port: 0, log: captureLogger().log });
    client = new Client({ name: "ssrf-test", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${handle.url}/mcp`)));
  });
  afterAll(async () => {
    await client?.close();
    await handle?.close();
    await runtime?.close();
    await rep?.close();
  });

  const errorOf = (res: unknown) => JSON.parse(((res as CallToolResult).content[0] as { text: string }).text).error as { code: string; message: string; field?: string };

  it.each([
    ["remove_background", { image: "http://169.254.169.254/x.png" }, "image"],
    ["upscale_image", { image: "http://127.0.0.1:8080/x.png" }, "image"],
    ["remove_background", { image: "http://[::ffff:169.254.169.254]/x.png" }, "image"],
    ["remove_background", { image: "http://[64:ff9b::a9fe:a9fe]/x.png" }, "image"],
    ["style_transfer", { image: "https://8.8.8.8/a.png", styleImage: "http://10.0.0.5/s.png" }, "styleImage"],
  ] as const)("%s refuses %j before any provider call", async (tool, args, field) => {
    rep.reset();
    const res = await client.callTool({ name: tool, arguments: { ...args } });
    expect(res.isError).toBe(true);
    expect(errorOf(res)).toMatchObject({ code: "invalid_request", field });
    expect(errorOf(res).message).toMatch(/loopback, private or link-local/);
    expect(rep.requests).toHaveLength(0);
  });

  it("transcribe refuses the NAT64 and 6to4 forms of loopback", async () => {
    for (const audio of ["http://[64:ff9b::7f00:1]/a.wav", "http://[2002:7f00:1::]/a.wav", "http://[::127.0.0.1]/a.wav", "http://192.0.0.1/a.wav"]) {
      const res = await client.callTool({ name: "transcribe", arguments: { audio } });
      expect(errorOf(res), audio).toMatchObject({ code: "invalid_request", field: "audio" });
    }
  });

  it("an https:// Origin is not this plain-http server's origin; http:// with the same host is", async () => {
    const host = new URL(handle.url).host;
    const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
    const post = (origin: string) => fetch(`${handle.url}/mcp`, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", Origin: origin }, body: JSON.stringify(init) });
    const https = await post(`https://${host}`);
    expect(https.status).toBe(403);
    expect(((await https.json()) as { error: { data: { code: string } } }).error.data.code).toBe("forbidden");
    const http = await post(`http://${host}`);
    expect(http.status).toBe(200);
    await http.body?.cancel();
  });
});
