/**
 * The container image without a Docker engine: the Dockerfile's stages replayed in a clean temp directory
 * (dockerfile-steps.ts: `npm ci --omit=dev --ignore-scripts`, the TypeScript build in its own stage, only
 * production node_modules + dist + bin in the runtime stage), then the image's CMD started as the unprivileged
 * user with the image's ENV, checked through its HEALTHCHECK command, /health and real responses via the mock
 * upstream, and stopped the way `docker stop` does.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockUpstream, type MockUpstream } from "../../adapters/node/mock-upstream/server.js";
import { freePort } from "../setup/services.js";
import { REPO_ROOT } from "../runtimes/runtime-process.js";
import { parseDockerfile, replayDockerfile, type ReplayedImage } from "./dockerfile-steps.js";

let root: string;
let image: ReplayedImage;
let mock: MockUpstream;
let container: { child: ChildProcess; output(): string; exited: Promise<number | null> } | null = null;
let port: number;
const timings: string[] = [];

function containerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    // What a minimal image has (no VR_* from the test process), then the image's ENV, then `docker run -e`.
    PATH: `${image.binDir}:${process.env.PATH}`,
    // The node user's home as in the image; it does not exist here, so a write there (not allowed under a read-only
    // root filesystem, see deploy/k8s) fails the test.
    HOME: "/home/node",
    ...image.env,
    VR_DB_PATH: image.env.VR_DB_PATH!.replace("sqlite:////data/", `sqlite:///${image.dataDir}/`),
    VR_UPSTREAM: mock.url,
    VR_GATEWAY_PORT: String(port),
  };
  return env;
}

function healthcheck(): number | null {
  const [command, ...args] = image.healthcheck;
  return spawnSync(command!, args, { env: containerEnv(), uid: image.uid, gid: image.gid, timeout: 3000 }).status;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "vr-container-"));
  // mkdtemp is 0700; the unprivileged user must reach /app like in the image.
  await chmod(root, 0o755);
  const stages = parseDockerfile(await readFile(join(REPO_ROOT, "Dockerfile"), "utf8"));
  image = await replayDockerfile(stages, {
    context: REPO_ROOT,
    root,
    builtNodeModules: join(REPO_ROOT, "node_modules"),
    npmEnv: { npm_config_prefer_offline: "true", npm_config_update_notifier: "false" },
    onStep: (stage, step, ms) => {
      if (step.startsWith("RUN")) timings.push(`${stage}: ${step} — ${step.includes("npm rebuild better-sqlite3") ? "built artifact reused" : `${(ms / 1000).toFixed(1)} s`}`);
    },
  });
  mock = await startMockUpstream();
  port = await freePort();
}, 240_000);

afterAll(async () => {
  if (container && container.child.exitCode === null) {
    container.child.kill("SIGKILL");
    await container.exited;
  }
  await mock?.close();
  if (root) await rm(root, { recursive: true, force: true });
  if (timings.length > 0) console.log(`container image RUN steps (replayed):\n  ${timings.join("\n  ")}`);
});

describe("the container image (Dockerfile replayed)", () => {
  it("ships production dependencies only: no dev tools, no TypeScript sources, a compiled CLI", async () => {
    const modules = join(image.appDir, "node_modules");
    for (const dev of ["typescript", "vitest", "wrangler", "deno", "bun", "openai", "@types/better-sqlite3"]) expect(existsSync(join(modules, dev)), dev).toBe(false);
    for (const prod of ["hono", "prom-client", "better-sqlite3", "postgres", "pyodide"]) expect(existsSync(join(modules, prod)), prod).toBe(true);
    expect(existsSync(join(modules, "better-sqlite3/build/Release/better_sqlite3.node"))).toBe(true);
    expect(existsSync(join(image.appDir, "dist/adapters/node/cli.js"))).toBe(true);
    expect(existsSync(join(image.appDir, "src"))).toBe(false);
    expect(image.exposed).toEqual([5969]);
    expect(image.env.VR_GATEWAY_PORT).toBe("5969");
    expect(image.uid).not.toBe(0);
  });

  it("fails its HEALTHCHECK while nothing listens", () => {
    expect(healthcheck()).not.toBe(0);
  });

  it("starts with the image's CMD as the unprivileged user and passes its HEALTHCHECK", async () => {
    const child = spawn("sh", ["-c", image.cmd], { cwd: image.appDir, env: containerEnv(), uid: image.uid, gid: image.gid, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    container = { child, output: () => out, exited };
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the container did not become ready:\n${out}`)), 90_000);
      const check = (): void => {
        if (/"msg":"ready"/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on("data", check);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the container exited with ${code}:\n${out}`));
      });
    });
    expect(out).toContain(`"url":"http://0.0.0.0:${port}/v1/responses"`);
    expect(out).toContain('"store":"sqlite"');
    expect(healthcheck()).toBe(0);
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  }, 120_000);

  it("answers through the upstream and keeps the conversation in /data", async () => {
    const post = (body: Record<string, unknown>): Promise<Response> =>
      fetch(`http://127.0.0.1:${port}/v1/responses`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "mock-model", ...body }) });
    const first = await post({ input: "hello container" });
    expect(first.status).toBe(200);
    const body = (await first.json()) as { id: string; output: Array<{ content: Array<{ text: string }> }> };
    expect(body.output[0]!.content[0]!.text).toBe("You said: hello container");
    const second = await post({ previous_response_id: body.id, input: "again" });
    expect(second.status).toBe(200);
    const db = await stat(join(image.dataDir, "vllm_responses.db"));
    expect(db.uid).toBe(image.uid);
  });

  it("drains and exits 0 on SIGTERM (docker stop)", async () => {
    container!.child.kill("SIGTERM");
    expect(await container!.exited).toBe(0);
  }, 40_000);
});
