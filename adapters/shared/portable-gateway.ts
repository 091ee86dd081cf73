/**
 * The gateway as the fetch runtimes without a command line (Deno, Bun, Cloudflare Workers) build it: configured
 * from `VR_*` names only, with whatever capabilities the calling adapter hands in. Web standards only — the
 * runtime-specific parts (a SQLite driver, DNS, D1, serving, signals) stay in adapters/deno, adapters/bun and
 * adapters/workers, which are the only files that touch their runtime's APIs.
 *
 * What differs from the Node CLI (adapters/node): traces go over OTLP/HTTP (gRPC needs Node's HTTP/2 stack), the
 * code interpreter and built-in MCP servers are reached over HTTP (`VR_CODE_INTERPRETER_URL`,
 * `VR_MCP_RUNTIME_URL`) because these runtimes do not spawn the Pyodide pool or stdio MCP servers themselves.
 */
import type { Sql } from "postgres";
import { createGateway, type Gateway } from "../../src/index.js";
import { ConfigError, envNumber, envString, type EnvRecord } from "../../src/config/env-values.js";
import { loadGatewayConfig, type GatewayConfig } from "../../src/config/gateway-config.js";
import { createMcpDiscovery, createMcpSupport } from "../../src/engine/mcp-support.js";
import { createConsoleLogger, type Logger } from "../../src/observability/logger.js";
import { createGatewayMetrics } from "../../src/observability/metrics.js";
import { OtlpHttpTraceExporter, otlpHttpTracesUrl, type OtlpHttpProtocol } from "../../src/observability/trace-exporter-http.js";
import { createTracing, disabledTracing, type Tracing } from "../../src/observability/tracing.js";
import { openStore, startRetentionPurge, storeOptionsFromConfig } from "../../src/store/open-store.js";
import type { RedisLike } from "../../src/store/redis-cache-store.js";
import type { ResponseStore } from "../../src/store/response-store.js";
import { withRetention } from "../../src/store/retention.js";
import type { SqliteDriver } from "../../src/store/sqlite-driver.js";
import { createHttpCodeExecutor } from "../../src/tools/code-interpreter/http-executor.js";
import type { ResolveHost } from "../../src/tools/mcp/remote-policy.js";
import { McpRuntimeHttpClient } from "../../src/tools/mcp/runtime-http-client.js";

export interface PortableCapabilities {
  /** For logs: `deno`, `bun`, `workerd`. */
  runtime: string;
  /** The runtime's SQLite (`node:sqlite` on Deno, `bun:sqlite` on Bun) for `VR_DB_PATH=sqlite:///…`. */
  openSqlite?: (path: string) => SqliteDriver;
  /** The `postgres` client for `VR_DB_PATH=postgresql://…`, where it runs. */
  openPostgres?: (url: string) => Sql;
  /** A Redis client for `VR_RESPONSE_STORE_CACHE`, where one runs. */
  openRedis?: (host: string, port: number) => RedisLike;
  /**
   * A ready store that replaces `VR_DB_PATH` (Workers: D1). The caller has initialised it; it is closed with
   * the gateway and gets `VR_RESPONSE_TTL_SECONDS` retention like any other backend.
   */
  store?: ResponseStore;
  /** DNS for the remote MCP URL policy; `null` where the runtime has none (see src/tools/mcp/remote-policy.ts). */
  resolveHost: ResolveHost | null;
  /** Purge expired records on a timer (`VR_RESPONSE_TTL_SECONDS`). Workers purge from a Cron Trigger instead. */
  purgeTimer: boolean;
  /**
   * Settings that need a runtime capability to resolve, e.g. `VR_API_KEYS_FILE` where files can be read. Whatever
   * stays unresolved makes `createGateway` refuse to start (fail closed).
   */
  resolveConfig?: (config: GatewayConfig) => GatewayConfig;
  logger?: Logger;
  fetch?: typeof fetch;
}

/** The gRPC port is the OTLP default in `VR_OPENTELEMETRY_PORT`; OTLP/HTTP collectors listen on 4318. */
const OTLP_HTTP_DEFAULT_PORT = 4318;

