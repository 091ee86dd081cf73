/**
 * The cluster primary (`--gateway-workers N`): forks N workers running the same entry script, restarts workers
 * that die, serves cluster-wide metrics to whichever worker is scraped, and shuts down gracefully on
 * SIGINT/SIGTERM. The primary serves no HTTP itself (Node's cluster module hands connections to the workers).
 */
import cluster, { type Worker } from "node:cluster";
import type { Logger } from "../../../src/observability/logger.js";
import type { GatewayMetrics } from "../../../src/observability/metrics.js";
import { createClusterMetricsCollector } from "./metrics-aggregation.js";
import { isWorkerToPrimary, WORKER_INDEX_ENV, type DrainRequest, type ScrapeResponse } from "./protocol.js";

export interface SupervisorOptions {
  workers: number;
  /** After a shutdown signal, how long workers may take to finish open requests and streams before SIGKILL. */
  gracefulTimeoutMs: number;
  logger: Logger;
  /** Extra environment for the workers (on top of this process's environment and `VR_WORKER_INDEX`). */
  env?: Record<string, string>;
  /** Metrics recorded in the primary itself; their series are added to every scrape. */
  metrics?: GatewayMetrics;
  /** Per-worker wait when collecting metrics for a scrape. Default 1000 ms; keep it below the workers' renderer timeout. */
  metricsCollectTimeoutMs?: number;
  /** Restart back-off: initial delay doubling per consecutive crash up to `maxMs`; reset once a worker stayed up `resetAfterMs`. */
  restartBackoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  /**
   * A slot whose worker dies this many times in a row before it ever listened stops the supervisor with exit
   * code 1: that is a configuration or startup bug, and restarting forever would hide it. Default 5.
   */
  maxStartupFailures?: number;
}

interface Slot {
  index: number;
  worker: Worker | null;
  startedAt: number;
  listening: boolean;
  crashes: number;
  startupFailures: number;
  restartTimer: NodeJS.Timeout | null;
}

/**
 * Runs until shutdown and resolves with the exit code for the caller to pass to `process.exit`: 0 after a
 * signal-initiated shutdown (also when leftovers had to be killed after the grace period), 1 when a worker slot
 * kept failing at startup. A second SIGINT/SIGTERM during the grace period kills the workers at once.
 */
