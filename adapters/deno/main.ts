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
import { resolveHostWithNodeDns } from "../node/mcp/resolve-host.js";
import { resolveApiKeysFile } from "../node/api-keys-file.js";
import { createPostgresDriver } from "../node/postgres-driver.js";
import { createRedisDriver } from "../node/redis-driver.js";
import { baseUrl, createPortableGateway, listenAddress } from "../shared/portable-gateway.js";
import { denoApi } from "./deno-api.js";
import { loadNodeSqliteDriver } from "./sqlite-driver.js";

/** How long open requests and streams may take to finish after SIGINT/SIGTERM (the Node CLI's default). */
const GRACEFUL_TIMEOUT_MS = 30_000;
const DUPLICATE_SIGNAL_WINDOW_MS = 1000;

async function main(): Promise<void> {
  const Deno = denoApi();
  const env = Deno.env.toObject();
  const logger = createConsoleLogger("info", { runtime: "deno" });
  const { hostname, port } = listenAddress(env);
  const gateway = await createPortableGateway(env, {
    runtime: "deno",
    openSqlite: await loadNodeSqliteDriver(),
    openPostgres: (url) => createPostgresDriver(url, { logger }),
    openRedis: (host, port) => createRedisDriver(host, port, { logger }),
    // Deno's node:dns `lookup` is getaddrinfo, the resolver its fetch connects through (Deno.resolveDns is not:
    // it skips /etc/hosts, so a policy check with it could pass a name fetch then sends somewhere private).
    resolveHost: resolveHostWithNodeDns,
    purgeTimer: true,
    // VR_API_KEYS_FILE through node:fs, which this runtime implements.
    resolveConfig: resolveApiKeysFile,
    logger,
  });

  const server = Deno.serve({
    hostname,
    port,
    // Only the Request: Hono would otherwise see Deno's connection info as its `env`.
    handler: (request) => gateway.fetch(request),
    onListen: (addr) => logger.info("ready", { url: `${baseUrl(addr.hostname, addr.port)}/v1/responses`, store: gateway.store.kind }),
  });

  let stoppingSince: number | null = null;
  const stop = (signal: string): void => {
    if (stoppingSince !== null) {
      // One Ctrl-C arrives more than once: the terminal signals the whole process group and `deno task` / npm
      // forward it as well. Only a signal sent after that burst means "stop waiting".
      if (Date.now() - stoppingSince < DUPLICATE_SIGNAL_WINDOW_MS) return;
      logger.warn("second signal: exiting now", { signal });
      Deno.exit(1);
    }
    stoppingSince = Date.now();
    logger.info("draining", { signal, grace_s: GRACEFUL_TIMEOUT_MS / 1000 });
    const drained = server.shutdown().then(() => false);
    const forced = new Promise<boolean>((resolve) => setTimeout(() => resolve(true), GRACEFUL_TIMEOUT_MS));
    Promise.race([drained, forced])
      .then(async (wasForced) => {
        logger.info("drained", { forced: wasForced });
        await gateway.close();
        Deno.exit(0);
      })
      .catch((err: unknown) => {
        logger.error("shutdown failed", { error: err as Error });
        Deno.exit(1);
      });
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
}

main().catch((err: unknown) => {
  console.error(`vllm-responses (deno): ${err instanceof Error ? err.message : String(err)}`);
  denoApi().exit(err instanceof Error && err.name === "ConfigError" ? 2 : 1);
});
