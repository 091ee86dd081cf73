/**
 * Maps what the `postgres` driver throws to the store's error kinds. "Unavailable" means the database could not
 * be reached or is refusing work right now (the handler answers 503 and the operator looks at the database);
 * everything else is a `failed` operation.
 */
import { StoreError } from "./response-store.js";

/** Socket-level codes from the runtime plus the driver's own connection codes. */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);

/**
 * SQLSTATEs meaning "not now": class 08 (connection exception), server shutting down / starting up
 * (57P01–57P03), too many connections (53300), lock_timeout while another gateway creates the schema (55P03).
 */
function isUnavailableSqlState(code: string): boolean {
  return code.startsWith("08") || ["57P01", "57P02", "57P03", "53300", "55P03"].includes(code);
}

export function toPostgresStoreError(operation: string, id: string | undefined, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  const where = id === undefined ? "" : ` for ${id}`;
  if (isUnreachable(err)) {
    return new StoreError(`PostgreSQL unavailable during ${operation}${where}: ${detail}`, "unavailable", id, {
      cause: err,
    });
  }
  return new StoreError(`PostgreSQL ${operation} failed${where}: ${detail}`, "failed", id, { cause: err });
}

function isUnreachable(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && (UNREACHABLE_CODES.has(code) || isUnavailableSqlState(code))) return true;
  // Node's happy-eyeballs connect (e.g. `localhost` → ::1 and 127.0.0.1) reports an AggregateError of attempts.
  const nested = (err as { errors?: unknown }).errors;
  return Array.isArray(nested) && nested.length > 0 && nested.every(isUnreachable);
}
