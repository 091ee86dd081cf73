/**
 * The loopback MCP runtime service: one process owns the hosted MCP servers (one stdio child per server, not
 * one per gateway worker) and serves them to every gateway worker over HTTP. Listens before the servers are
 * connected so a busy port fails fast; `/health` turns 200 once the first connect attempt of every server has
 * finished (successfully or not — unavailable servers keep retrying in the background).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../../../src/observability/logger.js";
import type { McpConfig } from "../../../src/tools/mcp/mcp-config.js";
import { HostedMcpManager, type McpStartupStatus } from "./hosted-manager.js";
import { loadMcpConfigFile } from "./load-mcp-config.js";
import type { ReconnectBackoffOptions } from "./reconnect-backoff.js";
import { createRuntimeServiceHandler } from "./runtime-service-handler.js";

export const DEFAULT_MCP_RUNTIME_PORT = 5981;

export interface McpRuntimeServiceOptions {
  /** Loopback by default: the internal API has no authentication. */
  host?: string;
  /** 0 = any free port (tests). */
  port?: number;
  /** mcp.json path (`--mcp-config`); or pass an already parsed `config`. */
  configPath?: string;
  config?: McpConfig;
  startupTimeoutMs: number;
  toolTimeoutMs: number;
  logger: Logger;
  onStartup?: (server_label: string, status: McpStartupStatus) => void;
  reconnect?: Partial<ReconnectBackoffOptions>;
}

export interface McpRuntimeService {
  /** e.g. `http://127.0.0.1:5981` — what the gateway gets as VR_MCP_BUILTIN_RUNTIME_URL. */
  url: string;
  manager: HostedMcpManager;
  close(): Promise<void>;
}

export async function runMcpRuntimeService(opts: McpRuntimeServiceOptions): Promise<McpRuntimeService> {
  const config = opts.config ?? (opts.configPath !== undefined ? await loadMcpConfigFile(opts.configPath) : undefined);
  if (!config) throw new Error("runMcpRuntimeService needs `configPath` or `config`");
  const host = opts.host ?? "127.0.0.1";

  let manager: HostedMcpManager | null = null;
  const handler = createRuntimeServiceHandler({ runtime: () => manager, toolTimeoutMs: opts.toolTimeoutMs, logger: opts.logger });
  const server = createServer((req, res) => void handler(req, res));
  await listen(server, host, opts.port ?? DEFAULT_MCP_RUNTIME_PORT);
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;

  try {
    manager = await HostedMcpManager.start({
      config,
      startupTimeoutMs: opts.startupTimeoutMs,
      logger: opts.logger,
      onStartup: opts.onStartup,
      reconnect: opts.reconnect,
    });
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  const servers = await manager.listServers();
  opts.logger.info("mcp runtime ready", {
    url,
    servers: servers.length,
    available: servers.filter((s) => s.available).length,
  });

  const started = manager;
  let closing: Promise<void> | null = null;
  return {
    url,
    manager: started,
    close() {
      closing ??= (async () => {
        // Stop taking requests first, then terminate the MCP servers (stdio children).
        server.closeAllConnections();
        await closeServer(server);
        await started.close();
      })();
      return closing;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
