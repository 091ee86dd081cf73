/**
 * The conversation store contract. Every backend (memory, SQLite, PostgreSQL, with or without the Redis
 * cache) implements exactly this, and one shared test suite runs against each.
 *
 * Records are JSON documents: the store never interprets `response`, `history` or `tools`; it only keys them
 * by id and keeps the timestamps it needs for retention.
 */

/** What is persisted for one terminal (`completed` / `incomplete`) response. */
export interface StoredResponseRecord {
  schema_version: 1;
  /** `resp_…` */
  id: string;
  previous_response_id: string | null;
  model: string;
  /** Unix seconds. */
  created_at: number;
  /** Unix seconds after which the record is treated as absent; null = kept until deleted. */
  expires_at: number | null;
  /** The terminal response object exactly as it was sent to the client (secrets already stripped). */
  response: Record<string, unknown>;
  /**
   * Everything a continuation starts from, as Responses items: the parent's history, this request's input, then
   * this response's output in replay form (gateway tool results always filled in, even when the client did not
   * `include` them). A continuation is `history` + its own new input.
   */
  history: unknown[];
  /** This request's own input items (what `GET /v1/responses/{id}/input_items` lists). */
  input_items: unknown[];
  /** Effective tools and tool_choice, inherited by a continuation that omits them (secrets stripped). */
  tools: unknown[] | null;
  tool_choice: unknown;
}

/** A store was reached but could not do what was asked (unreachable, corrupt row, …). */
export class StoreError extends Error {
  constructor(
    message: string,
    readonly kind: "unavailable" | "corrupt" | "duplicate" | "failed",
    readonly responseId?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StoreError";
  }
}

export interface ResponseStore {
  /** Human-readable backend name for logs and the README (`memory`, `sqlite`, `postgres`, `postgres+redis` …). */
  readonly kind: string;
  /** Creates tables etc. Safe to call from many processes at once. */
  init(): Promise<void>;
  /** Inserts a record. A duplicate id rejects with StoreError kind `duplicate`. */
  put(record: StoredResponseRecord): Promise<void>;
  /** The record, or null when absent or expired. Unreachable → StoreError `unavailable`; unparsable row → `corrupt`. */
  get(id: string): Promise<StoredResponseRecord | null>;
  /** True when a record was removed. */
  delete(id: string): Promise<boolean>;
  /** Removes records whose `expires_at` is before `nowSeconds`; returns how many. */
  purgeExpired(nowSeconds: number): Promise<number>;
  close(): Promise<void>;
}