export function runSupervisor(options: SupervisorOptions): Promise<number> {
  if (!cluster.isPrimary) throw new Error("runSupervisor must run in the cluster primary");
  if (!Number.isInteger(options.workers) || options.workers < 1) {
    throw new RangeError(`workers must be a positive integer, got ${options.workers}`);
  }
  const { logger } = options;
  const initialMs = options.restartBackoff?.initialMs ?? 250;
  const maxMs = options.restartBackoff?.maxMs ?? 30_000;
  const resetAfterMs = options.restartBackoff?.resetAfterMs ?? 30_000;
  const maxStartupFailures = options.maxStartupFailures ?? 5;
  const collector = createClusterMetricsCollector({
    timeoutMs: options.metricsCollectTimeoutMs ?? 1000,
    logger,
    ownRegistry: options.metrics?.registry,
  });

  const slots: Slot[] = Array.from({ length: options.workers }, (_, index) => ({
    index,
    worker: null,
    startedAt: 0,
    listening: false,
    crashes: 0,
    startupFailures: 0,
    restartTimer: null,
  }));
  const liveWorkers = (): Worker[] => slots.flatMap((slot) => (slot.worker ? [slot.worker] : []));

  return new Promise<number>((resolve) => {
    let shuttingDown = false;
    let exitCode = 0;
    let graceTimer: NodeJS.Timeout | null = null;
    let finished = false;

    const fork = (slot: Slot): void => {
      slot.restartTimer = null;
      const worker = cluster.fork({ ...options.env, [WORKER_INDEX_ENV]: String(slot.index) });
      slot.worker = worker;
      slot.startedAt = Date.now();
      slot.listening = false;
      worker.on("listening", () => {
        slot.listening = true;
        slot.startupFailures = 0;
      });
      worker.on("message", (message: unknown) => onWorkerMessage(worker, message));
      worker.on("exit", (code, signal) => onWorkerExit(slot, worker, code, signal));
      // Worker-level IPC errors (e.g. a send racing its exit) are reported here; the exit handler does the rest.
      worker.on("error", (error) => logger.warn("cluster worker channel error", { index: slot.index, error }));
      logger.info("worker started", { index: slot.index, pid: worker.process.pid });
    };

    const onWorkerMessage = (worker: Worker, message: unknown): void => {
      if (!isWorkerToPrimary(message)) return;
      if (message.vr === "metrics-collected") {
        collector.receive(worker, message);
        return;
      }
      const id = message.id;
      collector.render(liveWorkers()).then(
        ({ contentType, body }) => reply(worker, { vr: "metrics-scraped", id, contentType, body }),
        (error: unknown) => {
          logger.error("cluster metrics aggregation failed", { error });
          reply(worker, { vr: "metrics-scraped", id, error: error instanceof Error ? error.message : String(error) });
        },
      );
    };

    const reply = (worker: Worker, message: ScrapeResponse): void => {
      if (!worker.isConnected()) return; // the scraped worker died meanwhile; its client got a reset anyway
      worker.send(message, (error: Error | null) => {
        if (error) logger.warn("could not deliver cluster metrics to worker", { pid: worker.process.pid, error });
      });
    };

    const onWorkerExit = (slot: Slot, worker: Worker, code: number | null, signal: string | null): void => {
      collector.forget(worker);
      if (slot.worker === worker) slot.worker = null;
      if (shuttingDown) {
        logger.info("worker stopped", { index: slot.index, pid: worker.process.pid, code, signal });
        if (liveWorkers().length === 0) finish();
        return;
      }
      const upMs = Date.now() - slot.startedAt;
      if (!slot.listening) {
        slot.startupFailures++;
        if (maxStartupFailures > 0 && slot.startupFailures >= maxStartupFailures) {
          logger.error("worker keeps failing before it listens; stopping the supervisor", {
            index: slot.index,
            failures: slot.startupFailures,
            code,
            signal,
          });
          exitCode = 1;
          shutdown("startup failures");
          return;
        }
      }
      if (upMs >= resetAfterMs) slot.crashes = 0;
      const delayMs = Math.min(maxMs, initialMs * 2 ** slot.crashes);
      slot.crashes++;
      logger.warn("worker exited unexpectedly; restarting", {
        index: slot.index,
        pid: worker.process.pid,
        code,
        signal,
        upMs,
        restartInMs: delayMs,
      });
      slot.restartTimer = setTimeout(() => fork(slot), delayMs);
    };

    const shutdown = (reason: string): void => {
      if (shuttingDown) {
        // Second signal: the operator does not want to wait for the grace period.
        logger.warn("second shutdown request; killing workers now", { reason });
        killAll();
        return;
      }
      shuttingDown = true;
      logger.info("supervisor shutting down; draining workers", { reason, graceMs: options.gracefulTimeoutMs });
      for (const slot of slots) {
        if (slot.restartTimer) clearTimeout(slot.restartTimer);
        slot.restartTimer = null;
      }
      const drain: DrainRequest = { vr: "drain" };
      for (const worker of liveWorkers()) {
        if (!worker.isConnected()) continue;
        worker.send(drain, (error: Error | null) => {
          // Its exit (already under way) is handled by onWorkerExit; the grace timer covers a stuck one.
          if (error) logger.warn("could not send drain to worker", { pid: worker.process.pid, error });
        });
      }
      if (liveWorkers().length === 0) {
        finish();
        return;
      }
      graceTimer = setTimeout(() => {
        logger.warn("grace period over; killing remaining workers", {
          pids: liveWorkers().map((worker) => worker.process.pid),
        });
        killAll();
      }, options.gracefulTimeoutMs);
    };

    const killAll = (): void => {
      for (const worker of liveWorkers()) worker.process.kill("SIGKILL");
    };

    const onSignal = (signal: NodeJS.Signals): void => shutdown(signal);

    const finish = (): void => {
      if (finished) return;
      finished = true;
      if (graceTimer) clearTimeout(graceTimer);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      logger.info("supervisor stopped", { exitCode });
      resolve(exitCode);
    };

    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    for (const slot of slots) fork(slot);
  });
}
