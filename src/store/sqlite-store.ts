/**
 * SQLite backend over an injected synchronous driver (see sqlite-driver.ts).
 *
 * Several gateway worker processes on one machine share the file: WAL lets readers run alongside the single
 * writer, `busy_timeout` makes a writer wait for the lock instead of failing, and the few cases where SQLite
 * returns SQLITE_BUSY without waiting (WAL recovery, a schema change racing a prepare) are retried here, so a
 * concurrent writer never loses a row. Every write is one autocommit statement, so no connection holds a lock
 * across an `await`.
 */
import type { Logger } from "../observability/logger.js";
import { silentLogger } from "../observability/logger.js";
import { StoreError, type ResponseStore, type StoredResponseRecord } from "./response-store.js";
import { assertStorable, decodeRecord, encodeRecord, expiryCutoff, nowSeconds } from "./record-codec.js";
import { isSqliteBusyError, type SqliteDriver, type SqliteStatement } from "./sqlite-driver.js";
import { CREATE_INDEXES_SQL, CREATE_TABLE_SQL, hasExpectedColumns } from "./sqlite-schema.js";

export interface SqliteStoreOptions {
  logger?: Logger;
  /** How long SQLite itself waits for a lock before reporting SQLITE_BUSY (PRAGMA busy_timeout). */
  busyTimeoutMs?: number;
  /** Extra attempts after SQLITE_BUSY escaped the busy handler. */
  busyRetries?: number;
}

const SCHEMA_SQL = [CREATE_TABLE_SQL, ...CREATE_INDEXES_SQL].join(";\n");

/** Rows removed per purge statement, so a big purge never holds the write lock long enough to stall other workers. */
const PURGE_BATCH = 500;

interface Statements {
  insert: SqliteStatement;
  select: SqliteStatement;
  remove: SqliteStatement;
  purge: SqliteStatement;
}

export class SqliteStore implements ResponseStore {
  readonly kind = "sqlite";
  private readonly logger: Logger;
  private readonly busyTimeoutMs: number;
  private readonly busyRetries: number;
  private statements: Statements | null = null;

  constructor(
    private readonly db: SqliteDriver,
    options: SqliteStoreOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.busyRetries = options.busyRetries ?? 5;
  }

  async init(): Promise<void> {
    // busy_timeout first: switching to WAL needs a brief exclusive lock that another worker may hold right now.
    this.db.exec(`PRAGMA busy_timeout = ${Math.trunc(this.busyTimeoutMs)}`);
    await this.retryBusy("init", undefined, () => {
      this.db.exec("PRAGMA journal_mode = WAL");
      this.db.exec("PRAGMA synchronous = NORMAL");
      // IMMEDIATE takes the write lock up front, so concurrent first starts create the schema one after another.
      this.db.exec("BEGIN IMMEDIATE");
      try {
        this.db.exec(SCHEMA_SQL);
        this.db.exec("COMMIT");
      } catch (err) {
        // Roll back so the connection is reusable, then rethrow the original for retryBusy to retry or report.
        try {
          this.db.exec("ROLLBACK");
        } catch (rollbackErr) {
          // SQLite may already have rolled back on its own; the first error is the one worth reporting.
          this.logger.debug("sqlite rollback after failed schema creation also failed", { error: rollbackErr });
        }
        throw err;
      }
    });
    this.warnIfNotWal();
    this.checkSchema();
    this.statements = {
      insert: this.db.prepare(
        `INSERT INTO responses_state
           (response_id, previous_response_id, model, created_at, expires_at, schema_version, state_json)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (response_id) DO NOTHING`,
      ),
      select: this.db.prepare(
        `SELECT state_json FROM responses_state
         WHERE response_id = ? AND (expires_at IS NULL OR expires_at >= ?)`,
      ),
      remove: this.db.prepare(`DELETE FROM responses_state WHERE response_id = ? RETURNING expires_at`),
      purge: this.db.prepare(
        `DELETE FROM responses_state WHERE response_id IN
           (SELECT response_id FROM responses_state WHERE expires_at < ? LIMIT ${PURGE_BATCH})`,
      ),
    };
  }

