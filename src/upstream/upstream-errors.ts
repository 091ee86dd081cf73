/**
 * Upstream HTTP failures → gateway errors. A 4xx keeps its status and vLLM's message (the client made the
 * mistake: unknown model, context too long); 429/503 back-pressure is passed on with Retry-After; other 5xx
 * become 502 so clients can tell "the model server failed" from "the gateway failed".
 */
import { GatewayError } from "../core/errors.js";

interface UpstreamErrorBody {
  error?: { message?: unknown; code?: unknown; param?: unknown; type?: unknown } | string;
  message?: unknown;
  code?: unknown;
  param?: unknown;
  type?: unknown;
  detail?: unknown;
}

export function upstreamHttpError(status: number, bodyText: string, retryAfter: string | null): GatewayError {
  let parsed: UpstreamErrorBody | null = null;
  try {
    parsed = JSON.parse(bodyText) as UpstreamErrorBody;
  } catch {
    // Not JSON (a proxy's HTML page, plain text): the raw text, truncated, is still the best message we have.
    parsed = null;
  }
  const inner = parsed && typeof parsed.error === "object" && parsed.error !== null ? parsed.error : parsed;
  const rawMessage = inner?.message ?? (parsed && typeof parsed.error === "string" ? parsed.error : undefined) ?? parsed?.detail;
  const message = typeof rawMessage === "string" && rawMessage.length > 0 ? rawMessage : bodyText.slice(0, 500) || `Upstream returned HTTP ${status}.`;
  const param = typeof inner?.param === "string" ? inner.param : null;
  if (status === 429) return new GatewayError(429, message, "rate_limit_error", param, "upstream_rate_limited", { "retry-after": retryAfter ?? "1" });
  if (status === 503) return new GatewayError(503, message, "api_error", param, "upstream_overloaded", { "retry-after": retryAfter ?? "1" });
  if (status >= 400 && status < 500) return new GatewayError(status, message, "invalid_request_error", param, codeFor(status, inner?.code, message, param));
  return new GatewayError(502, `Upstream error (HTTP ${status}): ${message}`, "api_error", param, "upstream_error");
}

function codeFor(status: number, code: unknown, message: string, param: string | null): string {
  if (/maximum context length|context length|too many tokens|prompt is too long/i.test(message)) return "context_length_exceeded";
  if (typeof code === "string" && code.length > 0) return code;
  if (status === 404) return param === "model" ? "model_not_found" : "not_found";
  return `upstream_${status}`;
}

/** Error bodies are only quoted in a message: anything past this is dropped (a proxy's page can be megabytes). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Reads at most MAX_ERROR_BODY_BYTES of an upstream error body, then cancels the rest. */
export async function readErrorText(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    text += decoder.decode(value, { stream: true });
    if (bytes >= MAX_ERROR_BODY_BYTES) {
      await reader.cancel("error body too large");
      return text;
    }
  }
}
