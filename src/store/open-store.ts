/**
 * Turns `VR_DB_PATH` (+ the cache settings) into a ready ResponseStore. The runtime adapter passes whichever
 * drivers it has; the URL grammar is the Python project's SQLAlchemy one so existing configurations keep working.
 */
import type { Sql } from "postgres";
import type { GatewayConfig } from "../config/gateway-config.js";
import type { Logger } from "../observability/logger.js";
import { silentLogger } from "../observability/logger.js";
import type { ResponseStore } from "./response-store.js";
import { MemoryStore } from "./memory-store.js";
import { PostgresStore } from "./postgres-store.js";
import { RedisCacheStore, type CacheOperation, type RedisLike } from "./redis-cache-store.js";
import { withRetention } from "./retention.js";
import type { SqliteDriver } from "./sqlite-driver.js";
import { SqliteStore } from "./sqlite-store.js";

export { startRetentionPurge } from "./retention.js";

export interface StoreDrivers {
  /** Opens (creating if needed) the SQLite file at `path`, or `:memory:`. */
  openSqlite?(path: string): SqliteDriver;
  /** Builds a `postgres` instance for a plain `postgresql://` URL. */
  openPostgres?(url: string): Sql;
  openRedis?(host: string, port: number): RedisLike;
}

export interface OpenStoreOptions {
  /** VR_RESPONSE_STORE_CACHE */
  cacheEnabled?: boolean;
  /** VR_RESPONSE_STORE_CACHE_TTL_SECONDS (default 3600) */
  cacheTtlSeconds?: number;
  /** VR_REDIS_HOST (default localhost) */
  redisHost?: string;
  /** VR_REDIS_PORT (default 6379) */
  redisPort?: number;
  /** Retention: each stored response expires this many seconds after creation; unset/null keeps it until deleted. */
  responseTtlSeconds?: number | null;
  logger?: Logger;
  onCacheError?: (operation: CacheOperation) => void;
}

/** The store options the gateway configuration (`VR_*`) sets, for every runtime's set-up. */
export function storeOptionsFromConfig(
  config: Pick<GatewayConfig, "cacheEnabled" | "cacheTtlSeconds" | "redisHost" | "redisPort" | "responseTtlSeconds">,
  logger: Logger,
  onCacheError: (operation: CacheOperation) => void,
): OpenStoreOptions {
  return {
    cacheEnabled: config.cacheEnabled,
    cacheTtlSeconds: config.cacheTtlSeconds,
    redisHost: config.redisHost,
    redisPort: config.redisPort,
    responseTtlSeconds: config.responseTtlSeconds,
    logger,
    onCacheError,
  };
}

export type DbTarget = { backend: "memory" } | { backend: "sqlite"; path: string } | { backend: "postgres"; url: string };

const EXPECTED = "expected sqlite:///relative.db, sqlite:////absolute/path.db, postgresql://user@host/db or memory://";

/**
 * SQLAlchemy grammar: after `sqlite://` comes `/` then the path, so three slashes make a relative path and four an
 * absolute one; `sqlite://` alone is an in-memory database. `+aiosqlite` / `+asyncpg` driver suffixes are accepted
 * and ignored.
 */
export function parseDbUrl(dbUrl: string): DbTarget {
  const url = dbUrl.trim();
  if (url === "memory://") return { backend: "memory" };
  const sqlite = /^sqlite(?:\+aiosqlite)?:\/\/(.*)$/s.exec(url);
  if (sqlite !== null) {
    const rest = sqlite[1] ?? "";
    if (rest === "") return { backend: "sqlite", path: ":memory:" };
    if (!rest.startsWith("/") || rest.length === 1) {
      throw new Error(
        `VR_DB_PATH: SQLite URL ${JSON.stringify(url)} has no file path: use three slashes before a relative ` +
          "path (sqlite:///file.db) and four before an absolute one (sqlite:////var/lib/file.db)",
      );
    }
    if (rest.includes("?")) {
      throw new Error(`VR_DB_PATH: SQLite URL ${JSON.stringify(url)} has query parameters, which are not supported`);
    }
    return { backend: "sqlite", path: rest.slice(1) };
  }
  const pg = /^(?:postgresql|postgresql\+asyncpg|postgres):\/\/(.+)$/s.exec(url);
  if (pg !== null) return { backend: "postgres", url: `postgresql://${pg[1]}` };
  throw new Error(`VR_DB_PATH: unsupported database URL ${JSON.stringify(redact(url))}; ${EXPECTED}`);
}

/** Opens, wraps and initialises the store `dbUrl` names. The returned store owns its connections: close() it. */
export async function openStore(
  dbUrl: string,
  drivers: StoreDrivers,
  options: OpenStoreOptions = {},
): Promise<ResponseStore> {
  const logger = options.logger ?? silentLogger;
  const target = parseDbUrl(dbUrl);
  const retention = options.responseTtlSeconds ?? null;
  if (retention !== null && !(retention >= 1)) {
    throw new Error(`response retention must be at least 1 second, got ${retention}`);
  }
  const useCache = options.cacheEnabled === true && target.backend !== "memory";
  if (options.cacheEnabled === true && !useCache) {
    // A shared cache over per-process maps would make records visible on some workers only.
    logger.warn("VR_RESPONSE_STORE_CACHE ignored: the memory:// store is not shared, so it is not cached");
  }
  // Resolved before anything is opened, so a missing driver never leaves a pool or file handle behind.
  const openRedis = useCache ? required(drivers.openRedis, "Redis", "VR_RESPONSE_STORE_CACHE") : undefined;
  let store = openBackend(target, drivers, logger);
  if (openRedis !== undefined) {
    const redis = openRedis(options.redisHost ?? "localhost", options.redisPort ?? 6379);
    store = new RedisCacheStore(store, redis, {
      ttlSeconds: options.cacheTtlSeconds,
      logger,
      onCacheError: options.onCacheError,
    });
  }
  // Outermost, so the cache also sees (and bounds its TTL by) the stamped expiry.
  if (retention !== null) store = withRetention(store, retention);
  try {
    await store.init();
  } catch (err) {
    // Release the pool / file handle before reporting, so a failed start does not leave sockets open.
    await store.close().catch((closeErr: unknown) => {
      logger.warn("closing the store after a failed init also failed", { error: closeErr });
    });
    throw err;
  }
  logger.info("response store ready", { store: store.kind });
  return store;
}

function openBackend(target: DbTarget, drivers: StoreDrivers, logger: Logger): ResponseStore {
  switch (target.backend) {
    case "memory":
      return new MemoryStore();
    case "sqlite":
      return new SqliteStore(required(drivers.openSqlite, "SQLite", "VR_DB_PATH")(target.path), { logger });
    case "postgres":
      return new PostgresStore(required(drivers.openPostgres, "PostgreSQL", "VR_DB_PATH")(target.url), { logger });
    default: {
      const unreachable: never = target;
      throw new Error(`VR_DB_PATH: unhandled backend ${JSON.stringify(unreachable)}`);
    }
  }
}

function required<T>(driver: T | undefined, what: string, variable: string): T {
  if (driver === undefined) {
    throw new Error(`${variable}: this runtime provides no ${what} driver; choose another setting`);
  }
  return driver;
}

/** Error messages must never echo a password from the URL. */
function redact(url: string): string {
  return url.replace(/\/\/([^/@:]*):[^/@]*@/, "//$1:***@");
}
