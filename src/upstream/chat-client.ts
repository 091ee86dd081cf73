/**
 * The vLLM client: one streamed Chat Completions call per tool-loop turn, passthrough for the raw routes, and the
 * readiness probe. Every call carries an AbortSignal: when the client goes away the upstream request is aborted at
 * once, because vLLM otherwise keeps generating — GPU time burned for nobody.
 */
import { GatewayError, upstreamTimeout, upstreamUnavailable } from "../core/errors.js";
import type { ChatRequest } from "../core/protocol/chat.js";
import { readErrorText, upstreamHttpError } from "./upstream-errors.js";
import { withIdleTimeout } from "./idle-timeout-body.js";

export interface UpstreamOptions {
  baseUrl: string;
  apiKey: string | undefined;
  fetch: typeof fetch;
  /**
   * Limit from sending the request to receiving the response headers, connect and retries included (a busy vLLM
   * queues before it answers, so the default is generous). The runtime's fetch may fail a TCP connect sooner by
   * itself (Node: 10 s); that is reported as the same timeout.
   */
  firstByteTimeoutMs: number;
  /** Retries of failures before any byte was received: connection refused/reset and HTTP 503 (never after). */
  retries: number;
  /** Longest silence between body chunks of a passthrough response (Responses streams have their own, in the engine). */
  idleTimeoutMs?: number;
  /**
   * Whether a passthrough request may carry the client's own Authorization header to vLLM. False when the gateway
   * has API keys: then that header holds the gateway key, which must never reach the upstream.
   */
  forwardClientAuthorization?: boolean;
}

export class TimeoutReason extends Error {
  constructor(readonly phase: "first_byte" | "idle") {
    super(phase === "first_byte" ? "no response headers from upstream in time" : "upstream stream stalled");
    this.name = "TimeoutReason";
  }
}

export class UpstreamClient {
  private hostName: string | undefined;
  constructor(private readonly opts: UpstreamOptions) {}

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  /** The upstream's host name, for span attributes (parsed once, not per call). */
  get host(): string {
    this.hostName ??= new URL(this.opts.baseUrl).hostname;
    return this.hostName;
  }

  /** Opens a streamed chat completion; resolves once 2xx headers arrived, else throws GatewayError. */
  async openChatStream(body: ChatRequest, signal: AbortSignal, headers: Headers): Promise<ReadableStream<Uint8Array>> {
    const json = JSON.stringify(body);
    const deadline = this.firstByteDeadline();
    try {
      const res = await this.send(`${this.opts.baseUrl}/chat/completions`, { method: "POST", body: json, headers: this.headers(headers, true) }, signal, deadline.signal);
      if (!res.ok) {
        // The error body is read under the same deadline: headers followed by a stalled body must not hang.
        let text: string;
        try {
          text = await readErrorText(res);
        } catch (err) {
          if (signal.aborted) throw err;
          if (deadline.signal.aborted) throw upstreamTimeout(`HTTP ${res.status} headers arrived but the error body did not within the first-byte timeout`);
          throw upstreamUnavailable(describeFetchError(err));
        }
        throw upstreamHttpError(res.status, text, res.headers.get("retry-after"));
      }
      if (!res.body) throw upstreamUnavailable("the upstream answered without a body");
      return res.body;
    } finally {
      deadline.clear();
    }
  }

  /**
   * Raw passthrough: the upstream answer is returned as is (status, headers, body), errors included. `request.headers`
   * is the caller's own copy of the client's headers: hop-by-hop ones are dropped from it here, not copied again.
   */
  async passthrough(path: string, request: PassthroughRequest, signal: AbortSignal): Promise<Response> {
    const { headers, search } = request;
    for (const name of [...headers.keys()]) if (HOP_BY_HOP.has(name)) headers.delete(name);
    if (this.opts.forwardClientAuthorization === false) headers.delete("authorization");
    if (!headers.has("authorization") && this.opts.apiKey) headers.set("authorization", `Bearer ${this.opts.apiKey}`);
    const init: RequestInit = { method: request.method, headers };
    if (request.body !== null && request.method !== "GET" && request.method !== "HEAD") init.body = request.body as BodyInit;
    const deadline = this.firstByteDeadline();
    let res: Response;
    try {
      res = await this.send(`${this.opts.baseUrl}${path}${search}`, init, signal, deadline.signal);
    } finally {
      deadline.clear();
    }
    const out = new Headers();
    for (const [k, v] of res.headers) if (!HOP_BY_HOP.has(k) && k !== "content-encoding" && k !== "content-length") out.set(k, v);
    if ((out.get("content-type") ?? "").includes("text/event-stream")) out.set("x-accel-buffering", "no");
    // The body is the upstream's, unchanged; a stall in it ends the response instead of holding the client forever.
    const body = res.body && this.opts.idleTimeoutMs ? withIdleTimeout(res.body, this.opts.idleTimeoutMs) : res.body;
    return new Response(body, { status: res.status, headers: out });
  }

