/**
 * The vLLM client: one streamed Chat Completions call per tool-loop turn, passthrough for the raw routes, and the
 * readiness probe. Every call carries an AbortSignal: when the client goes away the upstream request is aborted at
 * once, because vLLM otherwise keeps generating — GPU time burned for nobody.
 */
import { GatewayError, upstreamTimeout, upstreamUnavailable } from "../core/errors.js";
import type { ChatRequest } from "../core/protocol/chat.js";
import { upstreamHttpError } from "./upstream-errors.js";

export interface UpstreamOptions {
  baseUrl: string;
  apiKey: string | undefined;
  fetch: typeof fetch;
  firstByteTimeoutMs: number;
  /** Retries of connection failures before any byte was received (never after). */
  retries: number;
}

export class TimeoutReason extends Error {
  constructor(readonly phase: "first_byte" | "idle") {
    super(phase === "first_byte" ? "no response headers from upstream in time" : "upstream stream stalled");
    this.name = "TimeoutReason";
  }
}

export class UpstreamClient {
  constructor(private readonly opts: UpstreamOptions) {}

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  /** Opens a streamed chat completion; resolves once 2xx headers arrived, else throws GatewayError. */
  async openChatStream(body: ChatRequest, signal: AbortSignal, headers: Headers): Promise<ReadableStream<Uint8Array>> {
    const json = JSON.stringify(body);
    const res = await this.send(`${this.opts.baseUrl}/chat/completions`, { method: "POST", body: json, headers: this.headers(headers, true) }, signal);
    if (!res.ok) throw upstreamHttpError(res.status, await res.text(), res.headers.get("retry-after"));
    if (!res.body) throw upstreamUnavailable("the upstream answered without a body");
    return res.body;
  }

  /** Raw passthrough: the upstream answer is returned as is (status, headers, body), errors included. */
  async passthrough(path: string, request: Request, signal: AbortSignal): Promise<Response> {
    const headers = new Headers();
    for (const [k, v] of request.headers) if (!HOP_BY_HOP.has(k)) headers.set(k, v);
    if (!headers.has("authorization") && this.opts.apiKey) headers.set("authorization", `Bearer ${this.opts.apiKey}`);
    const search = new URL(request.url).search;
    const init: RequestInit = { method: request.method, headers };
    if (request.method !== "GET" && request.method !== "HEAD") init.body = await request.arrayBuffer();
    const res = await this.send(`${this.opts.baseUrl}${path}${search}`, init, signal);
    const out = new Headers();
    for (const [k, v] of res.headers) if (!HOP_BY_HOP.has(k) && k !== "content-encoding" && k !== "content-length") out.set(k, v);
    if ((out.get("content-type") ?? "").includes("text/event-stream")) out.set("x-accel-buffering", "no");
    return new Response(res.body, { status: res.status, headers: out });
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

  /** fetch with a time-to-first-byte limit and bounded retries of failures that happened before any byte. */
  private async send(url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const timer = new AbortController();
      const timeout = setTimeout(() => timer.abort(new TimeoutReason("first_byte")), this.opts.firstByteTimeoutMs);
      try {
        return await this.opts.fetch(url, { ...init, signal: AbortSignal.any([signal, timer.signal]) });
      } catch (err) {
        if (signal.aborted) throw err;
        if (timer.signal.aborted) throw upstreamTimeout("no response headers within the first-byte timeout");
        if (attempt >= this.opts.retries || !isConnectFailure(err)) throw upstreamUnavailable(describeFetchError(err));
        // Jittered back-off: connection refused usually means vLLM is restarting; hammering it does not help.
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt + Math.random() * 50));
      } finally {
        clearTimeout(timeout);
      }
    }
  }
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade", "host", "content-length"]);
const FORWARDED = ["x-request-id", "traceparent", "tracestate"];

function isConnectFailure(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } })?.cause?.code;
  return code === "ECONNREFUSED" || code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EAI_AGAIN";
}

export function describeFetchError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e?.cause?.code ? `${e.cause.code}${e.cause.message ? ` (${e.cause.message})` : ""}` : (e?.message ?? String(err));
}

export { GatewayError };
