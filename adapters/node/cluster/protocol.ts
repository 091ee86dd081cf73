/**
 * IPC messages between the cluster supervisor (primary) and its workers. Every message carries a `vr` tag so
 * it can never be confused with messages of other libraries sharing the channel (prom-client, Node's own
 * `NODE_CLUSTER` internals).
 */
import type { Registry } from "prom-client";

/** Environment variable telling a worker its slot (0-based); stable across restarts of that slot. */
export const WORKER_INDEX_ENV = "VR_WORKER_INDEX";

/** What `registry.getMetricsAsJSON()` produces and `AggregatorRegistry.aggregate()` consumes. */
export const FINAL_SNAPSHOT_ID = 0;

export type MetricsJson = Awaited<ReturnType<Registry["getMetricsAsJSON"]>>;

/** primary → worker: send your registry as JSON. */
export interface CollectRequest {
  vr: "metrics-collect";
  id: number;
}
/**
 * worker → primary: answer to `metrics-collect`, or (with `id: FINAL_SNAPSHOT_ID`, unasked) the worker's last
 * metrics just before it exits after a drain, so its counts survive it.
 */
export type CollectResponse =
  | { vr: "metrics-collected"; id: number; metrics: MetricsJson }
  | { vr: "metrics-collected"; id: number; error: string };
/** worker → primary: a client scraped me; give me the cluster-wide exposition. */
export interface ScrapeRequest {
  vr: "metrics-scrape";
  id: number;
}
/** primary → worker: answer to `metrics-scrape`. */
export type ScrapeResponse =
  | { vr: "metrics-scraped"; id: number; contentType: string; body: string }
  | { vr: "metrics-scraped"; id: number; error: string };
/** primary → worker: stop accepting, finish what is open, then exit. */
export interface DrainRequest {
  vr: "drain";
}

export type PrimaryToWorker = CollectRequest | ScrapeResponse | DrainRequest;
export type WorkerToPrimary = CollectResponse | ScrapeRequest;

function hasTag(message: unknown): message is { vr: string } {
  return typeof message === "object" && message !== null && typeof (message as { vr?: unknown }).vr === "string";
}

export function isPrimaryToWorker(message: unknown): message is PrimaryToWorker {
  return hasTag(message) && ["metrics-collect", "metrics-scraped", "drain"].includes(message.vr);
}

export function isWorkerToPrimary(message: unknown): message is WorkerToPrimary {
  return hasTag(message) && ["metrics-collected", "metrics-scrape"].includes(message.vr);
}

/** This process's worker slot, or null when it is not a supervised worker. */
export function workerIndex(env: Record<string, string | undefined> = process.env): number | null {
  const raw = env[WORKER_INDEX_ENV];
  if (raw === undefined || raw === "") return null;
  const index = Number(raw);
  if (!Number.isInteger(index) || index < 0) throw new Error(`${WORKER_INDEX_ENV} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return index;
}
