/**
 * `vllm-responses serve`: wait for vLLM, open the store, start the gateway (one process, or a supervisor with N
 * workers sharing the port), drain gracefully on SIGINT/SIGTERM.
 */
import cluster from "node:cluster";
import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import { loadGatewayConfig, type GatewayConfig } from "../../../src/config/gateway-config.js";

import { createConsoleLogger, type Logger } from "../../../src/observability/logger.js";
import { createGatewayMetrics } from "../../../src/observability/metrics.js";
import { UpstreamClient } from "../../../src/upstream/chat-client.js";
import { createClusterMetricsRenderer, installWorkerIpc, runSupervisor, workerIndex } from "../cluster/index.js";
import { drainServer, trackUnusedConnections } from "../graceful-server.js";
import { createNodeGateway } from "../node-gateway.js";
import { resolveApiKeysFile } from "../api-keys-file.js";
import { waitForUpstream } from "../wait-upstream.js";
import type { ServeFlags } from "./serve-flags.js";

export async function runServe(flags: ServeFlags): Promise<number> {
  const index = workerIndex();
  const logger = createConsoleLogger("info", index === null ? {} : { worker: index });
  const env = process.env;
  // Validate configuration before anything starts, so a typo is one clear line, not a crash loop of workers.
  const config = resolveApiKeysFile(loadGatewayConfig(env, { upstream: flags.upstream, ...(flags.codeInterpreterTimeoutMs ? { codeInterpreterTimeoutMs: flags.codeInterpreterTimeoutMs } : {}) }));

  if (index === null) {
    const upstream = new UpstreamClient({ baseUrl: config.upstream, apiKey: config.upstreamApiKey, fetch, firstByteTimeoutMs: 5000, retries: 0 });
    logger.info("waiting for upstream", { upstream: config.upstream });
    await waitForUpstream(upstream, { timeoutMs: flags.readyTimeoutMs, intervalMs: flags.readyIntervalMs, logger });
    logger.info("upstream ready", { upstream: config.upstream });
    if (flags.workers > 1 && cluster.isPrimary) return runPrimary(flags, config, logger);
  }
  return runWorker(flags, config, logger, index !== null);
}

/**
 * The supervisor process: owns what must exist once per machine — the MCP runtime (stdio servers are not
 * spawned per worker) — and records its metrics, which every worker's scrape includes.
 */
async function runPrimary(flags: ServeFlags, config: GatewayConfig, logger: Logger): Promise<number> {
  const metrics = createGatewayMetrics();
  const env: Record<string, string> = {};
  const helpers: Array<() => Promise<void>> = [];
  if (flags.codeInterpreter === "spawn") {
    // One sandbox service for the machine: N workers × a Pyodide pool each would cost N × ~160 MB per interpreter.
    const { runCodeInterpreterService } = await import("../code-interpreter/index.js");
    const ci = await runCodeInterpreterService({
      host: "127.0.0.1",
      port: flags.codeInterpreterPort,
      workers: flags.codeInterpreterWorkers,
      timeoutMs: config.codeInterpreterTimeoutMs,
      startupTimeoutMs: flags.codeInterpreterStartupTimeoutMs,
      ...(flags.codeInterpreterEgressPolicy ? { egressPolicyPath: flags.codeInterpreterEgressPolicy } : {}),
      logger,
    });
    env.VR_CODE_INTERPRETER_URL = ci.url;
    helpers.push(() => ci.close());
  }
  if (flags.mcpConfig) {
    const { runMcpRuntimeService } = await import("../mcp/runtime-service.js");
    const mcp = await runMcpRuntimeService({
      host: "127.0.0.1",
      port: flags.mcpPort,
      configPath: flags.mcpConfig,
      startupTimeoutMs: config.mcpStartupTimeoutMs,
      toolTimeoutMs: config.mcpToolTimeoutMs,
      logger,
      onStartup: (label, status) => metrics.mcpServerStartup(label, status),
    });
    env.VR_MCP_RUNTIME_URL = mcp.url;
    helpers.push(() => mcp.close());
  }
  logger.info("starting workers", { workers: flags.workers });
  // Workers drain for --graceful-timeout; the supervisor waits a little longer before killing, so a worker that uses
  // the whole grace period still flushes spans, closes its store and hands over its final counts.
  const code = await runSupervisor({ workers: flags.workers, gracefulTimeoutMs: flags.gracefulTimeoutMs + 5000, logger, metrics, env });
  for (const close of helpers.reverse()) await close();
  return code;
}

async function runWorker(flags: ServeFlags, config: GatewayConfig, logger: Logger, supervised: boolean): Promise<number> {
  const upstream = config.upstream;
  const metrics = createGatewayMetrics();
  const gateway = await createNodeGateway({
    upstream,
    logger,
    metrics,
    config: flags.codeInterpreterTimeoutMs ? { codeInterpreterTimeoutMs: flags.codeInterpreterTimeoutMs } : {},
    ...(supervised ? { renderMetrics: createClusterMetricsRenderer(metrics, { timeoutMs: 2000, logger }) } : {}),
    ...(process.env.VR_MCP_RUNTIME_URL ? { mcpRuntimeUrl: process.env.VR_MCP_RUNTIME_URL } : flags.mcpConfig ? { mcpConfigPath: flags.mcpConfig } : {}),
    codeInterpreter: {
      mode: flags.codeInterpreter,
      ...((process.env.VR_CODE_INTERPRETER_URL ?? flags.codeInterpreterUrl) ? { url: process.env.VR_CODE_INTERPRETER_URL ?? flags.codeInterpreterUrl } : {}),
      workers: flags.codeInterpreterWorkers,
      timeoutMs: config.codeInterpreterTimeoutMs,
      startupTimeoutMs: flags.codeInterpreterStartupTimeoutMs,
      ...(flags.codeInterpreterEgressPolicy ? { egressPolicyPath: flags.codeInterpreterEgressPolicy } : {}),
    },
  });
  const server = (await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: gateway.fetch, port: flags.port, hostname: flags.host }, () => resolve(s as Server));
    (s as Server).once("error", reject);
  })) as Server;
  const unusedConnections = trackUnusedConnections(server);
  // Long SSE streams must not be cut by Node's default request timeout.
  server.requestTimeout = 0;
  server.headersTimeout = 65_000;
  server.keepAliveTimeout = 65_000;

  const stop = async (): Promise<void> => {
    logger.info("draining", { grace_s: flags.gracefulTimeoutMs / 1000 });
    const result = await drainServer(server, { graceMs: flags.gracefulTimeoutMs, unusedConnections });
    logger.info("drained", { forced: result.forced, ms: Math.round(result.durationMs) });
    await gateway.close();
  };
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : flags.port;
  logger.info("ready", { url: `http://${flags.host}:${port}/v1/responses`, store: gateway.store.kind });

  if (supervised) {
    return new Promise<number>(() => {
      installWorkerIpc(metrics, { logger, onDrain: stop });
    });
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn("second signal: exiting now", { signal });
        resolve(1);
        return;
      }
      stopping = true;
      stop().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error("shutdown failed", { error: err as Error });
          resolve(1);
        },
      );
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
