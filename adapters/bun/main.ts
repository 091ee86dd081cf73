/**
 * `npm run start:bun`: the gateway on `Bun.serve`, configured by `VR_*` environment variables like every runtime
 * without a command line (VR_UPSTREAM, VR_GATEWAY_HOST, VR_GATEWAY_PORT, VR_DB_PATH …). State: `bun:sqlite` for
 * the default `sqlite:///vllm_responses.db`, or PostgreSQL through the `postgres` client (which ships a Bun build),
 * optionally behind the Redis cache (ioredis).
 *
 * The only file that calls Bun's own APIs (serve, env); signals use `process`, which Bun implements.
 */
import { createConsoleLogger } from "../../src/observability/logger.js";
import { baseUrl, createPortableGateway, listenAddress } from "../shared/portable-gateway.js";
import { bunApi } from "./bun-api.js";
import { loadBunSqliteDriver } from "./sqlite-driver.js";
import { createGracefulStop } from "../shared/graceful-stop.js";
import { nodeCompatibleCapabilities } from "../shared/node-compatible-capabilities.js";

/** How long open requests and streams may take to finish after SIGINT/SIGTERM (the Node CLI's default). */
const GRACEFUL_TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  const Bun = bunApi();
  const env = Bun.env;
  const logger = createConsoleLogger("info", { runtime: "bun" });
  const { hostname, port } = listenAddress(env);
  const gateway = await createPortableGateway(env, {
    runtime: "bun",
    openSqlite: await loadBunSqliteDriver(),
    ...nodeCompatibleCapabilities(logger),
    logger,
  });

  const server = Bun.serve({
    hostname,
    port,
    // Streams may be quiet for minutes (queued upstream, a long tool run); the gateway has its own timeouts.
    idleTimeout: 0,
    development: false,
    // Only the Request: Hono would otherwise see Bun's server object as its `env`.
    fetch: (request) => gateway.fetch(request),
  });
  logger.info("ready", { url: `${baseUrl(server.hostname, server.port)}/v1/responses`, store: gateway.store.kind });

  const stop = createGracefulStop({
    logger,
    graceMs: GRACEFUL_TIMEOUT_MS,
    shutdownServer: () => server.stop(),
    closeGateway: () => gateway.close(),
    exit: (code) => process.exit(code),
  });
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((err: unknown) => {
  console.error(`vllm-responses (bun): ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof Error && err.name === "ConfigError" ? 2 : 1);
});