  /** GET /models, for the start-up readiness wait. */
  async probeModels(timeoutMs: number): Promise<{ ok: boolean; status: number | null; error?: string }> {
    try {
      const res = await this.opts.fetch(`${this.opts.baseUrl}/models`, { headers: this.headers(new Headers(), false), signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel();
      return { ok: res.ok, status: res.status };
    } catch (err) {
      return { ok: false, status: null, error: (err as Error).message };
    }
  }

  private headers(incoming: Headers, json: boolean): Headers {
    const h = new Headers();
    if (json) h.set("content-type", "application/json");
    h.set("accept", json ? "text/event-stream" : "application/json");
    if (this.opts.apiKey) h.set("authorization", `Bearer ${this.opts.apiKey}`);
    for (const name of FORWARDED) {
      const v = incoming.get(name);
      if (v) h.set(name, v);
    }
    return h;
  }

  /** The time-to-first-byte limit: one deadline for the whole exchange up to response headers, retries included. */
  private firstByteDeadline(): { signal: AbortSignal; clear: () => void } {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TimeoutReason("first_byte")), this.opts.firstByteTimeoutMs);
    return { signal: controller.signal, clear: () => clearTimeout(timer) };
  }

  /**
   * fetch with bounded, jittered retries of what is safe to retry: failures before any response byte (connection
   * refused or reset — vLLM restarting, a stale keep-alive socket) and HTTP 503 (vLLM not ready). Nothing reached
   * the client and vLLM drops a request whose connection is gone, so a retry cannot duplicate output. A 503 that
   * persists is passed on with its Retry-After; 429 is never retried (the upstream asked us to back off).
   */
  private async send(url: string, init: RequestInit, signal: AbortSignal, deadline: AbortSignal): Promise<Response> {
    const combined = AbortSignal.any([signal, deadline]);
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.opts.fetch(url, { ...init, signal: combined });
      } catch (err) {
        if (signal.aborted) throw err;
        if (deadline.aborted) throw upstreamTimeout("no response headers within the first-byte timeout");
        if (isConnectTimeout(err)) throw upstreamTimeout(`the connection was not established (${describeFetchError(err)})`);
        if (attempt >= this.opts.retries || !isConnectFailure(err)) throw upstreamUnavailable(describeFetchError(err));
        await backOff(attempt, combined);
        continue;
      }
      if (res.status !== 503 || attempt >= this.opts.retries) return res;
      await res.body?.cancel();
      await backOff(attempt, combined);
    }
  }
}

/** Jittered exponential back-off (50–100 ms, 100–150 ms, 200–250 ms …): hammering a restarting vLLM does not help. */
function backOff(attempt: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, 50 * 2 ** attempt + Math.random() * 50);
    // Ends early when the client leaves or the deadline passes; the next fetch then fails on the aborted signal.
    signal.addEventListener("abort", done, { once: true });
  });
}

/** A client request to pass through: its parts, already read (the body is buffered and size-capped by the handler). */
export interface PassthroughRequest {
  method: string;
  /** The query string, `?…` or empty. */
  search: string;
  headers: Headers;
  body: Uint8Array | null;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade", "host", "content-length"]);
const FORWARDED = ["x-request-id", "traceparent", "tracestate"];

function isConnectTimeout(err: unknown): boolean {
  return (err as { cause?: { code?: string } })?.cause?.code === "UND_ERR_CONNECT_TIMEOUT";
}

function isConnectFailure(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } })?.cause?.code;
  return code === "ECONNREFUSED" || code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EAI_AGAIN";
}

export function describeFetchError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e?.cause?.code ? `${e.cause.code}${e.cause.message ? ` (${e.cause.message})` : ""}` : (e?.message ?? String(err));
}

export { GatewayError };
