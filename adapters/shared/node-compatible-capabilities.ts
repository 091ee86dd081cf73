/**
 * Capabilities Deno and Bun take from their Node compatibility layers, the same way: the `postgres` and ioredis
 * clients over node:net, name resolution through node:dns (getaddrinfo, the resolver their fetch connects
 * through — Deno.resolveDns is not: it skips /etc/hosts, so a policy check with it could pass a name that fetch then
 * sends somewhere private), the retention purge timer, and `VR_API_KEYS_FILE` read through node:fs.
 */
import type { Logger } from "../../src/observability/logger.js";
import { resolveApiKeysFile } from "../node/api-keys-file.js";
import { resolveHostWithNodeDns } from "../node/mcp/resolve-host.js";
import { createPostgresDriver } from "../node/postgres-driver.js";
import { createRedisDriver } from "../node/redis-driver.js";

export function nodeCompatibleCapabilities(logger: Logger) {
  return {
    openPostgres: (url: string) => createPostgresDriver(url, { logger }),
    openRedis: (host: string, port: number) => createRedisDriver(host, port, { logger }),
    resolveHost: resolveHostWithNodeDns,
    purgeTimer: true,
    resolveConfig: resolveApiKeysFile,
  } as const;
}
