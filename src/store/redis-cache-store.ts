/**
 * Read-through / write-through Redis cache in front of another ResponseStore (the database stays the source of
 * truth). Records never change after they are written, so the only staleness to guard against is a deleted
 * record still sitting in Redis; see `delete` and `pendingDeletes`.
 *
 * Redis is an optimisation, never a dependency: every Redis failure falls back to the inner store, is counted
 * through `onCacheError`, and is logged once per outage. No request fails because of the cache.
 */
import type { Logger } from "../observability/logger.js";
import { silentLogger } from "../observability/logger.js";
import type { ResponseStore, StoredResponseRecord } from "./response-store.js";
import { decodeRecord, encodeRecord, isExpired, nowSeconds } from "./record-codec.js";

/** The slice of a Redis client the cache uses; ioredis satisfies it (see adapters/node/redis-driver.ts). */
export interface RedisLike {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, mode: "EX", seconds: number): Promise<unknown>;
  del(key: string): Promise<number>;
  /** Opens a lazily created connection; init() calls it once when present. */
  connect?(): Promise<unknown>;
  close?(): Promise<void>;
}

/** Which cache step failed; bounded, so it can be a metric label. */
export type CacheOperation = "connect" | "get" | "set" | "delete" | "close";

export interface RedisCacheOptions {
  /** Seconds a record stays cached (VR_RESPONSE_STORE_CACHE_TTL_SECONDS); never beyond its `expires_at`. */
  ttlSeconds?: number;
  logger?: Logger;
  /** Called for every failed Redis call, e.g. to increment a counter. */
  onCacheError?: (operation: CacheOperation) => void;
}

/** Same key layout as the Python vllm-responses, so a shared Redis is not split between the two. */
export const REDIS_KEY_PREFIX = "vllm_responses:responses_state:v1:";

export const DEFAULT_CACHE_TTL_SECONDS = 3600;

/** Beyond this many undelivered invalidations we stop tracking and say so (memory bound during a long outage). */
const MAX_PENDING_DELETES = 10_000;

/** While Redis is down, how often a read retries the pending invalidations. */
const PENDING_RETRY_MS = 1000;

type CacheResult<T> = { ok: true; value: T } | { ok: false };

export class RedisCacheStore implements ResponseStore {
  readonly kind: string;
  private readonly ttlSeconds: number;
  private readonly logger: Logger;
  private readonly onCacheError: (operation: CacheOperation) => void;
  /** True between the first failure of an outage and the next success: drives "log once per outage". */
  private degraded = false;
  /** Bumped by every delete: a read that raced a delete must not put the deleted record back into Redis. */
  private deleteEpoch = 0;
  /**
   * Ids deleted from the database while Redis could not be told. Until Redis confirms the DEL, reads of these
   * ids bypass the cache, so a Redis that comes back with old data cannot resurrect a deleted response here.
   */
  private readonly pendingDeletes = new Set<string>();
  private pendingOverflowLogged = false;
  private lastPendingAttempt = 0;

  constructor(
    private readonly inner: ResponseStore,
    private readonly redis: RedisLike,
    options: RedisCacheOptions = {},
  ) {
    this.kind = `${inner.kind}+redis`;
    // At least 1 s: Redis rejects EX 0, and the Python project clamps the same way.
    this.ttlSeconds = Math.max(1, Math.trunc(options.ttlSeconds ?? DEFAULT_CACHE_TTL_SECONDS));
    this.logger = options.logger ?? silentLogger;
    this.onCacheError = options.onCacheError ?? (() => {});
  }

  async init(): Promise<void> {
    await this.inner.init();
    const connect = this.redis.connect?.bind(this.redis);
    if (connect !== undefined) await this.cache("connect", connect);
  }

  async put(record: StoredResponseRecord): Promise<void> {
    await this.inner.put(record);
    const ttl = this.ttlFor(record);
    if (ttl >= 1) await this.cache("set", () => this.redis.set(key(record.id), encodeRecord(record), "EX", ttl));
  }

  async get(id: string): Promise<StoredResponseRecord | null> {
    await this.flushPendingDeletes();
    if (!this.pendingDeletes.has(id)) {
      const cached = await this.cache("get", () => this.redis.get(key(id)));
      if (cached.ok && cached.value !== null) {
        const hit = await this.decodeCached(id, cached.value);
        if (hit !== undefined) return hit;
      }
    }
    const epoch = this.deleteEpoch;
    const record = await this.inner.get(id);
    if (record !== null && epoch === this.deleteEpoch && !this.pendingDeletes.has(id)) {
      const ttl = this.ttlFor(record);
      if (ttl >= 1) await this.cache("set", () => this.redis.set(key(id), encodeRecord(record), "EX", ttl));
    }
    return record;
  }

