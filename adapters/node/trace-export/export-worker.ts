/**
 * The trace export worker thread: receives finished spans in flat batches (span-batch.ts) from the serving thread, and batches,
 * encodes (OTLP protobuf/JSON) and sends them with the official exporter the configuration picks (gRPC by
 * default). Everything CPU-heavy about tracing except creating the spans happens here, off the event loop that
 * serves requests.
 */
import { diag, DiagLogLevel, type Attributes } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import { resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { parentPort, workerData } from "node:worker_threads";
import type { Logger } from "../../../src/observability/logger.js";
import { LoggingSpanExporter } from "../../../src/observability/logging-span-exporter.js";
import { createNodeTraceExporter } from "../trace-exporter.js";
import type { ExportWorkerData, FromExportWorker, ToExportWorker } from "./protocol.js";
import { readSpans } from "./span-batch.js";

if (!parentPort) throw new Error("export-worker.ts runs as a worker thread (see export-thread.ts)");
const port = parentPort;
const data = workerData as ExportWorkerData;
const post = (message: FromExportWorker): void => port.postMessage(message);

// Export failures are logged by the gateway's logger on the serving thread (same format, same destination).
const log =
  (level: "debug" | "info" | "warn" | "error") =>
  (message: string, fields?: Record<string, unknown>): void =>
    post({ type: "log", level, message, ...(fields ? { fields } : {}) });
const logger: Logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };

// The SDK reports spans it drops (a full queue: a burst faster than the collector takes them) only through the
// global `diag` logger, silent by default. This thread's globals are the gateway's own — no embedder shares them —
// so its diag warnings go to the gateway logger.
diag.setLogger(
  {
    error: (message, ...args) => logger.error(message, args.length > 0 ? { details: args.map(String) } : undefined),
    warn: (message, ...args) => logger.warn(message, args.length > 0 ? { details: args.map(String) } : undefined),
    info: () => {},
    debug: () => {},
    verbose: () => {},
  },
  DiagLogLevel.WARN,
);

const processor = new BatchSpanProcessor(new LoggingSpanExporter(createNodeTraceExporter(data.exporter), logger), {
  scheduledDelayMillis: data.scheduled_delay_ms,
  // Bursts are absorbed here, off the serving thread's heap (the SDK default is 2048).
  maxQueueSize: 8192,
});
let resource: Resource = resourceFromAttributes({});
let scope: InstrumentationScope = { name: "vllm-responses" };

function setResource(attributes: Attributes, nextScope: InstrumentationScope): void {
  resource = resourceFromAttributes(attributes);
  scope = nextScope;
}

function answer(id: number, work: Promise<void>): void {
  work.then(
    () => post({ type: "done", id }),
    (error: unknown) => {
      // The SDK rejects with an array of per-processor errors; the serving thread needs one message.
      const errors = Array.isArray(error) ? error : [error];
      const message = errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; ");
      post({ type: "done", id, error: { name: "TraceExportError", message } });
    },
  );
}

port.on("message", (message: ToExportWorker) => {
  switch (message.type) {
    case "resource":
      setResource(message.attributes, message.scope);
      return;
    case "spans":
      for (const span of readSpans(message.spans, resource, scope)) processor.onEnd(span);
      return;
    case "flush":
      answer(message.id, processor.forceFlush());
      return;
    case "shutdown":
      // The serving thread terminates this thread once it has the answer.
      answer(message.id, processor.shutdown());
      return;
    default: {
      const unknown: never = message;
      throw new Error(`trace export worker: unknown message ${JSON.stringify(unknown)}`);
    }
  }
});
