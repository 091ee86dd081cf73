/**
 * Enough of the OTLP trace protobuf schema (opentelemetry-proto v1, collector/trace/v1 + trace/v1 + common/v1 +
 * resource/v1) to decode what an exporter sends, plus one normalised span shape shared by the gRPC and HTTP test
 * receivers. Field numbers follow the upstream .proto files; fields not listed here (links, dropped counts) are
 * skipped by protobufjs when decoding.
 */
import protobuf from "protobufjs";

const COMMON = `
syntax = "proto3";
package opentelemetry.proto.common.v1;
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
`;

const RESOURCE = `
syntax = "proto3";
package opentelemetry.proto.resource.v1;
message Resource { repeated opentelemetry.proto.common.v1.KeyValue attributes = 1; }
`;

const TRACE = `
syntax = "proto3";
package opentelemetry.proto.trace.v1;
message ResourceSpans {
  opentelemetry.proto.resource.v1.Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
  string schema_url = 3;
}
message ScopeSpans {
  opentelemetry.proto.common.v1.InstrumentationScope scope = 1;
  repeated Span spans = 2;
  string schema_url = 3;
}
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated opentelemetry.proto.common.v1.KeyValue attributes = 9;
  message Event {
    fixed64 time_unix_nano = 1;
    string name = 2;
    repeated opentelemetry.proto.common.v1.KeyValue attributes = 3;
  }
  repeated Event events = 11;
  Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
`;

const COLLECTOR = `
syntax = "proto3";
package opentelemetry.proto.collector.trace.v1;
message ExportTraceServiceRequest { repeated opentelemetry.proto.trace.v1.ResourceSpans resource_spans = 1; }
message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
message ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
`;

const root = new protobuf.Root();
for (const source of [COMMON, RESOURCE, TRACE, COLLECTOR]) protobuf.parse(source, root, { keepCase: false });

export const ExportTraceServiceRequest = root.lookupType(
  "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
);
export const ExportTraceServiceResponse = root.lookupType(
  "opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse",
);
export const TRACE_SERVICE_EXPORT_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };

/** One received span, the same whichever transport and encoding delivered it. */
export interface ReceivedSpan {
  traceId: string; // 32 hex digits
  spanId: string; // 16 hex digits
  parentSpanId: string; // "" for a root span
  name: string;
  /** OTLP SpanKind: 1 INTERNAL, 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, AttributeValue>;
  events: { name: string; attributes: Record<string, AttributeValue> }[];
  /** OTLP StatusCode: 0 UNSET, 1 OK, 2 ERROR. */
  statusCode: number;
  resource: Record<string, AttributeValue>;
  scope: string;
  /** How it arrived: "grpc", "http/protobuf" or "http/json". */
  transport: string;
}

export const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

// Decoded protobuf and OTLP/JSON share one object shape after `toObject` with camelCase keys, except that
// protobuf ids are bytes (base64 strings via toObject) and OTLP/JSON ids are hex strings.
interface WireKeyValue {
  key: string;
  value?: WireAnyValue;
}
interface WireAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: WireAnyValue[] };
  kvlistValue?: { values?: WireKeyValue[] };
  bytesValue?: string;
}
interface WireSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: WireKeyValue[];
  events?: { name?: string; attributes?: WireKeyValue[] }[];
  status?: { code?: number };
}
export interface WireExportRequest {
  resourceSpans?: {
    resource?: { attributes?: WireKeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: WireSpan[] }[];
  }[];
}

function anyValue(value: WireAnyValue | undefined): AttributeValue {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(anyValue);
  if (value.kvlistValue) return keyValues(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return null;
}

function keyValues(list: WireKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) out[key] = anyValue(value);
  return out;
}

export function normaliseExportRequest(
  request: WireExportRequest,
  transport: string,
  idEncoding: "base64" | "hex",
): ReceivedSpan[] {
  const id = (raw: string | undefined): string =>
    !raw ? "" : idEncoding === "hex" ? raw.toLowerCase() : Buffer.from(raw, "base64").toString("hex");
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = keyValues(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          traceId: id(span.traceId),
          spanId: id(span.spanId),
          parentSpanId: id(span.parentSpanId),
          name: span.name ?? "",
          kind: span.kind ?? 0,
          startTimeUnixNano: BigInt(span.startTimeUnixNano ?? 0),
          endTimeUnixNano: BigInt(span.endTimeUnixNano ?? 0),
          attributes: keyValues(span.attributes),
          events: (span.events ?? []).map((event) => ({ name: event.name ?? "", attributes: keyValues(event.attributes) })),
          statusCode: span.status?.code ?? 0,
          resource,
          scope: scopeSpans.scope?.name ?? "",
          transport,
        });
      }
    }
  }
  return spans;
}

/** Decodes a protobuf ExportTraceServiceRequest (gRPC message or OTLP/HTTP protobuf body). */
export function decodeProtobufExport(bytes: Uint8Array, transport: string): ReceivedSpan[] {
  const message = ExportTraceServiceRequest.decode(bytes);
  const object = ExportTraceServiceRequest.toObject(message, { longs: String, bytes: String, defaults: false });
  return normaliseExportRequest(object as WireExportRequest, transport, "base64");
}

/** The part both receivers share: collected spans and a way to wait for them. */
export class SpanSink {
  readonly spans: ReceivedSpan[] = [];
  readonly #waiters = new Set<() => void>();

  add(spans: ReceivedSpan[]): void {
    this.spans.push(...spans);
    for (const wake of this.#waiters) wake();
  }

  clear(): void {
    this.spans.length = 0;
  }

  /** Resolves with all spans once `predicate(spans)` holds; rejects after `timeoutMs`. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs = 5000): Promise<ReceivedSpan[]> {
    if (predicate(this.spans)) return Promise.resolve([...this.spans]);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.spans)) return;
        cleanup();
        resolve([...this.spans]);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for spans; have: ${this.spans.map((s) => s.name).join(", ") || "none"}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }

  /** Waits until a span named `name` arrived and returns it. */
  async waitForSpan(name: string, timeoutMs = 5000): Promise<ReceivedSpan> {
    const spans = await this.waitFor((all) => all.some((span) => span.name === name), timeoutMs);
    return spans.find((span) => span.name === name)!;
  }
}
