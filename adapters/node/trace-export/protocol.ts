/** Messages between the serving thread (export-thread.ts) and the trace export worker (export-worker.ts). */
import type { Attributes } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import type { NodeTraceExporterOptions } from "../trace-exporter.js";
import type { SpanBatch } from "./span-batch.js";

export interface ExportWorkerData {
  exporter: NodeTraceExporterOptions;
  /** The worker's BatchSpanProcessor delay (ms). */
  scheduled_delay_ms: number;
}

export type ToExportWorker =
  /** The resource and scope of the spans that follow (sent when they change, i.e. once per gateway). */
  | { type: "resource"; attributes: Attributes; scope: InstrumentationScope }
  | { type: "spans"; spans: SpanBatch }
  /** Export everything received so far; answered with `done` carrying the same id. */
  | { type: "flush"; id: number }
  /** Flush, then stop the exporter; answered with `done`. */
  | { type: "shutdown"; id: number };

export type FromExportWorker =
  /** A log record from the exporter (export failures), for the gateway's logger. */
  | { type: "log"; level: "debug" | "info" | "warn" | "error"; message: string; fields?: Record<string, unknown> }
  | { type: "done"; id: number; error?: { name: string; message: string } };
