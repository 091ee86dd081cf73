/**
 * The Node runtime's capabilities plugged into the core: better-sqlite3 / postgres / ioredis stores, the OTLP
 * gRPC exporter, and (when configured) the code sandbox and MCP. Used by the CLI and by Node embedders.
 */
import { createGateway, type Gateway, type GatewayOptions } from "../../src/index.js";
import { loadGatewayConfig, type GatewayConfig } from "../../src/config/gateway-config.js";
import type { EnvRecord } from "../../src/config/env-values.js";
import { createConsoleLogger, type Logger } from "../../src/observability/logger.js";
import { createGatewayMetrics } from "../../src/observability/metrics.js";
import { createTracing, disabledTracing } from "../../src/observability/tracing.js";
import { openStore, parseDbUrl, startRetentionPurge, storeOptionsFromConfig, type StoreDrivers } from "../../src/store/open-store.js";
import { openSqliteDriver } from "./sqlite-driver.js";
import { resolveApiKeysFile } from "./api-keys-file.js";
import { createNodeHttpFetch } from "./node-http-fetch.js";
import { createMcpDiscovery, createMcpSupport } from "../../src/engine/mcp-support.js";
import type { McpSupport } from "../../src/gateway-context.js";
import type { McpDiscovery } from "../../src/handlers/mcp-discovery.js";
import type { GatewayMetrics } from "../../src/observability/metrics.js";
import type { McpRuntime } from "../../src/tools/mcp/runtime.js";
import type { CodeInterpreterSetup } from "./code-interpreter-setup.js";
import { resolveHostWithNodeDns } from "./mcp/resolve-host.js";

// Optional capabilities are imported only when configured: the PostgreSQL and Redis clients, the gRPC exporter,
// the MCP manager and the Pyodide pool together cost tens of MB of idle memory a default `serve` never uses.

export interface NodeGatewayOptions extends Omit<GatewayOptions, "store" | "env"> {
  env?: EnvRecord;
  /** Built-in MCP: an mcp.json to run in this process, or the URL of a shared runtime (multi-worker). */
  mcpConfigPath?: string;
  mcpRuntimeUrl?: string;
  /** The code sandbox; default disabled for embedders (the CLI passes its flags). */
  codeInterpreter?: CodeInterpreterSetup;
}

export async function createNodeGateway(options: NodeGatewayOptions = {}): Promise<Gateway> {
  const env = options.env ?? process.env;
  const config: GatewayConfig = resolveApiKeysFile(loadGatewayConfig(env, { ...options.config, ...(options.upstream ? { upstream: options.upstream } : {}) }));
  const logger: Logger = options.logger ?? createConsoleLogger("info");
  const metrics = options.metrics ?? (config.metricsEnabled ? createGatewayMetrics() : null);
  const store = await openStore(
    config.dbPath,
    await storeDrivers(config, logger),
    storeOptionsFromConfig(config, logger, (op) => metrics?.storeCacheError(op)),
  );
  const stopPurge = config.responseTtlSeconds ? startRetentionPurge(store, 60_000, logger) : () => {};
  const tracing =
    options.tracing ??
    (config.tracingEnabled
      ? createTracing({
          enabled: true,
          sampleRatio: config.tracingSampleRatio,
          serviceName: config.otelServiceName,
          exporter: null,
          // Spans are encoded and sent from a worker thread (gRPC by default, see trace-export/export-thread.ts).
          spanProcessor: await (await import("./trace-export/export-thread.js")).startTraceExportThread({
            exporter: { host: config.otelHost, port: config.otelPort, protocol: config.otelProtocol },
            logger,
          }),
          // Span bookkeeping runs right after the I/O callback that wrote a response, before the next request's.
          schedule: (work) => void setImmediate(work),
          logger,
        })
      : disabledTracing);
  const mcp = await buildMcp(options, config, logger, metrics);
  const code = options.codeInterpreter && options.codeInterpreter.mode !== "disabled" ? await (await import("./code-interpreter-setup.js")).startCodeRunner(options.codeInterpreter, logger) : null;
  return createGateway({
    fetch: createNodeHttpFetch(),
    ...options,
    mcp: mcp.support,
    ...(code ? { codeRunner: code.runner } : {}),
    ...(mcp.discovery ? { mcpDiscovery: mcp.discovery } : {}),
    env,
    config,
    store,
    logger,
    metrics: metrics ?? undefined,
    tracing,
    onClose: [async () => stopPurge(), ...mcp.close, ...(code ? [code.close] : []), ...(options.onClose ?? [])],
  });
}

async function buildMcp(
  options: NodeGatewayOptions,
  config: GatewayConfig,
  logger: Logger,
  metrics: GatewayMetrics | null,
): Promise<{ support: McpSupport; discovery: McpDiscovery | null; close: Array<() => Promise<void>> }> {
  let runtime: McpRuntime | null = null;
  if (options.mcpRuntimeUrl) {
    const { McpRuntimeHttpClient } = await import("../../src/tools/mcp/runtime-http-client.js");
    runtime = new McpRuntimeHttpClient({ baseUrl: options.mcpRuntimeUrl });
  } else if (options.mcpConfigPath) {
    const { startHostedMcpManager } = await import("./mcp/hosted-manager.js");
    const { loadMcpConfigFile } = await import("./mcp/load-mcp-config.js");
    runtime = await startHostedMcpManager({
      config: await loadMcpConfigFile(options.mcpConfigPath),
      startupTimeoutMs: config.mcpStartupTimeoutMs,
      logger,
      onStartup: (label, status) => metrics?.mcpServerStartup(label, status),
    });
  }
  const support = createMcpSupport({
    runtime,
    remote: config.mcpRemoteEnabled
      ? { enabled: true, urlChecks: config.mcpRemoteUrlChecks, resolveHost: resolveHostWithNodeDns, connectTimeoutMs: config.mcpStartupTimeoutMs, listTimeoutMs: config.mcpStartupTimeoutMs }
      : null,
    logger,
  });
  const rt = runtime;
  return { support, discovery: rt ? createMcpDiscovery(rt) : null, close: rt ? [() => rt.close()] : [] };
}

async function storeDrivers(config: GatewayConfig, logger: Logger): Promise<StoreDrivers> {
  const drivers: StoreDrivers = { openSqlite: openSqliteDriver };
  if (parseDbUrl(config.dbPath).backend === "postgres") {
    const { createPostgresDriver } = await import("./postgres-driver.js");
    drivers.openPostgres = (url) => createPostgresDriver(url, { logger });
  }
  if (config.cacheEnabled) {
    const { createRedisDriver } = await import("./redis-driver.js");
    drivers.openRedis = (host, port) => createRedisDriver(host, port, { logger });
  }
  return drivers;
}
