/**
 * The Node adapter's span pipeline: a `SpanProcessor` on the serving thread that hands finished spans to a worker
 * thread (export-worker.ts), which batches, encodes and sends them with the configured OTLP exporter.
 *
 * Why: at sample ratio 1.0 the OTLP encoding of a request's spans costs about as much as creating them, and on the
 * event loop it delays whichever requests are in flight when a batch is encoded. Here the serving thread only
 * appends each span's values to a flat array and posts it every 64 spans or 50 ms (span-batch.ts: about 1 µs per
 * span); spans also die young instead of waiting in a buffer for the next export, which the collector notices.
 *
 * Failures are never silent: export failures are logged by the worker through the gateway logger (rate-limited,
 * as before), and a worker that dies is logged once and makes `forceFlush`/`shutdown` reject; spans finished
 * after that are counted and dropped (tracing must not take requests down with it).
 */
import { TraceFlags } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { Worker } from "node:worker_threads";
import type { Logger } from "../../../src/observability/logger.js";
import type { NodeTraceExporterOptions } from "../trace-exporter.js";
import { workerScriptUrl } from "../worker-script.js";
import type { ExportWorkerData, FromExportWorker, ToExportWorker } from "./protocol.js";
import { appendSpan, type SpanBatch } from "./span-batch.js";

export interface TraceExportThreadOptions {
  exporter: NodeTraceExporterOptions;
  logger: Logger;
  /** The worker's batch delay (BatchSpanProcessor `scheduledDelayMillis`). Default 500 ms. */
  scheduledDelayMillis?: number;
  /** Spans gathered on the serving thread per message to the worker. Default 64. */
  postBatchSize?: number;
  /** The longest a finished span waits on the serving thread before it is posted. Default 50 ms. */
  postDelayMillis?: number;
}

/** Starts the export worker; resolves once its script is located (the thread itself starts in the background). */
export async function startTraceExportThread(options: TraceExportThreadOptions): Promise<SpanProcessor> {
  const script = await workerScriptUrl(import.meta.url, "./export-worker", "trace-export-worker");
  const workerData: ExportWorkerData = { exporter: options.exporter, scheduled_delay_ms: options.scheduledDelayMillis ?? 500 };
  return new TraceExportThread(new Worker(script, { workerData }), options);
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

class TraceExportThread implements SpanProcessor {
  readonly #worker: Worker;
  readonly #logger: Logger;
  readonly #batchSize: number;
  readonly #delayMs: number;
  #pending: SpanBatch = [];
  #pendingSpans = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #resource: ReadableSpan["resource"] | null = null;
  #scope: InstrumentationScope | null = null;
  #nextId = 1;
  readonly #waiting = new Map<number, Waiter>();
  /**
   * Set when the worker died: every later span is dropped (and counted) and flushes reject with it. Spans already
   * posted to the thread when it died are lost uncounted: the thread held them.
   */
  #failure: Error | null = null;
  #droppedAfterFailure = 0;
  #shutdown: Promise<void> | null = null;

  constructor(worker: Worker, options: TraceExportThreadOptions) {
    this.#worker = worker;
    this.#logger = options.logger;
    this.#batchSize = options.postBatchSize ?? 64;
    this.#delayMs = options.postDelayMillis ?? 50;
    worker.on("message", (message: FromExportWorker) => this.#onMessage(message));
    worker.on("error", (error) => this.#fail(error));
    worker.on("exit", (code) => {
      if (this.#shutdown === null || this.#waiting.size > 0) this.#fail(new Error(`the trace export thread exited (code ${code})`));
    });
    // Idle, the thread must not keep the process alive; it is referenced while a flush waits for it. After the
    // listeners: adding a "message" listener references the worker's port again.
    worker.unref();
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    // Unsampled spans are not exported (the SDK's batch processor drops them the same way).
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    // After shutdown spans are ignored, as the SDK's own processors do (the gateway shuts tracing down after its
    // last request, so nothing of its own ends then).
    if (this.#shutdown !== null) return;
    if (this.#failure !== null) {
      this.#droppedAfterFailure++;
      return;
    }
    if (span.resource !== this.#resource || span.instrumentationScope !== this.#scope) {
      this.#post();
      this.#resource = span.resource;
      this.#scope = span.instrumentationScope;
      const { name, version, schemaUrl } = span.instrumentationScope;
      this.#send({ type: "resource", attributes: span.resource.attributes, scope: { name, version, schemaUrl } });
    }
    appendSpan(this.#pending, span);
    if (++this.#pendingSpans >= this.#batchSize) this.#post();
    else if (this.#timer === null) {
      this.#timer = setTimeout(() => this.#post(), this.#delayMs);
      this.#timer.unref();
    }
  }

  forceFlush(): Promise<void> {
    // A terminated thread would never answer: after shutdown a flush is the shutdown (as in the SDK's processors).
    if (this.#shutdown !== null) return this.#shutdown;
    this.#post();
    return this.#request("flush");
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= (async () => {
      this.#post();
      try {
        await this.#request("shutdown");
      } finally {
        await this.#worker.terminate();
        if (this.#droppedAfterFailure > 0) this.#logger.warn("spans dropped after the trace export thread failed", { droppedSpans: this.#droppedAfterFailure });
      }
    })();
    return this.#shutdown;
  }

  #post(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#pendingSpans === 0 || this.#failure !== null) return;
    const spans = this.#pending;
    this.#pending = [];
    this.#pendingSpans = 0;
    this.#send({ type: "spans", spans });
  }

  #send(message: ToExportWorker): void {
    this.#worker.postMessage(message);
  }

  #request(type: "flush" | "shutdown"): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    this.#worker.ref();
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#send({ type, id });
    });
  }

  #settle(id: number, error: Error | null): void {
    const waiter = this.#waiting.get(id);
    if (!waiter) return;
    this.#waiting.delete(id);
    if (this.#waiting.size === 0) this.#worker.unref();
    if (error) waiter.reject(error);
    else waiter.resolve();
  }

  #onMessage(message: FromExportWorker): void {
    switch (message.type) {
      case "log":
        this.#logger[message.level](message.message, message.fields);
        return;
      case "done":
        this.#settle(message.id, message.error ? Object.assign(new Error(message.error.message), { name: message.error.name }) : null);
        return;
      default: {
        const unknown: never = message;
        throw new Error(`trace export thread: unknown message ${JSON.stringify(unknown)}`);
      }
    }
  }

  #fail(error: Error): void {
    if (this.#failure !== null) return;
    this.#failure = error;
    this.#droppedAfterFailure += this.#pendingSpans;
    this.#pending = [];
    this.#pendingSpans = 0;
    this.#logger.error("the trace export thread failed; spans are dropped from now on", { error });
    for (const id of [...this.#waiting.keys()]) this.#settle(id, error);
  }
}
