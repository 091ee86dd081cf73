/**
 * The first middleware: request id, optional CORS, optional gateway API keys, and the concurrency cap (429 with
 * Retry-After, answered at once — a queue here would only hide overload from the client).
 */
import type { MiddlewareHandler } from "hono";
import { GatewayError } from "../core/errors.js";
import type { GatewayContext } from "../gateway-context.js";
import { errorResponse } from "./error-response.js";
import { constantTimeEqual } from "./constant-time.js";
import { isEventStream, STREAM_END_HOOK } from "../observability/http-middleware.js";

const OPEN_PATHS = new Set(["/health"]);

export function admission(gw: GatewayContext): MiddlewareHandler<{ Variables: { requestId: string; [STREAM_END_HOOK]: () => void } }> {
  let inFlight = 0;
  const keys = gw.config.apiKeys;
  const cors = new Set(gw.config.corsOrigins);
  return async (c, next) => {
    const requestId = sanitizeRequestId(c.req.header("x-request-id")) ?? crypto.randomUUID();
    c.set("requestId", requestId);
    const origin = c.req.header("origin");
    const allowOrigin = origin && (cors.has("*") || cors.has(origin)) ? (cors.has("*") ? "*" : origin) : null;
    if (allowOrigin && c.req.method === "OPTIONS") {
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": allowOrigin,
          "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
          "access-control-allow-headers": c.req.header("access-control-request-headers") ?? "authorization, content-type",
          "access-control-max-age": "600",
          vary: "origin",
        },
      });
    }
    // Refusals carry the CORS headers too: a browser client can only read the 401/429 it was sent if they do.
    const withCors = (res: Response): Response => {
      if (allowOrigin) {
        res.headers.set("access-control-allow-origin", allowOrigin);
        res.headers.append("vary", "origin");
      }
      return res;
    };
    const path = c.req.path;
    if (keys.length > 0 && path.startsWith("/v1/")) {
      const auth = c.req.header("authorization") ?? "";
      const token = auth.startsWith("Bearer ") ? auth.slice(7).trim() : "";
      // Every key is compared (no early exit), so the time taken does not reveal which key, if any, matched.
      let matched = false;
      for (const key of keys) matched = constantTimeEqual(key, token) || matched;
      if (!matched) {
        return withCors(errorResponse(new GatewayError(401, "Missing or invalid API key. Send 'Authorization: Bearer <key>'.", "authentication_error", null, "invalid_api_key"), requestId));
      }
    }
    const limited = !OPEN_PATHS.has(path) && path !== gw.config.metricsPath;
    if (limited && inFlight >= gw.config.maxConcurrency) {
      return withCors(errorResponse(new GatewayError(429, `The gateway is at its concurrency limit (${gw.config.maxConcurrency} in-flight requests, VR_MAX_CONCURRENCY).`, "rate_limit_error", null, "concurrency_limit", { "retry-after": "1" }), requestId));
    }
    if (limited) inFlight++;
    let released = false;
    const release = (): void => {
      if (limited && !released) {
        released = true;
        inFlight--;
      }
    };
    // An SSE response holds its slot until the stream ends or the client goes away: the observability middleware
    // (which already watches every stream's end) calls this hook, so the body is wrapped only once.
    if (limited) c.set(STREAM_END_HOOK, release);
    try {
      await next();
    } catch (err) {
      release();
      throw err;
    }
    c.res.headers.set("x-request-id", requestId);
    withCors(c.res);
    if (!isEventStream(c.res)) release();
  };
}

function sanitizeRequestId(v: string | undefined): string | undefined {
  // Echoed into headers and logs: only a bounded, header-safe token is taken from the client.
  return v && /^[\w.:-]{1,128}$/.test(v) ? v : undefined;
}
