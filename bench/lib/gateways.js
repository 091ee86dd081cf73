// The processes every bench starts the same way: the scripted upstream (bench/upstream.js, with its OTLP sink) and
// the Node CLI as an operator runs it. Each child is pushed onto `procs` so the caller can stop them all.
import { join } from "node:path";
import { spawnLogged, waitForLog } from "./procs.js";

/** bench/upstream.js on free ports: { child, port, otlpPort }. */
export async function startUpstream({ root, logDir, procs }) {
  const child = spawnLogged(process.execPath, [join(root, "bench/upstream.js"), "--port", "0", "--otlp-port", "0"], { cwd: root, logFile: join(logDir, "upstream.log") });
  procs.push(child);
  const m = await waitForLog(child, /\{"port":(\d+),"otlpPort":(\d+)\}/, 10_000);
  return { child, port: Number(m[1]), otlpPort: Number(m[2]) };
}

/**
 * `vllm-responses serve`, one worker, SQLite in `logDir`, metrics on and tracing off unless `env` says otherwise:
 * { child, port, pid }. `nodeArgs` go before the script (e.g. --cpu-prof).
 */
export async function startNodeGateway({ root, logDir, procs, name, upstreamPort, env = {}, nodeArgs = [] }) {
  const child = spawnLogged(
    process.execPath,
    [...nodeArgs, join(root, "bin/vllm-responses.js"), "serve", "--upstream", `http://127.0.0.1:${upstreamPort}/v1`, "--gateway-host", "127.0.0.1", "--gateway-port", "0", "--code-interpreter", "disabled", "--upstream-ready-timeout", "30"],
    {
      cwd: root,
      logFile: join(logDir, `${name}.log`),
      env: {
        VR_DB_PATH: `sqlite:///${join(logDir, `${name}.db`)}`,
        VR_METRICS_ENABLED: "true",
        VR_TRACING_ENABLED: "false",
        // 500 concurrent streams is a row: the default cap (300 in-flight) would answer 429 to the rest.
        VR_MAX_CONCURRENCY: "1024",
        ...env,
      },
    },
  );
  procs.push(child);
  const m = await waitForLog(child, /"msg":"ready","url":"http:\/\/127\.0\.0\.1:(\d+)\//, 60_000);
  return { child, port: Number(m[1]), pid: child.pid };
}
