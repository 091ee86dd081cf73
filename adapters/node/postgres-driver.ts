/**
 * Node's PostgreSQL connection pool for the store: the `postgres` package, with bounded timeouts so an
 * unreachable database fails a request in seconds (StoreError `unavailable`) rather than hanging it.
 */
import postgres, { type Sql } from "postgres";
import type { Logger } from "../../src/observability/logger.js";
import { silentLogger } from "../../src/observability/logger.js";

export interface PostgresDriverOptions {
  logger?: Logger;
  /** Connections per gateway process; each worker has its own pool, so keep it small. */
  maxConnections?: number;
  connectTimeoutSeconds?: number;
}

/** SQLAlchemy spells the driver into the scheme (`postgresql+asyncpg://`); the `postgres` package does not. */
export function normalizePostgresUrl(url: string): string {
  return url.replace(/^postgresql\+asyncpg:\/\//, "postgresql://");
}

export function createPostgresDriver(url: string, options: PostgresDriverOptions = {}): Sql {
  const logger = options.logger ?? silentLogger;
  return postgres(normalizePostgresUrl(url), {
    max: options.maxConnections ?? 5,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    // Return idle connections so many workers × pools do not pin the server's max_connections.
    idle_timeout: 30,
    max_lifetime: 60 * 30,
    // The default prints every NOTICE (e.g. "relation already exists, skipping" from the idempotent schema).
    onnotice: (notice) => logger.debug("postgres notice", { message: notice.message, code: notice.code }),
  });
}
