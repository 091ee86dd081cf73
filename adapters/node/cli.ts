/**
 * The `vllm-responses` command: `serve`, `mock-upstream`, `code-interpreter serve`.
 */
import { parseArgs } from "node:util";
import { ConfigError } from "../../src/config/env-values.js";
import { parseServeFlags, SERVE_HELP, UsageError } from "./cli/serve-flags.js";
import { runServe } from "./cli/serve-command.js";
import { startMockUpstream } from "./mock-upstream/server.js";

const HELP = `Usage: vllm-responses <command> [options]

Commands:
  serve --upstream URL       Serve the OpenAI Responses API in front of vLLM (see 'serve --help').
  mock-upstream [--port P]   A scripted vLLM-compatible server for trying the gateway without a GPU.
                             --replay DIR serves recorded Chat Completions streams instead.
  code-interpreter serve     Run the shared Python sandbox service (see 'code-interpreter serve --help').
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve": {
      const flags = parseServeFlags(rest, process.env);
      if (flags === "help") {
        process.stdout.write(SERVE_HELP);
        return 0;
      }
      return runServe(flags);
    }
    case "mock-upstream":
      return runMockUpstream(rest);
    case "code-interpreter": {
      const { runCodeInterpreterCommand } = await import("./cli/code-interpreter-command.js");
      return runCodeInterpreterCommand(rest);
    }
    case undefined:
    case "-h":
    case "--help":
    case "help":
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command '${command}'.\n\n${HELP}`);
  }
}

async function runMockUpstream(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string", default: "8457" },
      host: { type: "string", default: "127.0.0.1" },
      replay: { type: "string" },
      "ttft-ms": { type: "string" },
      "gap-ms": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write("Usage: vllm-responses mock-upstream [--port 8457] [--host 127.0.0.1] [--replay DIR] [--ttft-ms N] [--gap-ms N]\n");
    return 0;
  }
  const mock = await startMockUpstream({
    port: Number(values.port),
    host: values.host,
    ...(values.replay ? { replayDir: values.replay } : {}),
    ...(values["ttft-ms"] ? { ttftMs: Number(values["ttft-ms"]) } : {}),
    ...(values["gap-ms"] ? { gapMs: Number(values["gap-ms"]) } : {}),
  });
  console.log(JSON.stringify({ level: "info", msg: "mock upstream ready", url: mock.url, replay: values.replay ?? null }));
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await mock.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`vllm-responses: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`vllm-responses: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
