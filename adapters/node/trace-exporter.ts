/**
 * The Node adapter's span exporter: OTLP over gRPC (insecure, `http://host:port`) like the original gateway, or
 * OTLP/HTTP when `VR_OPENTELEMETRY_PROTOCOL` asks for `http/protobuf` / `http/json`. gRPC needs `@grpc/grpc-js`
 * (HTTP/2 over Node sockets), which is why it lives here and not in `src/`.
 */
import { credentials } from "@grpc/grpc-js";
import { OTLPTraceExporter as OTLPGrpcTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as OTLPHttpJsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { OtlpHttpTraceExporter, otlpHttpTracesUrl } from "../../src/observability/trace-exporter-http.js";

export type OtlpProtocol = "grpc" | "http/protobuf" | "http/json";

export interface NodeTraceExporterOptions {
  host: string;
  /** 4317 is the collector's gRPC port, 4318 its HTTP port: the caller picks the one matching `protocol`. */
  port: number;
  protocol?: OtlpProtocol;
  timeoutMillis?: number;
}

export function createNodeTraceExporter(options: NodeTraceExporterOptions): SpanExporter {
  const protocol = options.protocol ?? "grpc";
  switch (protocol) {
    case "grpc": {
      const authority = options.host.includes(":") && !options.host.startsWith("[") ? `[${options.host}]` : options.host;
      return new OTLPGrpcTraceExporter({
        url: `http://${authority}:${options.port}`,
        credentials: credentials.createInsecure(),
        timeoutMillis: options.timeoutMillis,
      });
    }
    case "http/json":
      // On Node the official OTLP/HTTP exporter works (it speaks JSON); the fetch-based one in src/ serves the
      // runtimes where its Node entry cannot load, and protobuf everywhere.
      return new OTLPHttpJsonTraceExporter({ url: otlpHttpTracesUrl(options.host, options.port), timeoutMillis: options.timeoutMillis });
    case "http/protobuf":
      return new OtlpHttpTraceExporter({
        url: otlpHttpTracesUrl(options.host, options.port),
        protocol,
        timeoutMillis: options.timeoutMillis,
      });
    default: {
      const unknown: never = protocol;
      throw new Error(`unsupported OTLP protocol ${String(unknown)} (expected grpc, http/protobuf or http/json)`);
    }
  }
}
