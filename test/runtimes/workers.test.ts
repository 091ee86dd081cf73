/**
 * `npm run start:workers` for real: wrangler dev runs the Worker on workerd with a local D1 database, configured
 * by VR_* variables turned into Worker vars. The shared smoke suite, the code interpreter reached over HTTP (a
 * Worker cannot run Pyodide's worker threads itself), then state across a restart of workerd (the D1 database
 * persists; the isolate's memory does not).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCodeInterpreterService, type CodeInterpreterServiceHandle } from "../../adapters/node/code-interpreter/service.js";
import { bootRuntime, type Booted } from "./boot.js";
import { createResponse, defineSmokeSuite } from "./smoke-suite.js";
import { expectStateSurvivesRestart } from "./state-suite.js";

let booted: Booted;
let sandbox: CodeInterpreterServiceHandle;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vr-workerd-"));
  // `vllm-responses code-interpreter serve`, in this process (one Pyodide worker).
  sandbox = await runCodeInterpreterService({ host: "127.0.0.1", port: 0, workers: 1, timeoutMs: 10_000 });
  booted = await bootRuntime("workerd", { args: ["--persist-to", join(dir, "smoke")], env: { VR_CODE_INTERPRETER_URL: sandbox.url } });
}, 120_000);

afterAll(async () => {
  await booted?.close();
  await sandbox?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("Cloudflare Workers: npm run start:workers (wrangler dev, workerd, local D1)", () => {
  it("binds the D1 database and passes VR_* as vars", () => {
    const out = booted.gateway.output();
    expect(out).toMatch(/env\.RESPONSES_DB \(vllm-responses\)\s+D1 Database\s+local/);
    expect(out).toMatch(/env\.VR_UPSTREAM\b/);
    expect(out).toMatch(/Ready on http:\/\/127\.0\.0\.1:\d+/);
  });

  defineSmokeSuite(() => booted.target());

  it("runs code_interpreter calls on the sandbox service (VR_CODE_INTERPRETER_URL)", async () => {
    const res = await createResponse(booted.gateway.url, { input: "run: print(6*7)", tools: [{ type: "code_interpreter", container: { type: "auto" } }], include: ["code_interpreter_call.outputs"] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { output: Array<Record<string, any>> };
    const call = body.output.find((o) => o.type === "code_interpreter_call")!;
    expect(call).toMatchObject({ code: "print(6*7)", status: "completed" });
    expect(call.outputs[0].logs).toBe("42");
    expect(body.output.at(-1)!.content[0].text).toBe("The tool returned: 42");
  });

  it("keeps conversations in D1 across a restart of workerd", async () => {
    await expectStateSurvivesRestart({ runtime: "workerd", mock: booted.mock, args: ["--persist-to", join(dir, "restart")] });
  }, 90_000);
});
