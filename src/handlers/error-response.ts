/**
 * GatewayError → the OpenAI-shaped JSON error response, with the request id echoed.
 */
import type { GatewayError } from "../core/errors.js";

export function errorResponse(err: GatewayError, requestId: string | undefined): Response {
  const headers = new Headers({ "content-type": "application/json", ...err.headers });
  if (requestId) headers.set("x-request-id", requestId);
  return new Response(JSON.stringify(err.toBody()), { status: err.status, headers });
}
