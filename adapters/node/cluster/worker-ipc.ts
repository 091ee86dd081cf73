/**
 * Worker side of the supervisor protocol (see protocol.ts): answers metrics collections, asks the primary for the
 * cluster-wide sum when this worker is scraped, and drains on request.
 */
import type { GatewayMetrics } from "../../../src/observability/metrics.js";
import type { Logger } from "../../../src/observability/logger.js";
import {
  FINAL_SNAPSHOT_ID,
  isPrimaryToWorker,
  type CollectResponse,
  type PrimaryToWorker,
  type ScrapeRequest,
} from "./protocol.js";

export interface WorkerIpcOptions {
  logger?: Logger;
  /**
   * Graceful stop (typically `drainServer` + closing the store + `tracing.shutdown()`), run once on the
   * supervisor's drain message or on SIGINT/SIGTERM sent to this worker directly (Ctrl-C signals the whole
   * process group). The process exits 0 when it resolves, 1 when it rejects. Without it, drain requests are
   * left to the caller (the messages are still answered for metrics).
   */
  onDrain?: () => Promise<void>;
}

/** Sends to the primary; resolves once the message is handed to the channel (so exiting after it is safe). */
type Send = (message: unknown) => Promise<void>;

function parentChannel(): Send | null {
  const send = process.send?.bind(process);
  if (!send) return null;
  return (message) =>
    new Promise((resolve, reject) => {
      send(message, undefined, undefined, (error: Error | null) => (error ? reject(error) : resolve()));
    });
}

/**
 * Answers the primary's metrics collections from this worker's registry and, with `onDrain`, handles drain.
 * Returns a function that removes the listeners. A no-op outside a cluster worker.
 */
export function installWorkerIpc(metrics: GatewayMetrics, options: WorkerIpcOptions = {}): () => void {
  const send = parentChannel();
  if (!send) return () => {};
  const { logger, onDrain } = options;

  const sendSnapshot = async (id: number): Promise<void> => {
    let reply: CollectResponse;
    try {
      reply = { vr: "metrics-collected", id, metrics: await metrics.registry.getMetricsAsJSON() };
    } catch (error) {
      logger?.error("could not serialise metrics for the supervisor", { error });
      reply = { vr: "metrics-collected", id, error: error instanceof Error ? error.message : String(error) };
    }
    try {
      await send(reply);
    } catch (error) {
      // Only when the primary died; Node then exits this worker on the channel's `disconnect` anyway.
      logger?.warn("could not send metrics to the supervisor", { error });
    }
  };

  let draining = false;
  const drain = (reason: string): void => {
    if (!onDrain || draining) return;
    draining = true;
    logger?.info("worker draining", { reason, pid: process.pid });
    onDrain().then(
      async () => {
        await sendSnapshot(FINAL_SNAPSHOT_ID);
        process.exit(0);
      },
      (error: unknown) => {
        logger?.error("worker drain failed", { error });
        process.exit(1);
      },
    );
  };

  const onMessage = (message: unknown): void => {
    if (!isPrimaryToWorker(message)) return;
    if (message.vr === "metrics-collect") void sendSnapshot(message.id);
    else if (message.vr === "drain") drain("supervisor");
  };
  const onSignal = (signal: NodeJS.Signals): void => drain(signal);

  process.on("message", onMessage);
  if (onDrain) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  return () => {
    process.off("message", onMessage);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

/**
 * A `/metrics` renderer for a cluster worker: the sum over all workers, asked from the primary. Falls back to
 * this worker's own registry (with a warning) when the primary does not answer within `timeoutMs` or this
 * process is not a supervised worker, so a scrape never fails because of the supervisor.
 */
export function createClusterMetricsRenderer(
  metrics: GatewayMetrics,
  options: { timeoutMs: number; logger?: Logger },
): () => Promise<{ contentType: string; body: string }> {
  const send = parentChannel();
  if (!send) return () => metrics.render();
  const waiting = new Map<number, (reply: Extract<PrimaryToWorker, { vr: "metrics-scraped" }>) => void>();
  let nextId = 1;

  process.on("message", (message: unknown) => {
    if (!isPrimaryToWorker(message) || message.vr !== "metrics-scraped") return;
    waiting.get(message.id)?.(message);
  });

  return async () => {
    const id = nextId++;
    const reply = await new Promise<Extract<PrimaryToWorker, { vr: "metrics-scraped" }> | null>((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve(null);
      }, options.timeoutMs);
      waiting.set(id, (message) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(message);
      });
      const request: ScrapeRequest = { vr: "metrics-scrape", id };
      send(request).catch((error: unknown) => {
        clearTimeout(timer);
        waiting.delete(id);
        const reason = error instanceof Error ? error.message : String(error);
        resolve({ vr: "metrics-scraped", id, error: `could not reach the supervisor: ${reason}` });
      });
    });
    if (reply && "body" in reply) return { contentType: reply.contentType, body: reply.body };
    options.logger?.warn("cluster metrics unavailable; serving this worker's metrics only", {
      reason: reply ? reply.error : `no answer from the supervisor within ${options.timeoutMs} ms`,
    });
    return metrics.render();
  };
}
