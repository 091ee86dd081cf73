/**
 * `memory://`: a per-process Map. For tests, demos and single-worker embedders; records vanish on restart and
 * are not shared between gateway workers.
 */
import { StoreError, type ResponseStore, type StoredResponseRecord } from "./response-store.js";
import { assertStorable, decodeRecord, encodeRecord, isExpired, nowSeconds } from "./record-codec.js";

interface MemoryRow {
  expires_at: number | null;
  /** Kept as JSON text, like the SQL backends, so callers can never mutate a stored record through a reference. */
  state_json: string;
}

export class MemoryStore implements ResponseStore {
  readonly kind = "memory";
  private readonly rows = new Map<string, MemoryRow>();

  async init(): Promise<void> {}

  async put(record: StoredResponseRecord): Promise<void> {
    assertStorable(record);
    if (this.rows.has(record.id)) {
      throw new StoreError(`response ${record.id} already exists`, "duplicate", record.id);
    }
    this.rows.set(record.id, { expires_at: record.expires_at, state_json: encodeRecord(record) });
  }

  async get(id: string): Promise<StoredResponseRecord | null> {
    const row = this.rows.get(id);
    if (row === undefined || isExpired(row, nowSeconds())) return null;
    return decodeRecord(id, row.state_json);
  }

  async delete(id: string): Promise<boolean> {
    const row = this.rows.get(id);
    if (row === undefined) return false;
    this.rows.delete(id);
    // An expired record is already absent to clients, so deleting it reports "not found" like the SQL stores.
    return !isExpired(row, nowSeconds());
  }

  async purgeExpired(now: number): Promise<number> {
    let removed = 0;
    for (const [id, row] of this.rows) {
      if (isExpired(row, now)) {
        this.rows.delete(id);
        removed += 1;
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    this.rows.clear();
  }
}
