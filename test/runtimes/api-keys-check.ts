/**
 * `VR_API_KEYS_FILE` on a runtime that can read files: requests without one of the file's keys get a 401, with one
 * they are served. (Where files cannot be read — Workers — the gateway refuses to start instead of serving open.)
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import type { MockUpstream } from "../../adapters/node/mock-upstream/server.js";
import { startRuntime, type RuntimeName } from "./runtime-process.js";

export async function expectApiKeysFileEnforced(runtime: RuntimeName, mock: MockUpstream, dir: string): Promise<void> {
  const file = join(dir, `${runtime}-keys.txt`);
  await writeFile(file, "# gateway keys\nsk-first\nsk-second\n", { mode: 0o600 });
  const gateway = await startRuntime(runtime, { upstream: mock.url, env: { VR_API_KEYS_FILE: file, VR_DB_PATH: "memory://" } });
  try {
    const post = (key?: string): Promise<Response> =>
      fetch(`${gateway.url}/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ model: "mock-model", input: "hi" }),
      });
    const refused = await post();
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
    expect((await post("sk-wrong")).status).toBe(401);
    expect((await post("sk-second")).status).toBe(200);
    // Probes stay open.
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  } finally {
    await gateway.stop();
  }
}
