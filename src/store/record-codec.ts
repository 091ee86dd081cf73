/**
 * The one serialised form of a StoredResponseRecord, shared by every backend (and the Redis cache) so a record
 * written by one can be read by any other, and so "what counts as corrupt" and "what counts as expired" are
 * decided in exactly one place.
 */
import { isObject } from "../core/request/field-readers.js";
import { StoreError, type StoredResponseRecord } from "./response-store.js";

/** Unix seconds, fractional. The stores compare it with whole-second `expires_at` values. */
export function nowSeconds(): number {
  return Date.now() / 1000;
}

/**
 * The smallest whole second `s` for which `expires_at < now` ⇔ `expires_at < s`. SQL backends keep
 * `expires_at` as an integer column, so queries compare with this instead of a fractional `now`.
 */
export function expiryCutoff(now: number): number {
  return Math.ceil(now);
}

/** `expires_at` is the last second the record is visible: absent once `now` has passed it. */
export function isExpired(record: Pick<StoredResponseRecord, "expires_at">, now: number): boolean {
  return record.expires_at !== null && record.expires_at < expiryCutoff(now);
}

/**
 * Rejects records the SQL backends could not index faithfully. Timestamps must be whole seconds because
 * `created_at`/`expires_at` are integer columns (the Responses API's own `created_at` is an integer too); a
 * fractional value is a caller bug that should surface at the first write, not as a silent rounding.
 */
export function assertStorable(record: StoredResponseRecord): void {
  const problem =
    typeof record.id !== "string" || record.id.length === 0
      ? "id must be a non-empty string"
      : record.schema_version !== 1
        ? "schema_version must be 1"
        : !Number.isSafeInteger(record.created_at)
          ? "created_at must be whole Unix seconds"
          : record.expires_at !== null && !Number.isSafeInteger(record.expires_at)
            ? "expires_at must be whole Unix seconds or null"
            : null;
  if (problem !== null) {
    throw new StoreError(`cannot store response ${String(record.id)}: ${problem}`, "failed", record.id);
  }
}

/**
 * Records already encoded, by identity: a record is built once and never changed after it is stored, and with the
 * Redis cache the same record is written twice (database, then cache) — its whole history is stringified once.
 */
const encoded = new WeakMap<StoredResponseRecord, string>();

/** The whole record as JSON text: the state column is self-describing so a row can be rebuilt from it alone. */
export function encodeRecord(record: StoredResponseRecord): string {
  const known = encoded.get(record);
  if (known !== undefined) return known;
  try {
    const text = JSON.stringify(record);
    encoded.set(record, text);
    return text;
  } catch (err) {
    // A BigInt or a cycle in the response object: rethrown typed so the handler reports a store failure with the id.
    throw new StoreError(`cannot store response ${record.id}: not JSON-serialisable`, "failed", record.id, {
      cause: err,
    });
  }
}

/**
 * Parses and shape-checks a stored record. Anything unexpected (unparsable text, a row written by another
 * program such as the Python vllm-responses, an id that does not match its key) is `corrupt`, naming the id,
 * so the operator can find and delete the row; it is never handed to the continuation logic half-formed.
 */
export function decodeRecord(id: string, text: unknown): StoredResponseRecord {
  if (typeof text !== "string") {
    throw new StoreError(`stored response ${id} is corrupt: state is not text`, "corrupt", id);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // Rethrown as a typed StoreError: an unparsable row is data damage the operator must see, not a 500 mystery.
    throw new StoreError(`stored response ${id} is corrupt: state is not valid JSON`, "corrupt", id, { cause: err });
  }
  const problem = shapeProblem(id, parsed);
  if (problem !== null) {
    throw new StoreError(`stored response ${id} is corrupt: ${problem}`, "corrupt", id);
  }
  return parsed as StoredResponseRecord;
}

function shapeProblem(id: string, value: unknown): string | null {
  if (!isObject(value)) return "state is not a JSON object";
  if (value.schema_version !== 1) return `unsupported schema_version ${JSON.stringify(value.schema_version)}`;
  if (value.id !== id) return "state belongs to a different id";
  if (value.previous_response_id !== null && typeof value.previous_response_id !== "string") {
    return "previous_response_id is not a string or null";
  }
  if (typeof value.model !== "string") return "model is not a string";
  if (typeof value.created_at !== "number") return "created_at is not a number";
  if (value.expires_at !== null && typeof value.expires_at !== "number") return "expires_at is not a number or null";
  if (!isObject(value.response)) return "response is not an object";
  if (!Array.isArray(value.history)) return "history is not an array";
  if (!Array.isArray(value.input_items)) return "input_items is not an array";
  if (value.tools !== null && !Array.isArray(value.tools)) return "tools is not an array or null";
  return null;
}

