/**
 * PostgreSQL backend over an injected `postgres` (porsager/postgres) instance. Only the type is imported, so
 * `src/` stays runtime-agnostic: Node builds the instance in adapters/node/postgres-driver.ts, and Deno / Bun /
 * Workers (with a TCP socket shim) can pass their own.
 *
 * Many gateways may start at once against an empty database: `CREATE TABLE IF NOT EXISTS` is not safe under
 * concurrency in PostgreSQL (two creators can both pass the existence check and one fails on the pg_type unique
 * index), so schema creation runs under a transaction-scoped advisory lock.
 */
import type { Sql } from "postgres";
import type { Logger } from "../observability/logger.js";
import { silentLogger } from "../observability/logger.js";
import { StoreError, type ResponseStore, type StoredResponseRecord } from "./response-store.js";
import { assertStorable, decodeRecord, encodeRecord, expiryCutoff, nowSeconds } from "./record-codec.js";
import { toPostgresStoreError } from "./postgres-errors.js";
import { fromJsonbText, toJsonbText } from "./postgres-json.js";

export interface PostgresStoreOptions {
  logger?: Logger;
  /** How long init() waits for another gateway that is creating the schema (PostgreSQL `lock_timeout`). */
  schemaLockTimeoutSeconds?: number;
}

/** Names the advisory lock; hashed to the int64 key pg_advisory_xact_lock takes (see schemaLockKey). */
const SCHEMA_LOCK_NAME = "vllm-responses:responses_state_schema_v1";

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS responses_state (
  response_id text PRIMARY KEY,
  previous_response_id text,
  model text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint,
  schema_version integer NOT NULL,
  state_json jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_responses_state_created_at ON responses_state (created_at);
CREATE INDEX IF NOT EXISTS ix_responses_state_expires_at ON responses_state (expires_at);
`;

/** information_schema data types of the table above; anything else was created by another program. */
const EXPECTED_COLUMNS: Record<string, string> = {
  response_id: "text",
  previous_response_id: "text",
  model: "text",
  created_at: "bigint",
  expires_at: "bigint",
  schema_version: "integer",
  state_json: "jsonb",
};

/** Rows removed per purge statement, so one purge never holds row locks on a huge set at once. */
const PURGE_BATCH = 1000;

export class PostgresStore implements ResponseStore {
  readonly kind = "postgres";
  private readonly logger: Logger;
  private readonly schemaLockTimeoutSeconds: number;

  /** The store owns `sql`: close() ends its pool. */
  constructor(
    private readonly sql: Sql,
    options: PostgresStoreOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.schemaLockTimeoutSeconds = options.schemaLockTimeoutSeconds ?? 60;
  }

  async init(): Promise<void> {
    const key = await schemaLockKey();
    const lockTimeout = `${Math.max(1, Math.trunc(this.schemaLockTimeoutSeconds))}s`;
    await this.run("init", undefined, async () => {
      await this.sql.begin(async (tx) => {
        await tx`SELECT set_config('lock_timeout', ${lockTimeout}, true)`;
        await tx`SELECT pg_advisory_xact_lock(${key.toString()}::bigint)`;
        // Parameterless multi-statement text goes over the simple query protocol in one round trip.
        await tx.unsafe(SCHEMA_SQL);
      });
      await this.checkSchema();
    });
    this.logger.debug("postgres store schema ready");
  }

  async put(record: StoredResponseRecord): Promise<void> {
    assertStorable(record);
    // Sent as text and cast by the server: a parameter the server types as jsonb would be JSON-encoded a second
    // time by the driver's jsonb serialiser (stored as one JSON string).
    const state = toJsonbText(encodeRecord(record));
    const result = await this.run("put", record.id, () => this.sql`
      INSERT INTO responses_state
        (response_id, previous_response_id, model, created_at, expires_at, schema_version, state_json)
      VALUES (${record.id}, ${record.previous_response_id}, ${record.model}, ${record.created_at},
              ${record.expires_at}, ${record.schema_version}, ${state}::text::jsonb)
      ON CONFLICT (response_id) DO NOTHING`);
    if (result.count === 0) {
      throw new StoreError(`response ${record.id} already exists`, "duplicate", record.id);
    }
  }

  async get(id: string): Promise<StoredResponseRecord | null> {
    const cutoff = expiryCutoff(nowSeconds());
    // ::text so the JSON is parsed (and shape-checked) by the shared codec, whatever type parsers `sql` was built with.
    const rows = await this.run("get", id, () => this.sql<{ state_json: string }[]>`
      SELECT state_json::text AS state_json FROM responses_state
      WHERE response_id = ${id} AND (expires_at IS NULL OR expires_at >= ${cutoff})`);
    const row = rows[0];
    return row === undefined ? null : decodeRecord(id, fromJsonbText(id, row.state_json));
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.run("delete", id, () => this.sql<{ expires_at: string | number | null }[]>`
      DELETE FROM responses_state WHERE response_id = ${id} RETURNING expires_at`);
    const row = rows[0];
    if (row === undefined) return false;
    // An expired row is already absent to clients: remove it, but report "not found" as get() would.
    return row.expires_at === null || Number(row.expires_at) >= expiryCutoff(nowSeconds());
  }

  async purgeExpired(now: number): Promise<number> {
    const cutoff = expiryCutoff(now);
    let removed = 0;
    for (;;) {
      // SKIP LOCKED: several gateways purging at once split the work instead of queueing on the same rows.
      const result = await this.run("purge", undefined, () => this.sql`
        DELETE FROM responses_state WHERE response_id IN (
          SELECT response_id FROM responses_state WHERE expires_at < ${cutoff}
          LIMIT ${PURGE_BATCH} FOR UPDATE SKIP LOCKED)`);
      removed += result.count;
      if (result.count < PURGE_BATCH) return removed;
    }
  }

  async close(): Promise<void> {
    await this.run("close", undefined, () => this.sql.end({ timeout: 5 }));
  }

  /**
   * `CREATE TABLE IF NOT EXISTS` silently keeps a same-named table created by something else (the Python
   * vllm-responses uses this table name with timestamptz columns); refuse to start rather than fail every write.
   */
  private async checkSchema(): Promise<void> {
    const rows = await this.sql<{ column_name: string; data_type: string }[]>`
      SELECT column_name, data_type FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'responses_state'`;
    const actual = Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
    const same =
      rows.length === Object.keys(EXPECTED_COLUMNS).length &&
      Object.entries(EXPECTED_COLUMNS).every(([name, type]) => actual[name] === type);
    if (!same) {
      throw new StoreError(
        "PostgreSQL table responses_state has an incompatible layout (created by another program, e.g. the " +
          `Python vllm-responses?): columns ${JSON.stringify(actual)}. Use a new database or schema.`,
        "failed",
      );
    }
  }

  private async run<T>(operation: string, id: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // Rethrown as a typed StoreError so handlers can map unreachable → 503 and the rest → 500.
      throw toPostgresStoreError(operation, id, err);
    }
  }
}

/**
 * A stable int64 from the lock name (first 8 bytes of its SHA-256, big-endian, signed), computed with Web Crypto
 * so no runtime-specific hash is needed.
 */
async function schemaLockKey(): Promise<bigint> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(SCHEMA_LOCK_NAME));
  return new DataView(digest).getBigInt64(0);
}
