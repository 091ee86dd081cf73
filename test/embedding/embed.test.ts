/**
 * Embedding, as a user of the published package does it: a consumer project whose node_modules holds the built
 * `vllm-responses` package (package.json, bin/, dist/ — what `npm pack` ships), an application that imports
 * `createGateway` from it, and that application served by Node, Deno and Bun.
 *
 * Also the package's shape: the `exports` map resolves to files that exist, with declarations a TypeScript consumer
 * without Node's types can compile against, and nothing Node-only is reachable from the core entry.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockUpstream, type MockUpstream } from "../../adapters/node/mock-upstream/server.js";
import { findViolations } from "../lint/core-import-rule.js";
import { parseExposition } from "../helpers/prometheus-text.js";
import { validateEvents, validateResponse } from "../helpers/spec-validator.js";
import { readSse, typesOf } from "../helpers/sse.js";
import { compilePackage } from "../runtimes/compile-package.js";
import { REPO_ROOT } from "../runtimes/runtime-process.js";

const run = promisify(execFile);
const BIN = join(REPO_ROOT, "node_modules/.bin");

let root: string;
let consumer: string;
let pkg: string;
let mock: MockUpstream;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "vr-embed-"));
  consumer = join(root, "consumer");
  await mkdir(join(consumer, "node_modules/@hono"), { recursive: true });
  // The package as installed: its own files, its dependencies resolved from the repository's node_modules.
  pkg = (await compilePackage("vllm-responses", ["src/index.ts", "src/store/open-store.ts", "adapters/node/node-gateway.ts"], join(consumer, "node_modules"))).dir;
  // The consumer's own dependencies.
  await symlink(join(REPO_ROOT, "node_modules/hono"), join(consumer, "node_modules/hono"), "dir");
  await symlink(join(REPO_ROOT, "node_modules/@hono/node-server"), join(consumer, "node_modules/@hono/node-server"), "dir");
  await writeFile(
    join(consumer, "package.json"),
    JSON.stringify({ name: "embedding-consumer", private: true, type: "module", dependencies: { "vllm-responses": "0.1.0", hono: "4.13.19", "@hono/node-server": "1.19.19" } }),
  );
  await cp(join(REPO_ROOT, "test/embedding/fixtures/embed-server.mjs"), join(consumer, "embed-server.mjs"));
  mock = await startMockUpstream();
}, 120_000);

afterAll(async () => {
  await mock?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("the package shape", () => {
  it("resolves `vllm-responses` and every exports entry to files that exist, with declarations", async () => {
    const manifest = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as { exports: Record<string, string | { types: string; default: string }>; files: string[] };
    expect(manifest.files).toEqual(expect.arrayContaining(["bin", "dist"]));
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", 'console.log(import.meta.resolve("vllm-responses"))'], { cwd: consumer });
    expect(stdout.trim()).toBe(`file://${join(pkg, "dist/src/index.js")}`);
    expect(manifest.exports["."]).toEqual({ types: "./dist/src/index.d.ts", default: "./dist/src/index.js" });
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      const targets = typeof target === "string" ? [target] : [target.types, target.default];
      for (const file of targets) expect(existsSync(join(pkg, file)), `${subpath} → ${file}`).toBe(true);
    }
  });

  it("type-checks a TypeScript consumer that has no Node types", async () => {
    await writeFile(
      join(consumer, "app.ts"),
      [
        'import { createGateway, type Gateway, type GatewayOptions, type ResponseStore } from "vllm-responses";',
        'import { openStore } from "vllm-responses/store";',
        'const options: GatewayOptions = { upstream: "http://127.0.0.1:8000/v1", config: { metricsEnabled: false } };',
        "const gateway: Gateway = createGateway(options);",
        "const handler: (request: Request) => Response | Promise<Response> = (request) => gateway.fetch(request);",
        'export const store: Promise<ResponseStore> = openStore("memory://", {});',
        "export { handler };",
      ].join("\n"),
    );
    await writeFile(
      join(consumer, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2023", "DOM", "DOM.Iterable"], types: [], strict: true, noEmit: true, skipLibCheck: true }, files: ["app.ts"] }),
    );
    await expect(run(process.execPath, [join(REPO_ROOT, "node_modules/typescript/bin/tsc"), "-p", consumer], { cwd: consumer })).resolves.toBeDefined();
    // …and the declarations themselves never name Node's types.
    const declarations = await collectGraph(join(pkg, "dist/src/index.d.ts"), /\.d\.ts$/);
    for (const file of declarations) expect(await readFile(file, "utf8"), relative(pkg, file)).not.toMatch(/NodeJS\.|from "node:|reference types="node"/);
  }, 60_000);

  it("reaches nothing Node-only from the core entry (compiled import graph)", async () => {
    const files = await collectGraph(join(pkg, "dist/src/index.js"), /\.js$/);
    expect(files.length).toBeGreaterThan(40);
    const violations = (await Promise.all(files.map(async (f) => findViolations(relative(pkg, f), await readFile(f, "utf8"))))).flat();
    expect(violations.map((v) => `${v.file}:${v.line} ${v.message}`)).toEqual([]);
  });
});

describe.each([
  { runtime: "node", command: [process.execPath, "embed-server.mjs"] },
  { runtime: "deno", command: [join(BIN, "deno"), "run", "--allow-net", "--allow-read", "--allow-env", "--node-modules-dir=manual", "embed-server.mjs"] },
  { runtime: "bun", command: [join(BIN, "bun"), "--no-env-file", "embed-server.mjs"] },
])("embedded in an application on $runtime", ({ command }) => {
  let app: { url: string; stop(): Promise<void> };
  beforeAll(async () => {
    app = await startApp(command);
  }, 60_000);
  afterAll(async () => app?.stop());

  it("leaves the host application's own routes alone", async () => {
    const res = await fetch(`${app.url}/`);
    expect(await res.text()).toBe("the host application");
  });

  it("serves the gateway under a prefix mounted in a Hono app: health, JSON and a streamed response", async () => {
    expect(await (await fetch(`${app.url}/llm/health`)).json()).toEqual({});
    const plain = await post(`${app.url}/llm`, { input: "hello from the host" });
    expect(plain.status).toBe(200);
    const body = (await plain.json()) as Record<string, any>;
    validateResponse(body);
    expect(body.output[0].content[0].text).toBe("You said: hello from the host");

    const streamed = await post(`${app.url}/llm`, { input: "stream it", stream: true });
    const { events, done } = await readSse(streamed);
    expect(done).toBe(true);
    validateEvents(events);
    expect(typesOf(events).at(-1)).toBe("response.completed");
    // The gateway answers everything under its prefix, unknown paths included, in its own error shape.
    const unknown = await fetch(`${app.url}/llm/v1/nope`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
  });

  it("shares one gateway (and its store) between a Hono mount, a Hono route and a plain fetch handler", async () => {
    const first = (await (await post(`${app.url}/llm`, { input: "first turn" })).json()) as { id: string };
    const viaRaw = await post(`${app.url}/raw`, { previous_response_id: first.id, input: "second turn" });
    expect(viaRaw.status).toBe(200);
    expect(((await viaRaw.json()) as { previous_response_id: string }).previous_response_id).toBe(first.id);
    const viaRoute = await fetch(`${app.url}/api/v1/responses/${first.id}`);
    expect(viaRoute.status).toBe(200);
    expect(((await viaRoute.json()) as { id: string }).id).toBe(first.id);
  });

  it("takes its settings from the options object (metrics at config.metricsPath, labels without the prefix)", async () => {
    expect((await fetch(`${app.url}/llm/metrics`)).status).toBe(404);
    const res = await fetch(`${app.url}/llm/prom`);
    expect(res.status).toBe(200);
    const exposition = parseExposition(await res.text());
    expect(exposition.value("vllm_responses_http_requests_total", { method: "POST", route: "/v1/responses", status: "200" })).toBeGreaterThanOrEqual(2);
    expect(exposition.samples.some((s) => s.labels.route === "/health")).toBe(false);
  });
});

function post(base: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${base}/v1/responses`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "mock-model", ...body }) });
}

async function startApp(command: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  // No VR_* variables: everything the gateway needs comes from the options object in the fixture.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("VR_")));
  const child: ChildProcess = spawn(command[0]!, [...command.slice(1), mock.url], { cwd: consumer, env: { ...env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`embedding app not ready:\n${out}`)), 30_000);
    const check = (): void => {
      const m = /\{"ready":"(http:\/\/[^"]+)"\}/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`embedding app exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGKILL");
      }),
  };
}

/** Every file reachable from `entry` through relative static imports/re-exports (compiled output). */
async function collectGraph(entry: string, pattern: RegExp): Promise<string[]> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await readFile(file, "utf8");
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+["'](\.[^"']+)["']|(?:^|\n)\s*import\s+["'](\.[^"']+)["']/g)) {
      const spec = (m[1] ?? m[2])!;
      const target = resolve(dirname(file), pattern.source.includes("d\\.ts") ? spec.replace(/\.js$/, ".d.ts") : spec);
      if (existsSync(target)) queue.push(target);
      else throw new Error(`${relative(pkg, file)} imports ${spec}, which does not exist in the package`);
    }
  }
  return [...seen];
}
