/**
 * Shared pieces of the reliability tests: an in-process gateway with a log-capturing logger, the OpenAI error
 * shape check, and polling.
 */
import { expect } from "vitest";
import { createGateway, type Gateway, type GatewayOptions } from "../../../src/index.js";
import { capturingLogger, type CapturingLogger } from "../../mcp/support.js";

export interface TestGateway {
  gateway: Gateway;
  logs: CapturingLogger;
  post(body: unknown, headers?: Record<string, string>): Promise<Response>;
}

export function testGateway(upstream: string, config: GatewayOptions["config"] = {}, extra: Partial<GatewayOptions> = {}): TestGateway {
  const logs = capturingLogger();
  const gateway = createGateway({ upstream, logger: logs, config, ...extra });
  return {
    gateway,
    logs,
    post: async (body, headers = {}) =>
      gateway.request("/v1/responses", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) }),
  };
}

export interface OpenAiError {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** Asserts an OpenAI-shaped JSON error with this status (and code), and returns it. */
export async function expectError(res: Response, status: number, code?: string): Promise<OpenAiError> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = (await res.json()) as { error: OpenAiError };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(typeof body.error.message).toBe("string");
  expect(typeof body.error.type).toBe("string");
  expect(body.error.param === null || typeof body.error.param === "string").toBe(true);
  expect(body.error.code === null || typeof body.error.code === "string").toBe(true);
  if (code !== undefined) expect(body.error.code).toBe(code);
  return body.error;
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 3000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
