/**
 * Reports export failures through the gateway logger. The SDK would send them to the global `diag` logger,
 * which is silent unless an embedder installs one — i.e. a missing collector would go unnoticed. While the
 * collector stays down the warning repeats at most once a minute with the number of spans lost meanwhile.
 */
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Logger } from "./logger.js";

export class LoggingSpanExporter implements SpanExporter {
  static readonly REPEAT_MS = 60_000;
  #lastLoggedAt = Number.NEGATIVE_INFINITY;
  #lostSinceLog = 0;

  constructor(
    private readonly inner: SpanExporter,
    private readonly logger: Logger,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.#reportFailure(result.error, spans.length);
      resultCallback(result);
    });
  }

  #reportFailure(error: Error | undefined, spanCount: number): void {
    this.#lostSinceLog += spanCount;
    const now = Date.now();
    if (now - this.#lastLoggedAt < LoggingSpanExporter.REPEAT_MS) return;
    this.logger.warn("trace export failed; spans dropped", { error, droppedSpans: this.#lostSinceLog });
    this.#lastLoggedAt = now;
    this.#lostSinceLog = 0;
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
