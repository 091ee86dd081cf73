/**
 * The gateway's typed configuration. Every runtime builds it the same way: from a plain record (process env,
 * Deno.env, Workers bindings) plus explicit overrides (CLI flags, embedding options).
 */
import { ConfigError, envBool, envChoice, envList, envNumber, envString, type EnvRecord } from "./env-values.js";

export interface GatewayConfig {
  /** Upstream API base, normalised to end in `/v1`. */
  upstream: string;
  /** Bearer sent to vLLM (`VR_OPENAI_API_KEY`). */
  upstreamApiKey: string | undefined;
  dbPath: string;
  responseTtlSeconds: number | null;
  cacheEnabled: boolean;
  cacheTtlSeconds: number;
  redisHost: string;
  redisPort: number;
  metricsEnabled: boolean;
  metricsPath: string;
  reasoningEventFormat: "open_responses" | "openai";
  maxToolRounds: number;
  maxBodyBytes: number;
  maxConcurrency: number;
  maxInputItems: number;
  maxTools: number;
  maxJsonDepth: number;
  upstreamFirstByteTimeoutMs: number;
  upstreamIdleTimeoutMs: number;
  upstreamRetries: number;
  codeInterpreterTimeoutMs: number;
  logModelMessages: boolean;
  logTimings: boolean;
  apiKeys: string[];
  /**
   * `VR_API_KEYS_FILE`: one key per line, added to `apiKeys`. Reading a file is a runtime capability, so the
   * adapter resolves it (adapters/node) and sets this to null; `createGateway` refuses to start while it is still
   * set, because silently serving without the keys the operator asked for would be an open gateway.
   */
  apiKeysFile: string | null;
  corsOrigins: string[];
  tracingEnabled: boolean;
  tracingSampleRatio: number;
  otelHost: string;
  otelPort: number;
  otelServiceName: string;
  otelProtocol: "grpc" | "http/protobuf" | "http/json";
  mcpRemoteEnabled: boolean;
  mcpRemoteUrlChecks: boolean;
  mcpStartupTimeoutMs: number;
  mcpToolTimeoutMs: number;
}

export function normaliseUpstream(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`upstream ${JSON.stringify(url)} is not a valid URL (expected e.g. http://127.0.0.1:8000/v1).`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new ConfigError(`upstream ${JSON.stringify(url)} must be http(s).`);
  // fetch refuses URLs with credentials, and the URL is logged at start-up: the key belongs in VR_OPENAI_API_KEY.
  // The message names the host only, never the credential.
  if (parsed.username || parsed.password) throw new ConfigError(`upstream URL for ${parsed.host} contains credentials; pass the upstream key in VR_OPENAI_API_KEY instead.`);
  const path = parsed.pathname.replace(/\/+$/, "");
  parsed.pathname = path.endsWith("/v1") ? path : `${path}/v1`;
  return parsed.toString().replace(/\/+$/, "");
}

