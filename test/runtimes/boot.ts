/**
 * What every runtime test file starts the same way: the mock upstream and an OTLP/HTTP collector in this process,
 * and the gateway on the runtime under test as a child process, with tracing on.
 */
import { startMockUpstream, type MockUpstream } from "../../adapters/node/mock-upstream/server.js";
import { startOtlpHttpReceiver, type OtlpHttpReceiver } from "../helpers/otlp-http-receiver.js";
import { startRuntime, type RuntimeName, type RuntimeProcess } from "./runtime-process.js";
import type { SmokeTarget } from "./smoke-suite.js";

export interface Booted {
  gateway: RuntimeProcess;
  mock: MockUpstream;
  traces: OtlpHttpReceiver;
  target(): SmokeTarget;
  close(): Promise<void>;
}

export async function bootRuntime(runtime: RuntimeName, options: { env?: Record<string, string>; args?: string[]; cwd?: string } = {}): Promise<Booted> {
  const mock = await startMockUpstream();
  const traces = await startOtlpHttpReceiver();
  let gateway: RuntimeProcess;
  try {
    gateway = await startRuntime(runtime, {
      upstream: mock.url,
      env: {
        VR_TRACING_ENABLED: "true",
        VR_OPENTELEMETRY_PROTOCOL: "http/protobuf",
        VR_OPENTELEMETRY_HOST: traces.host,
        VR_OPENTELEMETRY_PORT: String(traces.port),
        ...options.env,
      },
      args: options.args ?? [],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
  } catch (err) {
    await Promise.allSettled([mock.close(), traces.close()]);
    throw err;
  }
  return {
    gateway,
    mock,
    traces,
    target: () => ({ url: gateway.url, mock, traces }),
    close: async () => {
      await gateway.stop();
      await Promise.all([mock.close(), traces.close()]);
    },
  };
}