  async put(record: StoredResponseRecord): Promise<void> {
    assertStorable(record);
    const state = encodeRecord(record);
    const { insert } = this.prepared();
    const result = await this.retryBusy("put", record.id, () =>
      insert.run(
        record.id,
        record.previous_response_id,
        record.model,
        record.created_at,
        record.expires_at,
        record.schema_version,
        state,
      ),
    );
    // ON CONFLICT DO NOTHING instead of catching a constraint error: the three drivers word those differently.
    if (Number(result.changes) === 0) {
      throw new StoreError(`response ${record.id} already exists`, "duplicate", record.id);
    }
  }

  async get(id: string): Promise<StoredResponseRecord | null> {
    const { select } = this.prepared();
    const row = await this.retryBusy("get", id, () => select.get(id, expiryCutoff(nowSeconds())));
    if (row === undefined || row === null) return null;
    return decodeRecord(id, (row as { state_json?: unknown }).state_json);
  }

  async delete(id: string): Promise<boolean> {
    const { remove } = this.prepared();
    const row = await this.retryBusy("delete", id, () => remove.get(id));
    if (row === undefined || row === null) return false;
    const expiresAt = (row as { expires_at?: unknown }).expires_at;
    // An expired row is already absent to clients: remove it, but report "not found" as get() would.
    return expiresAt === null || expiresAt === undefined || Number(expiresAt) >= expiryCutoff(nowSeconds());
  }

  async purgeExpired(now: number): Promise<number> {
    const { purge } = this.prepared();
    let removed = 0;
    for (;;) {
      const result = await this.retryBusy("purge", undefined, () => purge.run(expiryCutoff(now)));
      const changes = Number(result.changes);
      removed += changes;
      if (changes < PURGE_BATCH) return removed;
      // Yield between batches so requests on this worker are not starved by a large purge.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  async close(): Promise<void> {
    this.statements = null;
    this.db.close();
  }

  private prepared(): Statements {
    if (this.statements === null) {
      throw new StoreError("SQLite store used before init() or after close()", "failed");
    }
    return this.statements;
  }

  /**
   * Runs `fn`, retrying SQLITE_BUSY with a short jittered backoff. busy_timeout already covers ordinary lock
   * waits; this covers the cases SQLite reports BUSY immediately. Anything else becomes a typed StoreError.
   */
  private async retryBusy<T>(operation: string, id: string | undefined, fn: () => T): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return fn();
      } catch (err) {
        if (err instanceof StoreError) throw err;
        if (!isSqliteBusyError(err)) {
          throw new StoreError(`SQLite ${operation} failed${id ? ` for ${id}` : ""}: ${message(err)}`, "failed", id, {
            cause: err,
          });
        }
        if (attempt >= this.busyRetries) {
          throw new StoreError(`SQLite ${operation} stayed locked after ${attempt + 1} attempts`, "unavailable", id, {
            cause: err,
          });
        }
        // Logged, then retried: a busy database is expected under multi-worker load, only persistent BUSY is an error.
        this.logger.debug("sqlite busy, retrying", { operation, attempt: attempt + 1 });
        await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt + Math.random() * 10));
      }
    }
  }

  /** WAL is what makes multi-worker sharing safe; some filesystems (network mounts) silently refuse it. */
  private warnIfNotWal(): void {
    const row = this.db.prepare("PRAGMA journal_mode").get() as { journal_mode?: unknown } | null | undefined;
    const mode = String(row?.journal_mode ?? "").toLowerCase();
    if (mode !== "wal" && mode !== "memory") {
      this.logger.warn("sqlite journal_mode is not WAL; concurrent gateway workers may see SQLITE_BUSY", { mode });
    }
  }

  /**
   * `CREATE TABLE IF NOT EXISTS` silently keeps a table of the same name created by something else — notably the
   * Python vllm-responses, whose default file name is the same. Refuse to start rather than fail on every write.
   */
  private checkSchema(): void {
    const rows = this.db.prepare("PRAGMA table_info(responses_state)").all() as { name: string; type: string }[];
    if (!hasExpectedColumns(rows)) {
      const actual = Object.fromEntries(rows.map((r) => [r.name, r.type]));
      throw new StoreError(
        "SQLite table responses_state has an incompatible layout (created by another program, e.g. the Python " +
          `vllm-responses?): columns ${JSON.stringify(actual)}. Point VR_DB_PATH at a new database file.`,
        "failed",
      );
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
