/**
 * Every failure the gateway reports has one shape: `{"error": {message, type, param, code}}` with an HTTP status.
 * Handlers throw GatewayError; the app's error hook renders it. Anything else that escapes is a bug and becomes a
 * 500 `api_error` without internals (the message is logged, never echoed).
 */
export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "rate_limit_error"
  | "api_error"
  | "server_error";

export interface ErrorBody {
  error: { message: string; type: ErrorType | string; param: string | null; code: string | null };
}

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType | string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Extra response headers (e.g. Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "GatewayError";
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function invalidRequest(message: string, param: string | null, code: string | null = null): GatewayError {
  return new GatewayError(400, message, "invalid_request_error", param, code);
}

export function notFound(message: string, param: string | null, code: string): GatewayError {
  return new GatewayError(404, message, "invalid_request_error", param, code);
}

export function upstreamUnavailable(detail?: string): GatewayError {
  return new GatewayError(502, detail ? `Upstream unavailable: ${detail}` : "Upstream unavailable", "api_error", null, "upstream_unavailable");
}

export function upstreamTimeout(detail?: string): GatewayError {
  return new GatewayError(504, detail ? `Upstream timeout: ${detail}` : "Upstream timeout", "api_error", null, "upstream_timeout");
}

export function storeUnavailable(detail: string): GatewayError {
  return new GatewayError(503, `Response store unavailable: ${detail}`, "api_error", null, "store_unavailable");
}

/**
 * The client went away before its answer was ready (nginx's 499). Nobody receives this response; the status keeps
 * a disconnect out of the 5xx metrics and the error log, where it would pass for a gateway failure.
 */
export function clientClosedRequest(): GatewayError {
  return new GatewayError(499, "The client closed the connection before the response was complete.", "invalid_request_error", null, "client_closed_request");
}

export function internalError(message = "The gateway hit an unexpected error. It has been logged."): GatewayError {
  return new GatewayError(500, message, "api_error", null, "internal_error");
}
