/**
 * `npm run start:deno` (the `start` task in deno.json): the gateway on `Deno.serve`, configured by `VR_*`
 * environment variables like every runtime without a command line (VR_UPSTREAM, VR_GATEWAY_HOST,
 * VR_GATEWAY_PORT, VR_DB_PATH …). State: `node:sqlite` for the default `sqlite:///vllm_responses.db`, or
 * PostgreSQL through the `postgres` client, optionally behind the Redis cache (ioredis); Deno's npm compatibility
 * runs both on `node:net`.
 *
 * The only file that calls Deno's own APIs (serve, env, signals); everything else is the shared portable glue.
 */
import { createConsoleLogger } from "../../src/observability/logger.js";
import { baseUrl, createPortableGateway, listenAddress } from "../shared/portable-gateway.js";
import { denoApi } from "./deno-api.js";
import { loadNodeSqliteDriver } from "./sqlite-driver.js";
import { createGracefulStop } from "../shared/graceful-stop.js";
import { nodeCompatibleCapabilities } from "../shared/node-compatible-capabilities.js";

/** How long open requests and streams may take to finish after SIGINT/SIGTERM (the Node CLI's default). */
const GRACEFUL_TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  const Deno = denoApi();
  const env = Deno.env.toObject();
  const logger = createConsoleLogger("info", { runtime: "deno" });
  const { hostname, port } = listenAddress(env);
  const gateway = await createPortableGateway(env, {
    runtime: "deno",
    openSqlite: await loadNodeSqliteDriver(),
    ...nodeCompatibleCapabilities(logger),
    logger,
  });

  const server = Deno.serve({
    hostname,
    port,
    // Only the Request: Hono would otherwise see Deno's connection info as its `env`.
    handler: (request) => gateway.fetch(request),
    onListen: (addr) => logger.info("ready", { url: `${baseUrl(addr.hostname, addr.port)}/v1/responses`, store: gateway.store.kind }),
  });

  const stop = createGracefulStop({
    logger,
    graceMs: GRACEFUL_TIMEOUT_MS,
    shutdownServer: () => server.shutdown(),
    closeGateway: () => gateway.close(),
    exit: (code) => Deno.exit(code),
  });
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
}

main().catch((err: unknown) => {
  console.error(`vllm-responses (deno): ${err instanceof Error ? err.message : String(err)}`);
  denoApi().exit(err instanceof Error && err.name === "ConfigError" ? 2 : 1);
});
