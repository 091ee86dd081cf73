/**
 * The conversation store on Cloudflare D1: durable, shared by every isolate and every location of the Worker,
 * which an isolate's memory is not (isolates are created and evicted at will, and each has its own memory).
 *
 * D1 is SQLite, so the table is exactly the SQLite store's (src/store/sqlite-store.ts) and rows use the shared
 * record codec: a database exported with `wrangler d1 export` opens with `VR_DB_PATH=sqlite:///…` on any other
 * runtime, and the reverse. D1's API is asynchronous, so this cannot reuse SqliteStore's synchronous driver seam.
 *
 * The schema is created on first use (`init`, called once per isolate by the Worker): `IF NOT EXISTS` makes the
 * race between isolates starting at the same moment harmless, as D1 runs one statement at a time.
 */
import type { Logger } from "../../src/observability/logger.js";
import { silentLogger } from "../../src/observability/logger.js";
import { assertStorable, decodeRecord, encodeRecord, expiryCutoff, nowSeconds } from "../../src/store/record-codec.js";
import { StoreError, type ResponseStore, type StoredResponseRecord } from "../../src/store/response-store.js";
import { CREATE_INDEXES_SQL, CREATE_TABLE_SQL, hasExpectedColumns } from "../../src/store/sqlite-schema.js";
import type { D1Database } from "./workers-types.js";

/** Rows per purge statement: D1 limits a query's duration, so a large purge is cut into batches. */
const PURGE_BATCH = 500;

/**
 * Errors D1 documents as transient ("Network connection lost", "storage caused object to be reset", "Cannot
 * resolve D1 DB due to transient issue", …): a read may simply be repeated.
 */
const TRANSIENT = /network connection lost|object to be reset|transient issue|reset because its code was updated|overloaded|timed out/i;

export interface D1StoreOptions {
  logger?: Logger;
  /** Extra attempts for reads and schema creation after a transient error. Default 2. */
  retries?: number;
}

export class D1Store implements ResponseStore {
  readonly kind = "d1";
  private readonly logger: Logger;
  private readonly retries: number;

  constructor(
    private readonly db: D1Database,
    options: D1StoreOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.retries = options.retries ?? 2;
  }

  async init(): Promise<void> {
    await this.attempt("init", undefined, true, () => this.db.prepare(CREATE_TABLE_SQL).run());
    // Checked before the indexes, which would otherwise fail first with a less helpful "no such column".
    const info = await this.attempt("init", undefined, true, () => this.db.prepare("PRAGMA table_info(responses_state)").all<{ name: string; type: string }>());
    if (!hasExpectedColumns(info.results)) {
      const actual = Object.fromEntries(info.results.map((r) => [r.name, r.type]));
      throw new StoreError(`D1 table responses_state has an incompatible layout (created by another program?): columns ${JSON.stringify(actual)}. Bind a new D1 database.`, "failed");
    }
    await this.attempt("init", undefined, true, () => this.db.batch(CREATE_INDEXES_SQL.map((sql) => this.db.prepare(sql))));
  }

  async put(record: StoredResponseRecord): Promise<void> {
    assertStorable(record);
    const state = encodeRecord(record);
    // Not retried: if the first attempt committed before the connection dropped, a retry would report a duplicate.
    const result = await this.attempt("put", record.id, false, () =>
      this.db
        .prepare(
          `INSERT INTO responses_state
             (response_id, previous_response_id, model, created_at, expires_at, schema_version, state_json)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (response_id) DO NOTHING`,
        )
        .bind(record.id, record.previous_response_id, record.model, record.created_at, record.expires_at, record.schema_version, state)
        .run(),
    );
    if (result.meta.changes === 0) throw new StoreError(`response ${record.id} already exists`, "duplicate", record.id);
  }

  async get(id: string): Promise<StoredResponseRecord | null> {
    const row = await this.attempt("get", id, true, () =>
      this.db
        .prepare("SELECT state_json FROM responses_state WHERE response_id = ? AND (expires_at IS NULL OR expires_at >= ?)")
        .bind(id, expiryCutoff(nowSeconds()))
        .first<{ state_json: unknown }>(),
    );
    return row === null ? null : decodeRecord(id, row.state_json);
  }

  async delete(id: string): Promise<boolean> {
    const row = await this.attempt("delete", id, false, () =>
      this.db.prepare("DELETE FROM responses_state WHERE response_id = ? RETURNING expires_at").bind(id).first<{ expires_at: number | null }>(),
    );
    if (row === null) return false;
    // An expired row is already absent to clients: remove it, but report "not found" as get() would.
    return row.expires_at === null || Number(row.expires_at) >= expiryCutoff(nowSeconds());
  }

  async purgeExpired(now: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const result = await this.attempt("purge", undefined, false, () =>
        this.db
          .prepare(`DELETE FROM responses_state WHERE response_id IN (SELECT response_id FROM responses_state WHERE expires_at < ? LIMIT ${PURGE_BATCH})`)
          .bind(expiryCutoff(now))
          .run(),
      );
      removed += result.meta.changes;
      if (result.meta.changes < PURGE_BATCH) return removed;
    }
  }

  /** The binding belongs to the Worker runtime: nothing to release. */
  async close(): Promise<void> {}

  private async attempt<T>(operation: string, id: string | undefined, retryable: boolean, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await fn();
      } catch (err) {
        const text = err instanceof Error ? err.message : String(err);
        const transient = TRANSIENT.test(text);
        if (!transient) throw new StoreError(`D1 ${operation} failed${id ? ` for ${id}` : ""}: ${text}`, "failed", id, { cause: err });
        if (!retryable || attempt >= this.retries) {
          throw new StoreError(`D1 ${operation} failed${id ? ` for ${id}` : ""} (transient, ${attempt + 1} attempt(s)): ${text}`, "unavailable", id, { cause: err });
        }
        this.logger.warn("d1 transient error, retrying", { operation, attempt: attempt + 1, error: text });
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
  }
}
