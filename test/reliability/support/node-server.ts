/**
 * The gateway behind a real Node HTTP server (the same `@hono/node-server` the CLI uses), for tests that need real
 * sockets: disconnects, slow readers, uploads cut short.
 */
import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Gateway } from "../../../src/index.js";

export interface ServedGateway {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function serveGateway(gateway: Gateway): Promise<ServedGateway> {
  const server = serve({ fetch: gateway.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("listening", () => resolve());
    server.once("error", reject);
  });
  // As the CLI sets them: long SSE streams must not be cut by Node's request timeout.
  server.requestTimeout = 0;
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
