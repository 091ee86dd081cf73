/**
 * Store reads and deletes as handlers need them: traced, with store failures mapped to the contract's errors
 * (unreachable → 503, a corrupt row → 500 naming the id). Absence is returned, not thrown: what it means
 * (`response_not_found` or `previous_response_not_found`) depends on the route.
 */
import type { Context } from "@opentelemetry/api";
import { GatewayError, storeUnavailable } from "../core/errors.js";
import type { GatewayContext } from "../gateway-context.js";
import { inStoreSpan } from "../observability/child-spans.js";
import { StoreError, type StoredResponseRecord } from "../store/response-store.js";

export async function readStored(gw: GatewayContext, id: string, trace: Context): Promise<StoredResponseRecord | null> {
  try {
    return await inStoreSpan(gw.tracing, trace, "get", gw.store.kind, () => gw.store.get(id));
  } catch (err) {
    throw storeError(err, id);
  }
}

export async function deleteStored(gw: GatewayContext, id: string, trace: Context): Promise<boolean> {
  try {
    return await inStoreSpan(gw.tracing, trace, "delete", gw.store.kind, () => gw.store.delete(id));
  } catch (err) {
    throw storeError(err, id);
  }
}

function storeError(err: unknown, id: string): GatewayError {
  if (err instanceof StoreError && err.kind === "corrupt") {
    return new GatewayError(500, `Stored response '${id}' is corrupt and cannot be read.`, "api_error", null, "stored_response_corrupt");
  }
  return storeUnavailable((err as Error).message);
}
