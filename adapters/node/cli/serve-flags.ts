/**
 * `vllm-responses serve` flags → typed options. Invalid values are errors naming the flag.
 */
import { parseArgs } from "node:util";

export const SERVE_HELP = `Usage: vllm-responses serve --upstream URL [options]

Serve the OpenAI Responses API in front of a vLLM server.

  --upstream URL                     vLLM OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (/v1 optional).
                                     Required, or VR_UPSTREAM. (VR_GATEWAY_HOST / VR_GATEWAY_PORT also set the next two.)
  --upstream-api-kind KIND           chat_completions (default; the only kind this release speaks).
  --upstream-ready-timeout S         Seconds to wait for the upstream's /v1/models at start-up (default 1800).
  --upstream-ready-interval S        Seconds between "waiting for upstream" log lines (default 5).
  --gateway-host H                   Listen address (default 0.0.0.0).
  --gateway-port P                   Listen port (default 5969).
  --gateway-workers N                Worker processes sharing the port (default 1). Metrics are summed over workers.
  --graceful-timeout S               On SIGINT/SIGTERM, seconds open requests and streams may take to finish (default 30).
  --code-interpreter MODE            spawn (default) | external | disabled.
  --code-interpreter-port P          Port of the shared code-interpreter service (default 5970, loopback).
  --code-interpreter-url URL         The service to use with --code-interpreter external.
  --code-interpreter-workers N       Pyodide worker threads (default 2).
  --code-interpreter-timeout S       Time limit per execution (default 30).
  --code-interpreter-startup-timeout S  Seconds to wait for the sandbox to be ready (default 600).
  --code-interpreter-egress-policy FILE  JSON egress policy for HTTP from Python.
  --mcp-config FILE                  mcp.json with built-in MCP servers.
  --mcp-port P                       Port of the shared MCP runtime with --gateway-workers > 1 (default 5981, loopback).
  -h, --help                         Show this help.

Environment: VR_DB_PATH, VR_RESPONSE_STORE_CACHE, VR_REDIS_HOST, VR_REDIS_PORT, VR_METRICS_ENABLED, VR_METRICS_PATH,
VR_TRACING_ENABLED, VR_OPENTELEMETRY_HOST, VR_OPENTELEMETRY_PORT, VR_OPENAI_API_KEY, VR_API_KEYS, … (see README).
`;

export interface ServeFlags {
  upstream: string;
  host: string;
  port: number;
  workers: number;
  gracefulTimeoutMs: number;
  readyTimeoutMs: number;
  readyIntervalMs: number;
  codeInterpreter: "spawn" | "external" | "disabled";
  codeInterpreterPort: number;
  codeInterpreterUrl: string | undefined;
  codeInterpreterWorkers: number;
  codeInterpreterTimeoutMs: number | undefined;
  codeInterpreterStartupTimeoutMs: number;
  codeInterpreterEgressPolicy: string | undefined;
  mcpConfig: string | undefined;
  mcpPort: number;
}

export class UsageError extends Error {}

export function parseServeFlags(argv: string[], env: Record<string, string | undefined> = {}): ServeFlags | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        upstream: { type: "string" },
        "upstream-api-kind": { type: "string" },
        "upstream-ready-timeout": { type: "string" },
        "upstream-ready-interval": { type: "string" },
        "gateway-host": { type: "string" },
        "gateway-port": { type: "string" },
        "gateway-workers": { type: "string" },
        "graceful-timeout": { type: "string" },
        "code-interpreter": { type: "string" },
        "code-interpreter-port": { type: "string" },
        "code-interpreter-url": { type: "string" },
        "code-interpreter-workers": { type: "string" },
        "code-interpreter-timeout": { type: "string" },
        "code-interpreter-startup-timeout": { type: "string" },
        "code-interpreter-egress-policy": { type: "string" },
        "mcp-config": { type: "string" },
        "mcp-port": { type: "string" },
        "web-search-profile": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return "help";
  // Flags win; VR_UPSTREAM / VR_GATEWAY_HOST / VR_GATEWAY_PORT let containers configure the CLI like the other runtimes.
  const upstream = (values.upstream as string | undefined) ?? nonEmpty(env.VR_UPSTREAM);
  if (!upstream) throw new UsageError("--upstream URL (or VR_UPSTREAM) is required (e.g. --upstream http://127.0.0.1:8000/v1).");
  if (values["gateway-host"] === undefined && nonEmpty(env.VR_GATEWAY_HOST)) values["gateway-host"] = env.VR_GATEWAY_HOST;
  if (values["gateway-port"] === undefined && nonEmpty(env.VR_GATEWAY_PORT)) values["gateway-port"] = env.VR_GATEWAY_PORT;
  const kind = (values["upstream-api-kind"] as string | undefined) ?? "chat_completions";
  if (kind !== "chat_completions" && kind !== "chat-completions") {
    throw new UsageError(`--upstream-api-kind=${JSON.stringify(kind)}: only chat_completions is supported by this release.`);
  }
  if (values["web-search-profile"] !== undefined) throw new UsageError("--web-search-profile: web_search is not available in this release.");
  const ci = (values["code-interpreter"] as string | undefined) ?? "spawn";
  if (ci !== "spawn" && ci !== "external" && ci !== "disabled") throw new UsageError(`--code-interpreter=${JSON.stringify(ci)} must be spawn, external or disabled.`);
  const flags: ServeFlags = {
    upstream,
    host: (values["gateway-host"] as string | undefined) ?? "0.0.0.0",
    port: int(values, "gateway-port", 5969, 0, 65535),
    workers: int(values, "gateway-workers", 1, 1, 256),
    gracefulTimeoutMs: num(values, "graceful-timeout", 30, 0) * 1000,
    readyTimeoutMs: num(values, "upstream-ready-timeout", 1800, 0) * 1000,
    readyIntervalMs: num(values, "upstream-ready-interval", 5, 0.01) * 1000,
    codeInterpreter: ci,
    codeInterpreterPort: int(values, "code-interpreter-port", 5970, 0, 65535),
    codeInterpreterUrl: values["code-interpreter-url"] as string | undefined,
    codeInterpreterWorkers: int(values, "code-interpreter-workers", 2, 1, 64),
    codeInterpreterTimeoutMs: values["code-interpreter-timeout"] === undefined ? undefined : num(values, "code-interpreter-timeout", 30, 0.1) * 1000,
    codeInterpreterStartupTimeoutMs: num(values, "code-interpreter-startup-timeout", 600, 1) * 1000,
    codeInterpreterEgressPolicy: values["code-interpreter-egress-policy"] as string | undefined,
    mcpConfig: values["mcp-config"] as string | undefined,
    mcpPort: int(values, "mcp-port", 5981, 0, 65535),
  };
  if (flags.codeInterpreter === "external" && !flags.codeInterpreterUrl) throw new UsageError("--code-interpreter external needs --code-interpreter-url URL.");
  return flags;
}

function num(values: Record<string, unknown>, name: string, fallback: number, min: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`invalid --${name}=${JSON.stringify(v)} (expected a number ≥ ${min}).`);
  return n;
}

function int(values: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const n = num(values, name, fallback, min);
  if (!Number.isInteger(n) || n > max) throw new UsageError(`invalid --${name}=${JSON.stringify(values[name])} (expected an integer in [${min}, ${max}]).`);
  return n;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}
