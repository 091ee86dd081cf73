/**
 * An in-process gateway (`app.request`) in front of a real mock upstream HTTP server on loopback.
 */
import { createGateway, type Gateway, type GatewayOptions } from "../../src/index.js";
import { silentLogger } from "../../src/observability/logger.js";
import { createNodeHttpFetch } from "../../adapters/node/node-http-fetch.js";
import { startMockUpstream, type MockUpstream, type MockUpstreamOptions } from "../../adapters/node/mock-upstream/server.js";

export interface Fixture {
  gateway: Gateway;
  mock: MockUpstream;
  post(body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startFixture(opts: { mock?: MockUpstreamOptions; gateway?: Partial<GatewayOptions> } = {}): Promise<Fixture> {
  const mock = await startMockUpstream(opts.mock ?? {});
  // The Node adapter's upstream fetch, as the CLI uses it (Deno, Bun and workerd tests cover the platform fetch).
  const gateway = createGateway({ upstream: mock.url, logger: silentLogger, fetch: createNodeHttpFetch(), ...opts.gateway });
  return {
    gateway,
    mock,
    post: async (body, headers = {}) =>
      gateway.request("/v1/responses", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) }),
    close: async () => {
      await gateway.close();
      await mock.close();
    },
  };
}

/** Replaces ids and timestamps so two responses for the same upstream output compare equal. */
export function normalize(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value)
      .replace(/"(resp|msg|rs|fc|ci|cntr|mcp|mcpr|call)_[0-9a-f]{32}"/g, '"$1_X"')
      .replace(/"(created_at|completed_at)":\d+/g, '"$1":0'),
  );
}
