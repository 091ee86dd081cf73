/**
 * GET /v1/models and POST /v1/chat/completions: the upstream's answer unchanged (status, body, SSE), errors
 * included; only transport failures are ours (502 upstream_unavailable, 504 upstream_timeout).
 */
import { clientClosedRequest } from "../core/errors.js";
import type { Context } from "@opentelemetry/api";
import type { GatewayContext } from "../gateway-context.js";
import { inUpstreamSpan } from "../observability/child-spans.js";
import { readBodyBytes } from "./read-json-body.js";

export async function passthrough(gw: GatewayContext, path: string, request: Request, forward: Headers, traceContext: Context): Promise<Response> {
  // The one copy of the client's headers that goes upstream (the upstream client drops hop-by-hop ones from it).
  const headers = new Headers(request.headers);
  for (const [k, v] of forward) headers.set(k, v);
  // The same body cap as /v1/responses: the body is buffered (it is replayed on a retry), so it must be bounded.
  const body = request.method === "GET" || request.method === "HEAD" ? null : await readBodyBytes(request, gw.config.maxBodyBytes);
  const proxied = { method: request.method, search: new URL(request.url).search, headers, body };
  try {
    return await inUpstreamSpan(gw.tracing, traceContext, `${request.method} /v1${path}`, `${gw.upstream.baseUrl}${path}`, gw.upstream.host, headers, () => gw.upstream.passthrough(path, proxied, request.signal));
  } catch (err) {
    // An upstream fetch aborted because the client left is not a gateway failure.
    if (request.signal.aborted) throw clientClosedRequest();
    throw err;
  }
}
