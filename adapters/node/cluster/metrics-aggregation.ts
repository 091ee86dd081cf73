/**
 * Primary side of cluster-wide metrics: on every scrape, ask each live worker for its registry (as JSON, over
 * IPC), add the primary's own registry, and sum them with prom-client's `AggregatorRegistry.aggregate`.
 *
 * Sums must behave like one process's counters, so they never go backwards:
 * - A worker that is stuck or slow is not waited for beyond `timeoutMs`; its previous answer stands in for it.
 *   (A scrape error would make Prometheus record the target as down; a partial sum would look like a reset.)
 * - When a worker exits, its last answer's counters and histograms are folded into a "retired" sum that every
 *   later scrape adds. Its gauges are dropped — its in-flight requests are gone too (prometheus_client's
 *   `livesum`). A drained worker sends a final answer as it leaves; a killed one loses what it counted after
 *   the last scrape.
 * prom-client's own `AggregatorRegistry#clusterMetrics` fails the whole scrape when a worker does not answer and
 * only reads the global registry, hence this.
 */
import type { Worker } from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";
import type { Logger } from "../../../src/observability/logger.js";
import { FINAL_SNAPSHOT_ID, type CollectResponse, type MetricsJson } from "./protocol.js";

export interface ClusterMetricsCollector {
  /** The summed exposition of `workers`, retired workers and the primary's own registry. */
  render(workers: readonly Worker[]): Promise<{ contentType: string; body: string }>;
  /** Feed a worker's `metrics-collected` message. */
  receive(worker: Worker, message: CollectResponse): void;
  /** The worker exited: retire its counts and stop waiting for its answers. */
  forget(worker: Worker): void;
}

export function createClusterMetricsCollector(options: {
  timeoutMs: number;
  logger: Logger;
  /** Series recorded in the primary itself (e.g. `mcp_server_startup_total`), included in every scrape. */
  ownRegistry?: Registry;
}): ClusterMetricsCollector {
  const { timeoutMs, logger } = options;
  /** Collection id → the worker asked and how to stop waiting for it. */
  const pending = new Map<number, { workerId: number; done: () => void }>();
  const lastSnapshot = new Map<number, MetricsJson>();
  let retired: MetricsJson = [];
  // Folding is async (prom-client's getMetricsAsJSON); renders wait for it so a retired worker is never missing.
  let retiring: Promise<void> = Promise.resolve();
  let nextId = FINAL_SNAPSHOT_ID + 1;

  const retire = (snapshot: MetricsJson): void => {
    // prom-client's typings declare `type` as a numeric enum, but at runtime it is the string "gauge"/"counter"/….
    const monotonic = snapshot.filter((metric) => String(metric.type) !== "gauge");
    retiring = retiring.then(async () => {
      try {
        retired = await AggregatorRegistry.aggregate([retired, monotonic]).getMetricsAsJSON();
      } catch (error) {
        // Keep serving the previous sum rather than failing every later scrape.
        logger.error("could not fold an exited worker's metrics into the cluster totals", { error });
      }
    });
  };

  /** Resolves when the worker answered (its snapshot is then in `lastSnapshot`), failed, or timed out. */
  const collectFrom = (worker: Worker): Promise<void> =>
    new Promise((resolve) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        if (!pending.delete(id)) return;
        logger.warn("cluster worker did not answer a metrics collection in time; using its previous answer", {
          workerPid: worker.process.pid,
          timeoutMs,
        });
        resolve();
      }, timeoutMs);
      pending.set(id, {
        workerId: worker.id,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      worker.send({ vr: "metrics-collect", id }, (error: Error | null) => {
        if (!error || !pending.delete(id)) return;
        logger.warn("could not ask a cluster worker for its metrics; using its previous answer", {
          workerPid: worker.process.pid,
          error,
        });
        clearTimeout(timer);
        resolve();
      });
    });

  return {
    async render(workers) {
      const live = workers.filter((worker) => worker.isConnected());
      const [own] = await Promise.all([
        options.ownRegistry?.getMetricsAsJSON() ?? Promise.resolve(null),
        ...live.map(collectFrom),
      ]);
      await retiring;
      const parts: MetricsJson[] = [retired];
      if (own) parts.push(own);
      for (const worker of live) {
        // A worker that exited while this scrape ran has left `lastSnapshot` for `retired`: never counted twice.
        const latest = lastSnapshot.get(worker.id);
        if (latest) parts.push(latest);
      }
      const aggregated = AggregatorRegistry.aggregate(parts);
      return { contentType: aggregated.contentType, body: await aggregated.metrics() };
    },

    receive(worker, message) {
      if ("metrics" in message) lastSnapshot.set(worker.id, message.metrics);
      else {
        logger.warn("cluster worker failed to serialise its metrics; using its previous answer", {
          workerPid: worker.process.pid,
          error: message.error,
        });
      }
      if (message.id === FINAL_SNAPSHOT_ID) return;
      const entry = pending.get(message.id);
      // No entry: the answer came after the timeout, and the scrape already went ahead (the snapshot is kept).
      if (!entry || entry.workerId !== worker.id) return;
      pending.delete(message.id);
      entry.done();
    },

    forget(worker) {
      const snapshot = lastSnapshot.get(worker.id);
      lastSnapshot.delete(worker.id);
      if (snapshot) retire(snapshot);
      for (const [id, entry] of pending) {
        if (entry.workerId !== worker.id) continue;
        pending.delete(id);
        entry.done();
      }
    },
  };
}