export async function createPortableGateway(env: EnvRecord, caps: PortableCapabilities): Promise<Gateway> {
  const loaded = loadGatewayConfig(env);
  const config = caps.resolveConfig ? caps.resolveConfig(loaded) : loaded;
  const logger = caps.logger ?? createConsoleLogger("info", { runtime: caps.runtime });
  const fetchImpl = caps.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const tracingExporter = config.tracingEnabled ? otlpHttpExporter(env, config, fetchImpl) : null;
  const metrics = config.metricsEnabled ? createGatewayMetrics() : null;

  const store = caps.store
    ? config.responseTtlSeconds
      ? withRetention(caps.store, config.responseTtlSeconds)
      : caps.store
    : await openStore(
      config.dbPath,
      {
        ...(caps.openSqlite ? { openSqlite: caps.openSqlite } : {}),
        ...(caps.openPostgres ? { openPostgres: caps.openPostgres } : {}),
        ...(caps.openRedis ? { openRedis: caps.openRedis } : {}),
      },
      storeOptionsFromConfig(config, logger, (op) => metrics?.storeCacheError(op)),
    );
  const stopPurge = caps.purgeTimer && config.responseTtlSeconds ? startRetentionPurge(store, 60_000, logger) : () => {};

  const tracing: Tracing = tracingExporter
    ? createTracing({ enabled: true, sampleRatio: config.tracingSampleRatio, serviceName: config.otelServiceName, exporter: tracingExporter, logger, resourceAttributes: { "process.runtime.name": caps.runtime } })
    : disabledTracing;

  const codeUrl = envString(env, "VR_CODE_INTERPRETER_URL");
  const codeRunner = codeUrl ? createHttpCodeExecutor({ url: codeUrl, timeoutMs: config.codeInterpreterTimeoutMs, fetch: fetchImpl, logger }) : undefined;

  const mcpRuntimeUrl = envString(env, "VR_MCP_RUNTIME_URL");
  const mcpRuntime = mcpRuntimeUrl ? new McpRuntimeHttpClient({ baseUrl: mcpRuntimeUrl, fetch: fetchImpl }) : null;
  const mcp = createMcpSupport({
    runtime: mcpRuntime,
    remote: config.mcpRemoteEnabled
      ? { enabled: true, urlChecks: config.mcpRemoteUrlChecks, resolveHost: caps.resolveHost, connectTimeoutMs: config.mcpStartupTimeoutMs, listTimeoutMs: config.mcpStartupTimeoutMs }
      : null,
    logger,
  });

  return createGateway({
    env,
    config,
    store,
    logger,
    fetch: fetchImpl,
    ...(metrics ? { metrics } : {}),
    tracing,
    ...(codeRunner ? { codeRunner } : {}),
    mcp,
    ...(mcpRuntime ? { mcpDiscovery: createMcpDiscovery(mcpRuntime) } : {}),
    onClose: [async () => stopPurge(), ...(codeRunner ? [() => codeRunner.close()] : []), ...(mcpRuntime ? [() => mcpRuntime.close()] : [])],
  });
}

/**
 * OTLP/HTTP on fetch. `grpc` is the config default (the Node CLI's exporter): left at the default it becomes
 * `http/protobuf` on port 4318 here; asked for explicitly it is a startup error rather than silently lost traces.
 */
function otlpHttpExporter(env: EnvRecord, config: GatewayConfig, fetchImpl: typeof fetch): OtlpHttpTraceExporter {
  if (envString(env, "VR_OPENTELEMETRY_PROTOCOL") === "grpc") {
    throw new ConfigError(
      'VR_OPENTELEMETRY_PROTOCOL="grpc" needs the Node CLI (gRPC runs on Node\'s HTTP/2); on this runtime use http/protobuf or http/json (OTLP/HTTP, port 4318).',
    );
  }
  const protocol: OtlpHttpProtocol = config.otelProtocol === "grpc" ? "http/protobuf" : config.otelProtocol;
  const port = envString(env, "VR_OPENTELEMETRY_PORT") === undefined ? OTLP_HTTP_DEFAULT_PORT : config.otelPort;
  return new OtlpHttpTraceExporter({ url: otlpHttpTracesUrl(config.otelHost, port), protocol, fetch: fetchImpl });
}

export interface ListenAddress {
  hostname: string;
  port: number;
}

/** `VR_GATEWAY_HOST` / `VR_GATEWAY_PORT`, with the CLI's defaults (0.0.0.0:5969). Port 0 picks a free port. */
export function listenAddress(env: EnvRecord): ListenAddress {
  const port = envNumber(env, "VR_GATEWAY_PORT", 5969, 0, 65535);
  if (!Number.isInteger(port)) throw new ConfigError(`VR_GATEWAY_PORT=${JSON.stringify(env.VR_GATEWAY_PORT)} must be an integer port.`);
  return { hostname: envString(env, "VR_GATEWAY_HOST", "0.0.0.0"), port };
}

/** The URL to print in the ready line (an IPv6 host needs brackets). */
export function baseUrl(hostname: string, port: number): string {
  const host = hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
  return `http://${host}:${port}`;
}
