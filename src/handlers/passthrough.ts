/**
 * GET /v1/models and POST /v1/chat/completions: the upstream's answer unchanged (status, body, SSE), errors
 * included; only transport failures are ours (502 upstream_unavailable, 504 upstream_timeout).
 */
import type { GatewayContext } from "../gateway-context.js";

export async function passthrough(gw: GatewayContext, path: string, request: Request, forward: Headers): Promise<Response> {
  const headers = new Headers(request.headers);
  for (const [k, v] of forward) headers.set(k, v);
  const proxied = new Request(request.url, { method: request.method, headers, body: request.body, duplex: "half" } as RequestInit);
  return gw.upstream.passthrough(path, proxied, request.signal);
}
