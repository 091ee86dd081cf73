/**
 * Node's Redis client for the response cache: ioredis, tuned so an outage is noticed in about a second and
 * requests fall back to the database instead of queueing behind a dead connection.
 */
import { Redis } from "ioredis";
import type { Logger } from "../../src/observability/logger.js";
import { silentLogger } from "../../src/observability/logger.js";
import type { RedisLike } from "../../src/store/redis-cache-store.js";

export interface RedisDriverOptions {
  /** The Python vllm-responses used DB 1 (`redis://HOST:PORT/1`); kept so both can share one Redis. */
  db?: number;
  logger?: Logger;
  connectTimeoutMs?: number;
  /** Upper bound for one command on a connected but unresponsive server. */
  commandTimeoutMs?: number;
}

export function createRedisDriver(host: string, port: number, options: RedisDriverOptions = {}): RedisLike {
  const logger = options.logger ?? silentLogger;
  const client = new Redis({
    host,
    port,
    db: options.db ?? 1,
    // No socket until init() calls connect(), so building the store has no side effects.
    lazyConnect: true,
    // Fail commands at once while disconnected (the cache then reads the database) instead of queueing them.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 1000,
    commandTimeout: options.commandTimeoutMs ?? 500,
    // Keep reconnecting in the background, at most every 2 s, so the cache comes back by itself.
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
  // ioredis emits 'error' on every failed (re)connect and prints it to stderr when nobody listens. The cache
  // store already warns once per outage and counts each failed call, so these repeats are only debug detail.
  client.on("error", (err: unknown) => logger.debug("redis connection error", { error: err }));
  return {
    get: (key) => client.get(key),
    set: (key, value, mode, seconds) => client.set(key, value, mode, seconds),
    del: (key) => client.del(key),
    connect: () => client.connect(),
    close: async () => {
      // QUIT only works on a live connection (the offline queue is off); otherwise just stop reconnecting.
      if (client.status === "ready") await client.quit();
      else client.disconnect();
    },
  };
}
