/**
 * An in-process OTLP/gRPC trace collector for tests: a grpc-js server implementing
 * `opentelemetry.proto.collector.trace.v1.TraceService/Export`, decoding requests with the partial schema in
 * otlp-trace-schema.ts. No OTLP collector exists on this machine; this is the stand-in.
 *
 *   const receiver = await startOtlpGrpcReceiver();
 *   // point the gateway at receiver.host / receiver.port (VR_OPENTELEMETRY_HOST / _PORT), then:
 *   const span = await receiver.waitForSpan("POST /v1/responses");
 *   await receiver.close();
 */
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceDefinition,
} from "@grpc/grpc-js";
import {
  decodeProtobufExport,
  ExportTraceServiceResponse,
  SpanSink,
  TRACE_SERVICE_EXPORT_PATH,
  type ReceivedSpan,
} from "./otlp-trace-schema.js";

export interface OtlpGrpcReceiver extends SpanSink {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, the form OTLP gRPC exporters take. */
  readonly url: string;
  /** Number of Export calls received. */
  readonly exportCalls: number;
  close(): Promise<void>;
}

const service: ServiceDefinition = {
  Export: {
    path: TRACE_SERVICE_EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    // The raw bytes are kept: decoding happens in the handler so a malformed request fails that call only.
    requestDeserialize: (bytes: Buffer) => bytes,
    requestSerialize: (bytes: Buffer) => bytes,
    // An empty ExportTraceServiceResponse: no partial_success, i.e. everything accepted.
    responseSerialize: () => Buffer.from(ExportTraceServiceResponse.encode({}).finish()),
    responseDeserialize: (bytes: Buffer) => bytes,
  },
};

class GrpcReceiver extends SpanSink implements OtlpGrpcReceiver {
  exportCalls = 0;
  constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {
    super();
  }
  get url(): string {
    return `http://${this.host}:${this.port}`;
  }
  close(): Promise<void> {
    return new Promise((resolve) => {
      // tryShutdown waits for in-flight calls; exporters keep no long-lived streams, so this is quick.
      this.server.tryShutdown(() => resolve());
    });
  }
}

export async function startOtlpGrpcReceiver(options: { host?: string; port?: number } = {}): Promise<OtlpGrpcReceiver> {
  const host = options.host ?? "127.0.0.1";
  const server = new Server();
  let receiver: GrpcReceiver | null = null;
  const exportHandler = (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
    let spans: ReceivedSpan[];
    try {
      spans = decodeProtobufExport(call.request, "grpc");
    } catch (error) {
      callback({ code: status.INVALID_ARGUMENT, details: `undecodable ExportTraceServiceRequest: ${String(error)}` });
      return;
    }
    receiver!.exportCalls++;
    receiver!.add(spans);
    callback(null, Buffer.alloc(0));
  };
  server.addService(service, { Export: exportHandler });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port ?? 0}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  receiver = new GrpcReceiver(server, host, port);
  return receiver;
}
