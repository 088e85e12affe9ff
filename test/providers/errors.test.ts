import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { ProviderFailure, StreamIncompleteError, redact, retryAfterMs, toProviderFailure } from "../../src/providers/errors.js";
import { normalizeHttpError } from "../../src/providers/http-error.js";
import { tavilyError } from "../../src/providers/retrieval.js";

const KEY = "sk-test-LIVEKEY-abcdef123456";
/** A configured key shaped like no known pattern: only the secrets list can scrub it. */
const ODD_KEY = "tvly-ODDKEY-998877";
const SECRETS = [KEY, ODD_KEY];

const map = (err: unknown, extra: { timedOut?: boolean; cancelled?: boolean } = {}) => toProviderFailure(err, { provider: "acme", secrets: SECRETS, ...extra });

/** Asserts the failure's fields and that no configured secret survived in its message. */
function expectFailure(f: ProviderFailure, want: { code: string; retryable: boolean; status?: number; retryAfterMs?: number }) {
  expect(f).toBeInstanceOf(ProviderFailure);
  expect({ code: f.code, retryable: f.retryable, status: f.status, retryAfterMs: f.retryAfterMs }).toEqual({
    status: undefined,
    retryAfterMs: undefined,
    ...want,
  });
  for (const s of SECRETS) expect(f.message).not.toContain(s);
}

const oai = (status: number, body: Record<string, unknown> | undefined, headers: Record<string, string> = {}) =>
  OpenAI.APIError.generate(status, body, undefined, new Headers(headers));
const ant = (status: number, type: string, message: string, headers: Record<string, string> = {}) =>
  Anthropic.APIError.generate(status, { type: "error", error: { type, message } }, undefined, new Headers(headers));