  async delete(id: string): Promise<boolean> {
    this.deleteEpoch += 1;
    const removed = await this.inner.delete(id);
    // Always DEL, even when the database had nothing: Redis may still hold a copy of an expired or purged row.
    const done = await this.cache("delete", () => this.redis.del(key(id)));
    if (!done.ok) this.rememberPendingDelete(id);
    return removed;
  }

  /** Cached copies need no purge: their TTL never outlives `expires_at`. */
  async purgeExpired(now: number): Promise<number> {
    return this.inner.purgeExpired(now);
  }

  async close(): Promise<void> {
    const close = this.redis.close?.bind(this.redis);
    if (close !== undefined) await this.cache("close", close);
    await this.inner.close();
  }

  /** A cached hit, `null` for a cached-but-expired record, or `undefined` to fall back to the inner store. */
  private async decodeCached(id: string, text: string): Promise<StoredResponseRecord | null | undefined> {
    try {
      const record = decodeRecord(id, text);
      return isExpired(record, nowSeconds()) ? null : record;
    } catch (err) {
      // A damaged cache entry is a cache fault, not a data fault (and not an outage): count it, drop it, and
      // read the database.
      this.logger.warn("redis cache entry unreadable, dropping it", { id, error: err });
      this.count("get");
      await this.cache("delete", () => this.redis.del(key(id)));
      return undefined;
    }
  }

  private ttlFor(record: StoredResponseRecord): number {
    if (record.expires_at === null) return this.ttlSeconds;
    return Math.min(this.ttlSeconds, Math.floor(record.expires_at - nowSeconds()));
  }

  private rememberPendingDelete(id: string): void {
    if (this.pendingDeletes.size < MAX_PENDING_DELETES) {
      this.pendingDeletes.add(id);
      return;
    }
    if (!this.pendingOverflowLogged) {
      this.pendingOverflowLogged = true;
      this.logger.error("redis cache: too many deletes not yet propagated; deleted responses may be served from " +
        "Redis until their cache TTL expires", { limit: MAX_PENDING_DELETES });
    }
  }

  /**
   * Replays invalidations Redis missed. During an outage this doubles as the reconnect probe, at most once per
   * PENDING_RETRY_MS, so a dead Redis costs each request one fast-failing call, not one per pending id.
   */
  private async flushPendingDeletes(): Promise<void> {
    if (this.pendingDeletes.size === 0) return;
    if (this.degraded) {
      const now = Date.now();
      if (now - this.lastPendingAttempt < PENDING_RETRY_MS) return;
      this.lastPendingAttempt = now;
    }
    for (const id of [...this.pendingDeletes]) {
      const done = await this.cache("delete", () => this.redis.del(key(id)));
      if (!done.ok) return;
      this.pendingDeletes.delete(id);
    }
    this.pendingOverflowLogged = false;
  }

  /** Runs one Redis call; a failure is reported and turned into `{ok: false}` so the caller uses the database. */
  private async cache<T>(operation: CacheOperation, fn: () => Promise<T>): Promise<CacheResult<T>> {
    try {
      const value = await fn();
      if (this.degraded) {
        this.degraded = false;
        this.logger.info("redis cache reachable again", { operation });
      }
      return { ok: true, value };
    } catch (err) {
      // Not rethrown by design: the cache only speeds things up, so its outage must not fail the request.
      this.reportFailure(operation, err);
      return { ok: false };
    }
  }

  private reportFailure(operation: CacheOperation, err: unknown): void {
    if (!this.degraded) {
      this.degraded = true;
      this.logger.warn("redis cache unavailable, serving from the database", { operation, error: err });
    } else {
      this.logger.debug("redis cache call failed", { operation, error: err });
    }
    this.count(operation);
  }

  private count(operation: CacheOperation): void {
    try {
      this.onCacheError(operation);
    } catch (callbackErr) {
      // An embedder's metrics hook must not turn a cache miss into a failed request either.
      this.logger.error("onCacheError callback threw", { operation, error: callbackErr });
    }
  }
}

function key(id: string): string {
  return REDIS_KEY_PREFIX + id;
}
