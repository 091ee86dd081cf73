/**
 * `vllm-responses code-interpreter serve`: the shared Python sandbox service (loopback by default) that several
 * gateway workers — or Deno, Bun and Workers deployments — call over HTTP.
 */
import { parseArgs } from "node:util";
import { createConsoleLogger } from "../../../src/observability/logger.js";
import { runCodeInterpreterService } from "../code-interpreter/service.js";
import { UsageError } from "./serve-flags.js";

const HELP = `Usage: vllm-responses code-interpreter serve [--host 127.0.0.1] [--port 5970] [--workers 2] [--timeout 30] [--startup-timeout 600] [--egress-policy FILE]\n`;

export async function runCodeInterpreterCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "serve") {
    process.stdout.write(HELP);
    return sub === "--help" || sub === "-h" ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "5970" },
      workers: { type: "string", default: "2" },
      timeout: { type: "string", default: "30" },
      "startup-timeout": { type: "string", default: "600" },
      "egress-policy": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const num = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`invalid --${name}=${JSON.stringify(v)}`);
    return n;
  };
  const logger = createConsoleLogger("info", { component: "code-interpreter" });
  const service = await runCodeInterpreterService({
    host: values.host,
    port: num("port", values.port),
    workers: num("workers", values.workers),
    timeoutMs: num("timeout", values.timeout) * 1000,
    startupTimeoutMs: num("startup-timeout", values["startup-timeout"]) * 1000,
    ...(values["egress-policy"] ? { egressPolicyPath: values["egress-policy"] } : {}),
    logger,
  });
  logger.info("code interpreter ready", { url: service.url });
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await service.close();
  return 0;
}
