/**
 * An in-process OTLP/HTTP trace collector for tests (`POST /v1/traces`), accepting both encodings the
 * specification defines: `application/x-protobuf` and `application/json`, optionally gzip-compressed.
 *
 *   const receiver = await startOtlpHttpReceiver();
 *   // exporter URL: receiver.tracesUrl  (or host/port with VR_OPENTELEMETRY_PROTOCOL=http/protobuf)
 *   const span = await receiver.waitForSpan("GET /v1/responses/{response_id}");
 *   await receiver.close();
 *
 * `failNext(n, status)` makes the next n requests fail, to test exporter retries and error logging.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import {
  decodeProtobufExport,
  ExportTraceServiceResponse,
  normaliseExportRequest,
  SpanSink,
  type ReceivedSpan,
  type WireExportRequest,
} from "./otlp-trace-schema.js";

export interface OtlpHttpReceiver extends SpanSink {
  readonly host: string;
  readonly port: number;
  /** `http://host:port/v1/traces`. */
  readonly tracesUrl: string;
  /** Content types of the export requests received, in order. */
  readonly contentTypes: string[];
  failNext(count: number, status: number): void;
  /** Stops the server; rejects if any request could not be decoded (a receiver bug must fail the test). */
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return req.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body;
}

class HttpReceiver extends SpanSink implements OtlpHttpReceiver {
  readonly contentTypes: string[] = [];
  readonly decodeErrors: unknown[] = [];
  failures: { remaining: number; status: number } = { remaining: 0, status: 503 };

  constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {
    super();
  }
  get tracesUrl(): string {
    return `http://${this.host}:${this.port}/v1/traces`;
  }
  failNext(count: number, status: number): void {
    this.failures = { remaining: count, status };
  }
  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
    if (this.decodeErrors.length > 0) {
      throw new AggregateError(this.decodeErrors, "OTLP/HTTP receiver could not decode some requests");
    }
  }
}

export async function startOtlpHttpReceiver(options: { host?: string; port?: number } = {}): Promise<OtlpHttpReceiver> {
  const host = options.host ?? "127.0.0.1";
  let receiver: HttpReceiver | null = null;

  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      const contentType = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
      const body = await readBody(req);
      receiver!.contentTypes.push(contentType);
      if (receiver!.failures.remaining > 0) {
        receiver!.failures.remaining--;
        res.writeHead(receiver!.failures.status).end();
        return;
      }
      let spans: ReceivedSpan[];
      if (contentType === "application/x-protobuf") {
        spans = decodeProtobufExport(body, "http/protobuf");
        receiver!.add(spans);
        res.writeHead(200, { "content-type": "application/x-protobuf" });
        res.end(Buffer.from(ExportTraceServiceResponse.encode({}).finish()));
      } else if (contentType === "application/json") {
        // OTLP/JSON: camelCase field names, ids as hex strings, enums as integers (OTLP spec, "JSON Protobuf Encoding").
        spans = normaliseExportRequest(JSON.parse(body.toString("utf8")) as WireExportRequest, "http/json", "hex");
        receiver!.add(spans);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } else {
        res.writeHead(415).end(`unsupported content-type ${contentType}`);
      }
    })().catch((error: unknown) => {
      // A decoding bug must fail the test loudly, not look like a dropped export: answer 400 and keep the error.
      receiver!.decodeErrors.push(error);
      res.writeHead(400).end(String(error));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  receiver = new HttpReceiver(server, host, port);
  return receiver;
}
