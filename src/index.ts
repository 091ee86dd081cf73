/**
 * Public API: `createGateway(options)` returns the Hono app — `app.fetch(request)` is the whole product, on any
 * runtime with Fetch. Runtime capabilities (a durable store, the code sandbox, MCP, a trace exporter) are passed in
 * by the adapter or the embedder; nothing here imports a runtime-specific module.
 */
import type { Hono } from "hono";
import { buildApp, type AppVariables } from "./app.js";
import { loadGatewayConfig, type GatewayConfig } from "./config/gateway-config.js";
import { ConfigError, type EnvRecord } from "./config/env-values.js";
import { randomId } from "./core/compose/ids.js";
import type { CodeRunner } from "./engine/gateway-tools.js";
import type { GatewayContext, McpSupport } from "./gateway-context.js";
import type { McpDiscovery } from "./handlers/mcp-discovery.js";
import { createConsoleLogger, type Logger } from "./observability/logger.js";
import { createGatewayMetrics, type GatewayMetrics } from "./observability/metrics.js";
import { createTracing, disabledTracing, type Tracing } from "./observability/tracing.js";
import { MemoryStore } from "./store/memory-store.js";
import type { ResponseStore } from "./store/response-store.js";
import { UpstreamClient } from "./upstream/chat-client.js";

export interface GatewayOptions {
  /** vLLM base URL (`/v1` optional). Falls back to `VR_UPSTREAM` in `env`. */
  upstream?: string;
  /** `VR_*` settings (process.env, Deno.env.toObject(), Workers bindings…). Defaults to none. */
  env?: EnvRecord;
  /** Explicit settings; win over `env`. */
  config?: Partial<GatewayConfig>;
  /** Where conversations live. Default: in-memory (not durable — adapters pass SQLite/PostgreSQL/D1). */
  store?: ResponseStore;
  fetch?: typeof fetch;
  logger?: Logger;
  /** The code_interpreter sandbox; without it, requests declaring code_interpreter get a 400. */
  codeRunner?: CodeRunner;
  mcp?: McpSupport;
  mcpDiscovery?: McpDiscovery;
  /** Bring your own metrics instance (e.g. to share its registry); default: a fresh one when metrics are enabled. */
  metrics?: GatewayMetrics;
  /** Override how /metrics renders (multi-worker aggregation). Default: this gateway's registry. */
  renderMetrics?: () => Promise<{ contentType: string; body: string }>;
  /** Tracing; default: built from config with no exporter unless one is given in `traceExporter`. */
  tracing?: Tracing;
  /** Run by `close()` before the store closes (e.g. the retention purge, the code sandbox pool, the MCP runtime). */
  onClose?: Array<() => Promise<void>>;
}

export type Gateway = Hono<{ Variables: AppVariables }> & {
  readonly config: GatewayConfig;
  readonly store: ResponseStore;
  readonly metrics: GatewayMetrics | null;
  readonly tracing: Tracing;
  /** Flushes traces, runs `onClose`, then closes the store. */
  close(): Promise<void>;
};

export function createGateway(options: GatewayOptions = {}): Gateway {
  const config = loadGatewayConfig(options.env ?? {}, { ...options.config, ...(options.upstream ? { upstream: options.upstream } : {}) });
  if (config.apiKeysFile !== null) {
    // Fail closed: the keys in that file were asked for, and this runtime's adapter did not read them.
    throw new ConfigError("VR_API_KEYS_FILE is set but this runtime's adapter does not read key files (the Node CLI and createNodeGateway do); list the keys in VR_API_KEYS instead.");
  }
  const logger = options.logger ?? createConsoleLogger("info");
  const store = options.store ?? new MemoryStore();
  if (!options.store) logger.warn("no store configured: conversations are kept in memory and lost on restart");
  const metrics = options.metrics ?? (config.metricsEnabled ? createGatewayMetrics() : null);
  const tracing = options.tracing ?? (config.tracingEnabled ? createTracing({ enabled: true, sampleRatio: config.tracingSampleRatio, serviceName: config.otelServiceName, exporter: null, logger }) : disabledTracing);
  const gw: GatewayContext = {
    config,
    store,
    upstream: new UpstreamClient({
      baseUrl: config.upstream,
      apiKey: config.upstreamApiKey,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      firstByteTimeoutMs: config.upstreamFirstByteTimeoutMs,
      retries: config.upstreamRetries,
      idleTimeoutMs: config.upstreamIdleTimeoutMs,
      forwardClientAuthorization: config.apiKeys.length === 0,
    }),
    logger,
    metrics,
    codeRunner: options.codeRunner,
    mcp: options.mcp ?? {},
    newId: randomId,
    tracing,
    now: () => Math.floor(Date.now() / 1000),
  };
  const renderMetrics = options.renderMetrics ?? (metrics ? () => metrics.render() : null);
  const app = buildApp({ gw, metrics, renderMetrics, tracing, mcpDiscovery: options.mcpDiscovery ?? null });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await tracing.shutdown();
      // Helpers first (a retention purge must finish before the store it purges closes).
      for (const fn of options.onClose ?? []) await fn();
      await store.close();
    })();
    return closing;
  };
  return Object.assign(app, { config, store, metrics, tracing, close });
}

export type { GatewayConfig } from "./config/gateway-config.js";
export { loadGatewayConfig } from "./config/gateway-config.js";
export { ConfigError } from "./config/env-values.js";
export type { ResponseStore, StoredResponseRecord } from "./store/response-store.js";
export type { Logger } from "./observability/logger.js";
export { createConsoleLogger, silentLogger } from "./observability/logger.js";
export type { CodeRunner, McpCaller } from "./engine/gateway-tools.js";
export type { McpSupport } from "./gateway-context.js";
