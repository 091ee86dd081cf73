/**
 * The route table and the cross-cutting middleware, nothing else. Handlers live in ./handlers.
 */
import { Hono, type Context } from "hono";
import { GatewayError, internalError } from "./core/errors.js";
import { createResponse } from "./handlers/create-response.js";
import { deleteResponse, getResponse, listInputItems } from "./handlers/stored-responses.js";
import { passthrough } from "./handlers/passthrough.js";
import { mcpServers, mcpServerTools } from "./handlers/mcp-discovery.js";
import { admission } from "./handlers/admission.js";
import { errorResponse } from "./handlers/error-response.js";
import type { GatewayContext } from "./gateway-context.js";
import { observeHttp, otelContextOf, type ObservabilityVariables } from "./observability/http-middleware.js";
import type { GatewayMetrics } from "./observability/metrics.js";
import type { Tracing } from "./observability/tracing.js";
import type { McpDiscovery } from "./handlers/mcp-discovery.js";

export type AppVariables = ObservabilityVariables & { requestId: string };

export interface AppParts {
  gw: GatewayContext;
  metrics: GatewayMetrics | null;
  renderMetrics: (() => Promise<{ contentType: string; body: string }>) | null;
  tracing: Tracing;
  mcpDiscovery: McpDiscovery | null;
}

export function buildApp(parts: AppParts): Hono<{ Variables: AppVariables }> {
  const { gw, tracing } = parts;
  const app = new Hono<{ Variables: AppVariables }>();

  // Observability is outermost so the gateway's own 401s and 429s are counted and traced like every answer.
  app.use("*", observeHttp({ metrics: parts.metrics, tracing, metricsPath: gw.config.metricsPath }));
  app.use("*", admission(gw));

  /** Headers forwarded upstream: the request id. */
  // The W3C trace context is added per upstream call by its own CLIENT span (engine, passthrough), not here.
  const forwardHeaders = (c: Context<{ Variables: AppVariables }>): Headers => new Headers({ "x-request-id": c.get("requestId") });

  app.get("/health", (c) => c.json({}));
  if (gw.config.metricsEnabled && parts.renderMetrics) {
    const render = parts.renderMetrics;
    app.get(gw.config.metricsPath, async () => {
      const { contentType, body } = await render();
      return new Response(body, { headers: { "content-type": contentType } });
    });
  }

  app.post("/v1/responses", (c) => createResponse(gw, c.req.raw, c.get("requestId"), forwardHeaders(c), otelContextOf(c)));
  app.get("/v1/responses/:response_id", (c) => getResponse(gw, c.req.param("response_id"), otelContextOf(c)));
  app.delete("/v1/responses/:response_id", (c) => deleteResponse(gw, c.req.param("response_id"), otelContextOf(c)));
  app.get("/v1/responses/:response_id/input_items", (c) => listInputItems(gw, c.req.param("response_id"), new URL(c.req.url).searchParams, otelContextOf(c)));

  app.get("/v1/models", (c) => passthrough(gw, "/models", c.req.raw, forwardHeaders(c), otelContextOf(c)));
  app.post("/v1/chat/completions", (c) => passthrough(gw, "/chat/completions", c.req.raw, forwardHeaders(c), otelContextOf(c)));

  app.get("/v1/mcp/servers", () => mcpServers(parts.mcpDiscovery));
  app.get("/v1/mcp/servers/:server_label/tools", (c) => mcpServerTools(parts.mcpDiscovery, c.req.param("server_label")));

  app.notFound((c) => errorResponse(new GatewayError(404, `Unknown route: ${c.req.method} ${c.req.path}`, "invalid_request_error", null, "not_found"), c.get("requestId")));
  app.onError((err, c) => {
    if (err instanceof GatewayError) return errorResponse(err, c.get("requestId"));
    // Anything else is a bug: log it with the request id, answer without internals.
    gw.logger.error("unhandled error", { request_id: c.get("requestId"), error: err, stack: err.stack?.split("\n").slice(0, 6).join(" | ") });
    return errorResponse(internalError(), c.get("requestId"));
  });
  return app;
}

