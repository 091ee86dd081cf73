/**
 * OTLP/HTTP span exporter on `fetch`, for every runtime (Workers, Deno, Bun, Node) — the gRPC exporter is
 * Node-only and lives in adapters/node.
 *
 * Why not `OTLPTraceExporter` from `@opentelemetry/exporter-trace-otlp-http`: the entry Node, Deno and Bun
 * resolve is built on `node:http`/`https`/`zlib` (only bundlers honouring the package's `browser` field get the
 * fetch build), and both builds send JSON only, while `VR_OPENTELEMETRY_PROTOCOL` also allows `http/protobuf`
 * (the OTLP default). The official serializers do the encoding; this file is only the fetch transport.
 * (`@opentelemetry/otlp-transformer` is a dependency of the OTLP exporters, pinned at the same 0.223.0.)
 */
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";

export type OtlpHttpProtocol = "http/protobuf" | "http/json";

export interface OtlpHttpTraceExporterOptions {
  /** Full endpoint, e.g. `http://otel-collector:4318/v1/traces`. */
  url: string;
  protocol: OtlpHttpProtocol;
  headers?: Record<string, string>;
  /** Per export, including retries. Default 10 s (the OTLP exporter default). */
  timeoutMillis?: number;
  /** Injected for tests and for runtimes that route outbound fetches through a binding. */
  fetch?: typeof fetch;
}

/** OTLP/HTTP "retryable" responses (OTLP specification, "Failures" / "Retryable Response Codes"). */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const MAX_ATTEMPTS = 3;
const INITIAL_BACKOFF_MS = 250;

export class OtlpHttpTraceExporter implements SpanExporter {
  readonly #url: string;
  readonly #serializer: typeof JsonTraceSerializer;
  readonly #headers: Record<string, string>;
  readonly #timeoutMillis: number;
  readonly #fetch: typeof fetch;
  readonly #pending = new Set<Promise<void>>();
  #shutdown = false;

  constructor(options: OtlpHttpTraceExporterOptions) {
    this.#url = options.url;
    this.#serializer = options.protocol === "http/json" ? JsonTraceSerializer : ProtobufTraceSerializer;
    this.#headers = {
      ...options.headers,
      "content-type": options.protocol === "http/json" ? "application/json" : "application/x-protobuf",
    };
    this.#timeoutMillis = options.timeoutMillis ?? 10_000;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.#shutdown) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error("OTLP exporter already shut down") });
      return;
    }
    const body = this.#serializer.serializeRequest(spans);
    if (!body) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error("OTLP serializer produced no payload") });
      return;
    }
    const sent = this.#send(body).then(
      () => resultCallback({ code: ExportResultCode.SUCCESS }),
      (error: unknown) =>
        resultCallback({
          code: ExportResultCode.FAILED,
          error: error instanceof Error ? error : new Error(String(error)),
        }),
    );
    this.#pending.add(sent);
    void sent.finally(() => this.#pending.delete(sent));
  }

  async #send(body: Uint8Array): Promise<void> {
    const deadline = Date.now() + this.#timeoutMillis;
    let backoff = INITIAL_BACKOFF_MS;
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`OTLP export to ${this.#url} timed out`);
      let retryable: Error;
      try {
        const response = await this.#fetch(this.#url, {
          method: "POST",
          headers: this.#headers,
          body: body as BodyInit,
          signal: AbortSignal.timeout(remaining),
        });
        // The body (an ExportTraceServiceResponse, maybe with partial_success) is not needed; drain it so the
        // connection can be reused.
        await response.arrayBuffer();
        if (response.ok) return;
        const failure = new Error(`OTLP export to ${this.#url} failed with HTTP ${response.status}`);
        if (!RETRYABLE_STATUS.has(response.status)) throw failure;
        retryable = failure;
      } catch (error) {
        if (!(error instanceof TypeError)) throw error;
        // fetch rejects with TypeError on network failures (collector restarting): worth another attempt.
        retryable = new Error(`OTLP export to ${this.#url} failed: ${error.message}`, { cause: error });
      }
      if (attempt >= MAX_ATTEMPTS || Date.now() + backoff >= deadline) throw retryable;
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff *= 2;
    }
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.#pending);
  }

  async shutdown(): Promise<void> {
    this.#shutdown = true;
    await this.forceFlush();
  }
}

/** `http://host:port/v1/traces` from `VR_OPENTELEMETRY_HOST`/`_PORT` (OTLP/HTTP signal path). */
export function otlpHttpTracesUrl(host: string, port: number): string {
  const authority = host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
  return `http://${authority}/v1/traces`;
}