describe("OpenAI SDK errors", () => {
  it("RateLimitError -> rate_limited, retryable, Retry-After in seconds", () => {
    const err = oai(429, { error: { message: "Rate limit reached", type: "requests" } }, { "retry-after": "3" });
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const f = map(err);
    expectFailure(f, { code: "rate_limited", retryable: true, status: 429, retryAfterMs: 3000 });
    expect(f.message).toBe("acme is rate limiting requests");
  });

  it("retry-after-ms wins over retry-after", () => {
    expectFailure(map(oai(429, { error: { message: "slow" } }, { "retry-after-ms": "1500", "retry-after": "3" })), {
      code: "rate_limited",
      retryable: true,
      status: 429,
      retryAfterMs: 1500,
    });
  });

  it("a Retry-After HTTP date becomes the wait until then", () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    const f = map(oai(429, { error: { message: "slow" } }, { "retry-after": at }));
    expect(f.code).toBe("rate_limited");
    expect(f.retryAfterMs).toBeGreaterThan(50_000);
    expect(f.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it("a 429 without Retry-After has no wait", () => {
    expectFailure(map(new OpenAI.RateLimitError(429, { message: "slow" }, "429 slow", new Headers())), { code: "rate_limited", retryable: true, status: 429 });
  });

  it("APIConnectionError -> provider_unavailable, retryable (the SDK leaves name as Error: the class name is read)", () => {
    const err = new OpenAI.APIConnectionError({ message: "Connection error.", cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
    expect(err.name).toBe("Error");
    const f = map(err);
    expectFailure(f, { code: "provider_unavailable", retryable: true });
    expect(f.message).toBe("cannot reach acme (Connection error.)");
  });

  it("APIConnectionTimeoutError -> timeout, retryable", () => {
    const f = map(new OpenAI.APIConnectionTimeoutError());
    expectFailure(f, { code: "timeout", retryable: true });
    expect(f.message).toBe("acme did not answer in time");
  });

  it("APIUserAbortError -> cancelled, not retryable", () => {
    expectFailure(map(new OpenAI.APIUserAbortError()), { code: "cancelled", retryable: false });
  });

  it("a 400 with code context_length_exceeded -> context_length_exceeded, whatever the message says", () => {
    const err = oai(400, { error: { message: "Please shorten your input.", type: "invalid_request_error", code: "context_length_exceeded" } });
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expectFailure(map(err), { code: "context_length_exceeded", retryable: false, status: 400 });
  });

  it.each([
    "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
    "Input is too long for requested model.",
    "context window exceeded",
  ])("a 400 saying %j -> context_length_exceeded", (message) => {
    const f = map(oai(400, { error: { message } }));
    expectFailure(f, { code: "context_length_exceeded", retryable: false, status: 400 });
    expect(f.message).toContain(message.slice(0, 30));
  });

  it.each([
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
    "Your request was rejected as a result of our safety system.",
    "Input was flagged by moderation",
  ])("a 400 saying %j -> content_filtered", (message) => {
    const f = map(oai(400, { error: { message, code: "content_filter" } }));
    expectFailure(f, { code: "content_filtered", retryable: false, status: 400 });
    expect(f.message).toBe("acme's content filter refused the request");
  });

  it.each([
    [401, OpenAI.AuthenticationError],
    [403, OpenAI.PermissionDeniedError],
  ])("%i -> auth_failed, not retryable, and the echoed key is not repeated", (status, cls) => {
    const err = oai(status, { error: { message: `Incorrect API key provided: ${KEY}.`, code: "invalid_api_key" } });
    expect(err).toBeInstanceOf(cls);
    const f = map(err);
    expectFailure(f, { code: "auth_failed", retryable: false, status });
    expect(f.message).toBe(`acme rejected the credentials (${status})`);
  });

  it("404 -> invalid_request with the provider's words, key scrubbed", () => {
    const err = oai(404, { error: { message: `The model 'gpt-9' does not exist (key ${KEY})` } });
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    const f = map(err);
    expectFailure(f, { code: "invalid_request", retryable: false, status: 404 });
    expect(f.message).toContain("acme refused the request (404): The model 'gpt-9' does not exist");
    expect(f.message).toContain("[redacted]");
  });

  it("422 -> invalid_request", () => {
    expectFailure(map(oai(422, { error: { message: "bad schema" } })), { code: "invalid_request", retryable: false, status: 422 });
  });

  it.each([408, 409])("%i -> provider_unavailable, retryable", (status) => {
    expectFailure(map(oai(status, { error: { message: "try again" } })), { code: "provider_unavailable", retryable: true, status });
  });

  it.each([500, 502, 503])("%i -> provider_unavailable, retryable, with Retry-After when sent, detail scrubbed", (status) => {
    const err = oai(status, { error: { message: `upstream said ${KEY} and ${ODD_KEY}` } }, { "retry-after": "2" });
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    const f = map(err);
    expectFailure(f, { code: "provider_unavailable", retryable: true, status, retryAfterMs: 2000 });
    expect(f.message).toBe(`acme failed with ${status}: upstream said [redacted] and [redacted]`);
  });

  it("a 5xx without a body says only the status", () => {
    const f = map(OpenAI.APIError.generate(502, undefined, undefined, new Headers()));
    expectFailure(f, { code: "provider_unavailable", retryable: true, status: 502 });
    expect(f.message).toMatch(/^acme failed with 502/);
  });

  it("long provider detail is truncated", () => {
    const f = map(oai(400, { error: { message: "x".repeat(2000) } }));
    expect(f.message.length).toBeLessThan(400);
    expect(f.message.endsWith("…")).toBe(true);
  });
});

describe("Anthropic SDK errors", () => {
  it("RateLimitError -> rate_limited with Retry-After", () => {
    const err = ant(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", { "retry-after": "7" });
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expectFailure(map(err), { code: "rate_limited", retryable: true, status: 429, retryAfterMs: 7000 });
  });

  it("529 overloaded -> provider_unavailable, retryable, with the body's message", () => {
    const err = ant(529, "overloaded_error", "Overloaded");
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    const f = map(err);
    expectFailure(f, { code: "provider_unavailable", retryable: true, status: 529 });
    expect(f.message).toBe("acme failed with 529: Overloaded");
  });

  it("prompt is too long -> context_length_exceeded (the message is read from the nested error body)", () => {
    const f = map(ant(400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"));
    expectFailure(f, { code: "context_length_exceeded", retryable: false, status: 400 });
    expect(f.message).toContain("prompt is too long: 210000 tokens > 200000 maximum");
  });

  it("401 -> auth_failed", () => {
    expectFailure(map(ant(401, "authentication_error", `invalid x-api-key ${KEY}`)), { code: "auth_failed", retryable: false, status: 401 });
  });

  it("402 (billing) -> invalid_request, not retryable", () => {
    expectFailure(map(ant(402, "billing_error", "Your credit balance is too low")), { code: "invalid_request", retryable: false, status: 402 });
  });

  it.each([
    ["APIConnectionTimeoutError", new Anthropic.APIConnectionTimeoutError(), "timeout", true],
    ["APIConnectionError", new Anthropic.APIConnectionError({ message: "Connection error." }), "provider_unavailable", true],
    ["APIUserAbortError", new Anthropic.APIUserAbortError(), "cancelled", false],
  ] as const)("%s -> %s", (_n, err, code, retryable) => {
    expectFailure(map(err), { code, retryable });
  });
});

describe("transport and flow errors", () => {
  it("the caller's cancel wins over everything, a timeout over the error itself", () => {
    expectFailure(map(oai(500, { error: { message: "boom" } }), { cancelled: true }), { code: "cancelled", retryable: false });
    expectFailure(map(oai(500, { error: { message: "boom" } }), { timedOut: true }), { code: "timeout", retryable: true });
    expectFailure(map(new OpenAI.APIUserAbortError(), { cancelled: true, timedOut: true }), { code: "cancelled", retryable: false });
  });

  it("AbortSignal.timeout's TimeoutError -> timeout; an AbortError -> cancelled", () => {
    expectFailure(map(new DOMException("The operation was aborted due to timeout", "TimeoutError")), { code: "timeout", retryable: true });
    expectFailure(map(new DOMException("This operation was aborted", "AbortError")), { code: "cancelled", retryable: false });
  });

  it("a cut stream -> provider_unavailable, retryable", () => {
    const f = map(new StreamIncompleteError("acme"));
    expectFailure(f, { code: "provider_unavailable", retryable: true });
    expect(f.message).toBe("acme cut the stream before the answer was complete");
  });

  it("a malformed body -> provider_unavailable, retryable", () => {
    let parseError: unknown;
    try {
      JSON.parse("{not json");
    } catch (e) {
      parseError = e;
    }
    expectFailure(map(parseError), { code: "provider_unavailable", retryable: true });
    expect(map(parseError).message).toBe("acme sent a malformed response");
  });

  it.each([
    ["undici's fetch failed (code on the cause)", Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } })],
    ["a socket reset (code on the error)", Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })],
    ["a DNS failure", Object.assign(new Error("getaddrinfo ENOTFOUND api.example"), { code: "ENOTFOUND" })],
    ["a closed socket", new Error("other side closed")],
  ])("%s -> provider_unavailable (cannot reach)", (_n, err) => {
    const f = map(err);
    expectFailure(f, { code: "provider_unavailable", retryable: true });
    expect(f.message).toMatch(/^cannot reach acme/);
  });

  it("anything else -> provider_unavailable, retryable, message scrubbed", () => {
    const f = map(new Error(`weird failure with Bearer ${ODD_KEY}xyz and ${KEY}`));
    expectFailure(f, { code: "provider_unavailable", retryable: true });
    expect(f.message).toBe("acme call failed: weird failure with Bearer [redacted]xyz and [redacted]");
  });

  it("non-Error throws are mapped too", () => {
    expectFailure(map("plain string"), { code: "provider_unavailable", retryable: true });
    expectFailure(map(undefined), { code: "provider_unavailable", retryable: true });
    expectFailure(map(null), { code: "provider_unavailable", retryable: true });
  });

  it("a ProviderFailure passes through as is", () => {
    const pf = new ProviderFailure("invalid_request", "not a media model", false);
    expect(map(pf)).toBe(pf);
    expect(map(pf, { cancelled: true })).toBe(pf);
  });
});

describe("Tavily (message-only errors: its SDK drops the status)", () => {
  // What @tavily/core throws: `new Error(detail.error)` for FastAPI bodies, `${status} Error: {...}` otherwise.
  it.each([
    ["Unauthorized: missing or invalid API key.", "auth_failed", false, 401],
    ["Forbidden.", "auth_failed", false, 401],
    // Tavily's real 429 and 433 wording (these were read as provider_unavailable before).
    ["Your request has been blocked due to excessive requests. Please reduce rate of requests.", "rate_limited", true, 429],
    ["Rate limit exceeded", "rate_limited", true, 429],
    ["This request exceeds your plan's set usage limit. Please upgrade your plan or contact support@tavily.com", "rate_limited", true, 429],
    ["This request exceeds the pay-as-you-go limit. You can increase your limit on the Tavily dashboard.", "rate_limited", true, 429],
    ["Invalid request.", "provider_unavailable", true, undefined],
    ["Request timed out after 60 seconds.", "provider_unavailable", true, undefined],
    ['500 Error: {"oops":true}', "provider_unavailable", true, undefined],
  ] as const)("%j -> %s", (message, code, retryable, status) => {
    expectFailure(map(tavilyError(new Error(message))), { code, retryable, ...(status ? { status } : {}) });
  });

  it("a known key in a Tavily message is scrubbed", () => {
    const f = map(tavilyError(new Error(`Invalid request for ${ODD_KEY}.`)));
    expect(f.message).toBe("acme call failed: Invalid request for [redacted].");
  });

  it("an axios error that kept its response keeps its status and Retry-After", () => {
    const axiosLike = Object.assign(new Error("Request failed with status code 429"), {
      name: "AxiosError",
      response: { status: 429, headers: { "retry-after": "5" }, data: { detail: { error: "slow down" } } },
    });
    expectFailure(map(tavilyError(axiosLike)), { code: "rate_limited", retryable: true, status: 429, retryAfterMs: 5000 });
  });

  it("an axios network error (no response) -> cannot reach", () => {
    const axiosLike = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { name: "AxiosError", code: "ECONNREFUSED" });
    expect(tavilyError(axiosLike)).toBe(axiosLike);
    expectFailure(map(tavilyError(axiosLike)), { code: "provider_unavailable", retryable: true });
    expect(map(tavilyError(axiosLike)).message).toMatch(/^cannot reach acme/);
  });
});

describe("normalizeHttpError (SDK shapes without `status`)", () => {
  it("Replicate's ApiError: a fetch Response with its headers", () => {
    const err = Object.assign(new Error("Request to https://api.replicate.com/v1/predictions failed with status 429 Too Many Requests: throttled."), {
      name: "ApiError",
      response: new Response(null, { status: 429, headers: { "retry-after": "4" } }),
    });
    const n = normalizeHttpError(err) as { status: number; message: string };
    expect(n.status).toBe(429);
    expect(n.message).toContain("failed with status 429");
    expectFailure(map(n), { code: "rate_limited", retryable: true, status: 429, retryAfterMs: 4000 });
  });

  it("ElevenLabs' statusCode/body/rawResponse: body becomes the message, Retry-After is read from rawResponse", () => {
    const err = Object.assign(new Error("Status code: 429"), {
      name: "ElevenLabsError",
      statusCode: 429,
      body: { detail: { status: "too_many_concurrent_requests", message: "Too many concurrent requests." } },
      rawResponse: { headers: new Headers({ "retry-after": "6" }), status: 429 },
    });
    const f = map(normalizeHttpError(err));
    expectFailure(f, { code: "rate_limited", retryable: true, status: 429, retryAfterMs: 6000 });
  });

  it("ElevenLabs 422 detail list -> invalid_request with the detail", () => {
    const err = Object.assign(new Error("Status code: 422"), { name: "UnprocessableEntityError", statusCode: 422, body: { detail: [{ msg: "Field required", loc: ["body", "text"] }] } });
    const f = map(normalizeHttpError(err));
    expectFailure(f, { code: "invalid_request", retryable: false, status: 422 });
    expect(f.message).toContain("Field required");
  });

  it("leaves errors that already have a status, or have none to find, alone", () => {
    const withStatus = oai(500, { error: { message: "x" } });
    expect(normalizeHttpError(withStatus)).toBe(withStatus);
    const plain = new Error("nothing to see");
    expect(normalizeHttpError(plain)).toBe(plain);
    expect(normalizeHttpError(undefined)).toBeUndefined();
  });
});

describe("retryAfterMs", () => {
  it.each([
    [{ "retry-after": "2" }, 2000],
    [{ "retry-after": "0" }, 0],
    [{ "retry-after": "1.5" }, 1500],
    [{ "retry-after-ms": "250" }, 250],
    [{ "retry-after-ms": "0", "retry-after": "2" }, 2000],
    [{ "retry-after-ms": "nope", "retry-after": "2" }, 2000],
    [{ "retry-after": "-5" }, 0],
    [{ "retry-after": new Date(Date.now() - 60_000).toUTCString() }, 0],
    [{ "retry-after": "soon" }, undefined],
    [{ "retry-after": "" }, undefined],
    [{}, undefined],
  ])("%j -> %s (as a Headers object and as a plain record)", (h, want) => {
    expect(retryAfterMs(new Headers(h as Record<string, string>))).toBe(want);
    expect(retryAfterMs(h as Record<string, string>)).toBe(want);
  });

  it("no headers -> undefined", () => {
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});

describe("redact", () => {
  it("removes every configured secret, wherever it appears", () => {
    expect(redact(`a ${ODD_KEY} b ${ODD_KEY}`, [ODD_KEY])).toBe("a [redacted] b [redacted]");
  });

  it("removes key-shaped strings even when they are not configured", () => {
    expect(redact("sk-proj-abcdef123456 and sk-****wxyz1234", [])).toBe("[redacted] and [redacted]");
    expect(redact("Authorization: Bearer abc.def.ghi-jkl", [])).toBe("Authorization: [redacted]");
    expect(redact('{"api_key": "zzzzzzzzzzzz"}', [])).toBe('{"[redacted]"}');
    expect(redact("x-api-key=ABCDEFGH1234", [])).toBe("[redacted]");
  });

  it("ignores secrets too short to match safely, and leaves ordinary text", () => {
    expect(redact("abc is fine", ["abc", ""])).toBe("abc is fine");
    expect(redact("the sky is blue", SECRETS)).toBe("the sky is blue");
  });
});
