/**
 * Runs the real `vllm-responses` CLI (the compiled bin, exactly what a user runs after `npm ci`) as a child process
 * and waits for its ready line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/vllm-responses.js", import.meta.url));

export interface CliProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startCli(args: string[], opts: { env?: Record<string, string>; readyPattern: RegExp; timeoutMs?: number; cwd?: string }): Promise<CliProcess> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Never leave a half-started process behind: the test that wanted it will not stop it.
      child.kill("SIGKILL");
      reject(new Error(`CLI not ready in time: ${args.join(" ")}\n${out}`));
    }, opts.timeoutMs ?? 30_000);
    const check = (): void => {
      const m = opts.readyPattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited with ${code} before ready:\n${out}`));
    });
  });
  return {
    child,
    url,
    output: () => out,
    stop: (signal = "SIGTERM") =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

export function startMockProcess(extra: string[] = []): Promise<CliProcess> {
  return startCli(["mock-upstream", "--port", "0", ...extra], { readyPattern: /"url":"(http:\/\/[^"]+)"/ });
}

export function startGatewayProcess(upstream: string, extra: string[] = [], env: Record<string, string> = {}): Promise<CliProcess> {
  return startCli(["serve", "--upstream", upstream, "--gateway-host", "127.0.0.1", "--gateway-port", "0", "--code-interpreter", "disabled", ...extra], {
    env,
    readyPattern: /"msg":"ready"(?:,"worker":\d+)?,"url":"(http:\/\/[^"]+)\/v1\/responses"/,
  });
}
