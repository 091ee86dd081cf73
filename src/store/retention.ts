/**
 * Response retention: stamps an expiry on every record written (VR response TTL) and purges expired rows in the
 * background. Expired records are already invisible to `get` in every backend; the purge only reclaims space.
 */
import type { Logger } from "../observability/logger.js";
import type { ResponseStore, StoredResponseRecord } from "./response-store.js";
import { nowSeconds } from "./record-codec.js";

/** Wraps `store` so each put expires `ttlSeconds` after its `created_at` (or earlier, if the record says so). */
export function withRetention(store: ResponseStore, ttlSeconds: number): ResponseStore {
  const ttl = Math.trunc(ttlSeconds);
  if (!(ttl > 0)) throw new Error(`response retention must be a positive number of seconds, got ${ttlSeconds}`);
  return {
    kind: store.kind,
    init: () => store.init(),
    put: (record: StoredResponseRecord) => {
      const limit = record.created_at + ttl;
      const expires_at = record.expires_at === null ? limit : Math.min(record.expires_at, limit);
      return store.put({ ...record, expires_at });
    },
    get: (id) => store.get(id),
    delete: (id) => store.delete(id),
    purgeExpired: (now) => store.purgeExpired(now),
    close: () => store.close(),
  };
}

/**
 * Purges expired records every `intervalMs` until the returned function is called; that function resolves once
 * an in-flight purge has finished, so the store can be closed right after. Runs never overlap.
 */
export function startRetentionPurge(store: ResponseStore, intervalMs: number, logger: Logger): () => Promise<void> {
  let running: Promise<void> | null = null;
  const tick = (): void => {
    if (running !== null) return;
    running = store
      .purgeExpired(nowSeconds())
      .then(
        (removed) => {
          if (removed > 0) logger.info("purged expired responses", { removed, store: store.kind });
        },
        (err: unknown) => {
          // Logged, not thrown: a failed purge is retried next interval and expired rows stay invisible meanwhile.
          logger.warn("purging expired responses failed", { store: store.kind, error: err });
        },
      )
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  // Unref where the runtime has it (Node, Bun, Deno's compat timers) so the purge never keeps a process alive.
  (timer as { unref?: () => void }).unref?.();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
