/**
 * Everything a request handler needs, built once per gateway instance by `createGateway` from the options the
 * adapter passed. Runtime capabilities arrive here as interfaces; the core never asks which runtime it is on.
 */
import type { GatewayConfig } from "./config/gateway-config.js";
import type { IdGenerator } from "./core/compose/ids.js";
import type { ToolType } from "./core/compose/tool-route.js";
import type { McpToolDescriptor } from "./core/translate/build-tool-set.js";
import type { McpTool } from "./core/protocol/request.js";
import type { CodeRunner, McpCaller } from "./engine/gateway-tools.js";
import type { Logger } from "./observability/logger.js";
import type { Tracing } from "./observability/tracing.js";
import type { ResponseStore } from "./store/response-store.js";
import type { UpstreamClient } from "./upstream/chat-client.js";

/** The metric hooks the handlers call (implemented by observability/metrics.ts). */
export interface MetricsSink {
  toolRequested(toolType: ToolType): void;
  toolExecuted(toolType: ToolType, durationSeconds: number, ok: boolean): void;
  gatewayOverhead(route: string, seconds: number): void;
}

/** MCP as the request path sees it: discovery of a declared server's tools and a caller to run them. */
export interface McpSupport {
  /** Built-in servers from mcp.json; absent when none are configured. */
  hosted?: {
    listTools(serverLabel: string, param: string): Promise<McpToolDescriptor[]>;
    caller: McpCaller;
  };
  /** Request-scoped remote servers (`server_url`); absent when disabled. */
  remote?: {
    connect(tool: McpTool, param: string, signal: AbortSignal): Promise<{ tools: McpToolDescriptor[]; caller: McpCaller; close(): Promise<void> }>;
  };
}

export interface GatewayContext {
  config: GatewayConfig;
  store: ResponseStore;
  upstream: UpstreamClient;
  logger: Logger;
  metrics: MetricsSink | null;
  codeRunner: CodeRunner | undefined;
  mcp: McpSupport;
  newId: IdGenerator;
  tracing: Tracing;
  /** Unix seconds. */
  now: () => number;
}