export function loadGatewayConfig(env: EnvRecord, overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  const upstream = overrides.upstream ?? envString(env, "VR_UPSTREAM");
  if (!upstream) throw new ConfigError("No upstream configured: pass --upstream URL (CLI), VR_UPSTREAM (environment) or { upstream } (embedding).");
  const ttl = envNumber(env, "VR_RESPONSE_TTL_SECONDS", 0, 0);
  const config: GatewayConfig = {
    upstream: normaliseUpstream(upstream),
    upstreamApiKey: envString(env, "VR_OPENAI_API_KEY"),
    dbPath: envString(env, "VR_DB_PATH", "sqlite:///vllm_responses.db"),
    responseTtlSeconds: ttl > 0 ? ttl : null,
    cacheEnabled: envBool(env, "VR_RESPONSE_STORE_CACHE", false),
    cacheTtlSeconds: envNumber(env, "VR_RESPONSE_STORE_CACHE_TTL_SECONDS", 3600, 1),
    redisHost: envString(env, "VR_REDIS_HOST", "127.0.0.1"),
    redisPort: envNumber(env, "VR_REDIS_PORT", 6379, 1, 65535),
    metricsEnabled: envBool(env, "VR_METRICS_ENABLED", true),
    metricsPath: envString(env, "VR_METRICS_PATH", "/metrics"),
    reasoningEventFormat: envChoice(env, "VR_REASONING_EVENT_FORMAT", ["open_responses", "openai"] as const, "open_responses"),
    maxToolRounds: envNumber(env, "VR_MAX_TOOL_ROUNDS", 20, 1, 1000),
    maxBodyBytes: envNumber(env, "VR_MAX_BODY_BYTES", 32 * 1024 * 1024, 1024),
    maxConcurrency: envNumber(env, "VR_MAX_CONCURRENCY", 300, 1),
    maxInputItems: envNumber(env, "VR_MAX_INPUT_ITEMS", 100_000, 1),
    maxTools: envNumber(env, "VR_MAX_TOOLS", 512, 1),
    maxJsonDepth: envNumber(env, "VR_MAX_JSON_DEPTH", 64, 4, 10_000),
    upstreamFirstByteTimeoutMs: envNumber(env, "VR_UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS", 600, 0.001) * 1000,
    upstreamIdleTimeoutMs: envNumber(env, "VR_UPSTREAM_IDLE_TIMEOUT_SECONDS", 300, 0.001) * 1000,
    upstreamRetries: envNumber(env, "VR_UPSTREAM_RETRIES", 2, 0, 10),
    codeInterpreterTimeoutMs: envNumber(env, "VR_CODE_INTERPRETER_TIMEOUT_SECONDS", 30, 0.1) * 1000,
    logModelMessages: envBool(env, "VR_LOG_MODEL_MESSAGES", false),
    logTimings: envBool(env, "VR_LOG_TIMINGS", false),
    apiKeys: envList(env, "VR_API_KEYS"),
    apiKeysFile: envString(env, "VR_API_KEYS_FILE") ?? null,
    corsOrigins: envList(env, "VR_CORS_ORIGINS"),
    tracingEnabled: envBool(env, "VR_TRACING_ENABLED", false),
    tracingSampleRatio: envNumber(env, "VR_TRACING_SAMPLE_RATIO", 1, 0, 1),
    otelHost: envString(env, "VR_OPENTELEMETRY_HOST", "127.0.0.1"),
    // OTLP collectors listen for gRPC on 4317 and for OTLP/HTTP on 4318: the default follows the protocol.
    otelPort: envNumber(env, "VR_OPENTELEMETRY_PORT", envChoice(env, "VR_OPENTELEMETRY_PROTOCOL", ["grpc", "http/protobuf", "http/json"] as const, "grpc") === "grpc" ? 4317 : 4318, 1, 65535),
    otelServiceName: envString(env, "VR_OTEL_SERVICE_NAME", "vllm_responses"),
    otelProtocol: envChoice(env, "VR_OPENTELEMETRY_PROTOCOL", ["grpc", "http/protobuf", "http/json"] as const, "grpc"),
    mcpRemoteEnabled: envBool(env, "VR_MCP_REQUEST_REMOTE_ENABLED", true),
    mcpRemoteUrlChecks: envBool(env, "VR_MCP_REQUEST_REMOTE_URL_CHECKS", true),
    mcpStartupTimeoutMs: envNumber(env, "VR_MCP_HOSTED_STARTUP_TIMEOUT_SEC", 10, 0.1) * 1000,
    mcpToolTimeoutMs: envNumber(env, "VR_MCP_HOSTED_TOOL_TIMEOUT_SEC", 60, 0.1) * 1000,
  };
  const merged = { ...config, ...definedOnly(overrides) };
  merged.upstream = normaliseUpstream(merged.upstream);
  if (!merged.metricsPath.startsWith("/")) throw new ConfigError(`VR_METRICS_PATH must start with '/', got ${JSON.stringify(merged.metricsPath)}.`);
  return merged;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
