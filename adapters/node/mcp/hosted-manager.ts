/**
 * The hosted (mcp.json) MCP servers, in process: one SDK client session per server, connected at start-up in
 * parallel, kept alive for the life of the runtime.
 *
 * Availability is a per-server state, never a fatal error: a server that fails to connect (or to list its tools)
 * within the start-up timeout is reported `available:false` with its redacted error, and is retried in the
 * background with exponential back-off until it comes up; a server whose session drops later (stdio child exits,
 * HTTP session rejected, transport error during a call) is reconnected the same way. Every connect attempt's
 * outcome is reported to `onStartup` (→ `mcp_server_startup_total{server_label,status}`).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Logger } from "../../../src/observability/logger.js";
import { callToolOnce, isSessionFailure, listAllTools } from "../../../src/tools/mcp/client-tool-ops.js";
import { closeMcpClient } from "../../../src/tools/mcp/close-client.js";
import { connectUrlClient, MCP_CLIENT_INFO } from "../../../src/tools/mcp/connect-url-client.js";
import { withDeadline } from "../../../src/tools/mcp/deadline.js";
import type { McpConfig, McpServerConfig } from "../../../src/tools/mcp/mcp-config.js";
import { redactSecrets, secretsOfServerConfig, toMcpErrorText } from "../../../src/tools/mcp/redact-secrets.js";
import {
  type McpCallOptions,
  type McpCallResult,
  type McpRuntime,
  McpServerUnavailableError,
  type McpServerInfo,
  type McpServerTransport,
  type McpStartupCount,
  type McpStartupCountsSource,
  McpToolNotFoundError,
  type McpToolInfo,
  McpUnknownServerError,
} from "../../../src/tools/mcp/runtime.js";
import { DEFAULT_RECONNECT_BACKOFF, type ReconnectBackoffOptions, reconnectDelayMs } from "./reconnect-backoff.js";
import { createStdioTransport } from "./stdio-transport.js";

export type McpStartupStatus = "ok" | "error";

export interface HostedMcpManagerOptions {
  config: McpConfig;
  /** Per connect attempt: spawn/connect + initialize + tools/list (VR_MCP_HOSTED_STARTUP_TIMEOUT_SEC, 10 s). */
  startupTimeoutMs: number;
  logger: Logger;
  /** Called once per connect attempt outcome, initial and background ones alike. */
  onStartup?: (server_label: string, status: McpStartupStatus) => void;
  reconnect?: Partial<ReconnectBackoffOptions>;
}

type SlotStatus = "connecting" | "available" | "unavailable" | "closed";

interface Session {
  client: Client;
  transport: Exclude<McpServerTransport, "auto">;
  tools: McpToolInfo[];
  generation: number;
  connectedAt: number;
}

interface ServerSlot {
  config: McpServerConfig;
  secrets: string[];
  status: SlotStatus;
  session: Session | null;
  lastError: string | null;
  /** Consecutive failed attempts (and short-lived sessions): drives the back-off. */
  failures: number;
  /** Bumped per connect attempt, so events from an abandoned client are ignored. */
  generation: number;
  retryTimer: ReturnType<typeof setTimeout> | null;
  connecting: Promise<void> | null;
  counts: Record<McpStartupStatus, number>;
}

/** A session that stayed up this long was healthy: its drop restarts the back-off from the beginning. */
const HEALTHY_SESSION_MS = 60_000;

export class HostedMcpManager implements McpRuntime, McpStartupCountsSource {
  private readonly slots = new Map<string, ServerSlot>();
  private readonly logger: Logger;
  private readonly startupTimeoutMs: number;
  private readonly onStartup: HostedMcpManagerOptions["onStartup"];
  private readonly backoff: ReconnectBackoffOptions;
  private readonly closing = new AbortController();

  private constructor(opts: HostedMcpManagerOptions) {
    this.logger = opts.logger;
    this.startupTimeoutMs = opts.startupTimeoutMs;
    this.onStartup = opts.onStartup;
    this.backoff = { ...DEFAULT_RECONNECT_BACKOFF, ...opts.reconnect };
    for (const config of opts.config.servers) {
      this.slots.set(config.server_label, {
        config,
        secrets: secretsOfServerConfig(config),
        status: "connecting",
        session: null,
        lastError: null,
        failures: 0,
        generation: 0,
        retryTimer: null,
        connecting: null,
        counts: { ok: 0, error: 0 },
      });
    }
  }

  /** Connects every server in parallel; resolves once each has connected or failed its first attempt. */
  static async start(opts: HostedMcpManagerOptions): Promise<HostedMcpManager> {
    const manager = new HostedMcpManager(opts);
    await Promise.all([...manager.slots.values()].map((slot) => manager.connect(slot)));
    return manager;
  }

  async listServers(): Promise<McpServerInfo[]> {
    return [...this.slots.values()].map((slot) => {
      const available = slot.status === "available" && slot.session !== null;
      const info: McpServerInfo = {
        server_label: slot.config.server_label,
        available,
        transport: slot.session?.transport ?? slot.config.transport,
      };
      if (!available) info.error = slot.lastError ?? (slot.status === "closed" ? "runtime closed" : "connecting");
      return info;
    });
  }

  async listTools(label: string): Promise<McpToolInfo[]> {
    return [...this.requireSession(this.requireSlot(label)).tools];
  }

  async callTool(label: string, tool: string, args: Record<string, unknown>, opts: McpCallOptions): Promise<McpCallResult> {
    const slot = this.requireSlot(label);
    const session = this.requireSession(slot);
    if (!session.tools.some((t) => t.name === tool)) {
      // The server may have added the tool since we listed (without a list_changed notification): look once more.
      await this.refreshTools(slot, session);
      if (!session.tools.some((t) => t.name === tool)) throw new McpToolNotFoundError(label, tool);
    }
    const started = Date.now();
    const outcome = await callToolOnce(session.client, tool, args, {
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      secrets: slot.secrets,
    });
    // Arguments are never logged: they are model output and may carry user data.
    const fields = { server_label: label, tool_name: tool, request_id: opts.requestId, duration_ms: Date.now() - started };
    if (outcome.result.ok) this.logger.debug("mcp tool call ok", fields);
    else this.logger.info("mcp tool call failed", { ...fields, error: outcome.result.error_text });
    if (outcome.sessionFailure !== null) {
      this.handleDrop(slot, session.generation, toMcpErrorText(outcome.sessionFailure, slot.secrets));
    }
    return outcome.result;
  }

  async startupCounts(): Promise<McpStartupCount[]> {
    const out: McpStartupCount[] = [];
    for (const slot of this.slots.values()) {
      for (const status of ["ok", "error"] as const) {
        out.push({ server_label: slot.config.server_label, status, count: slot.counts[status] });
      }
    }
    return out;
  }

  /** Stops retries, aborts connects in flight and closes every session (stdio children are terminated). */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort(new Error("MCP runtime closed"));
    const slots = [...this.slots.values()];
    for (const slot of slots) {
      if (slot.retryTimer) clearTimeout(slot.retryTimer);
      slot.retryTimer = null;
    }
    await Promise.all(slots.map((slot) => slot.connecting));
    await Promise.all(
      slots.map(async (slot) => {
        const session = slot.session;
        slot.session = null;
        slot.status = "closed";
        if (session) await closeMcpClient(session.client, this.logger, { server_label: slot.config.server_label });
      }),
    );
  }

  private requireSlot(label: string): ServerSlot {
    const slot = this.slots.get(label);
    if (!slot) throw new McpUnknownServerError(label);
    return slot;
  }

  private requireSession(slot: ServerSlot): Session {
    if (slot.status !== "available" || slot.session === null) {
      const reason = slot.status === "closed" ? "runtime closed" : (slot.lastError ?? "connecting");
      throw new McpServerUnavailableError(slot.config.server_label, reason);
    }
    return slot.session;
  }

  /** One connect attempt. Never rejects: the outcome is recorded on the slot (and retried on failure). */
  private connect(slot: ServerSlot): Promise<void> {
    const generation = ++slot.generation;
    const label = slot.config.server_label;
    slot.status = "connecting";
    const attempt = (async (): Promise<void> => {
      const started = Date.now();
      let session: Session;
      try {
        session = await withDeadline((signal) => this.openSession(slot, generation, signal), {
          timeoutMs: this.startupTimeoutMs,
          signal: this.closing.signal,
          timeoutMessage: `MCP server start-up timed out after ${this.startupTimeoutMs} ms`,
        });
      } catch (error) {
        if (this.closing.signal.aborted) return;
        slot.status = "unavailable";
        slot.lastError = toMcpErrorText(error, slot.secrets);
        this.recordStartup(slot, "error");
        this.logger.warn("mcp server unavailable", {
          server_label: label,
          error: slot.lastError,
          attempt: slot.failures + 1,
          duration_ms: Date.now() - started,
        });
        this.scheduleRetry(slot);
        return;
      }
      if (this.closing.signal.aborted) {
        await closeMcpClient(session.client, this.logger, { server_label: label });
        return;
      }
      slot.session = session;
      slot.status = "available";
      slot.lastError = null;
      this.recordStartup(slot, "ok");
      this.logger.info("mcp server available", {
        server_label: label,
        transport: session.transport,
        tools: session.tools.length,
        duration_ms: Date.now() - started,
      });
    })();
    slot.connecting = attempt.finally(() => {
      if (slot.generation === generation) slot.connecting = null;
    });
    return slot.connecting;
  }

  /** Spawns/connects, initializes and lists tools; closes its client if anything fails or `signal` aborts. */
  private async openSession(slot: ServerSlot, generation: number, signal: AbortSignal): Promise<Session> {
    const config = slot.config;
    const label = config.server_label;
    const logFields = { server_label: label };
    let client: Client;
    let transport: Session["transport"];
    let stderrTail: () => string[] = () => [];

    if (config.kind === "command") {
      const handle = createStdioTransport(config, (line) =>
        this.logger.debug("mcp server stderr", { ...logFields, line: redactSecrets(line, slot.secrets) }),
      );
      stderrTail = handle.stderrTail;
      client = this.newClient(slot, generation);
      transport = "stdio";
      try {
        await client.connect(handle.transport, { signal, timeout: this.startupTimeoutMs });
      } catch (error) {
        await closeMcpClient(client, this.logger, logFields);
        throw withStderr(error, stderrTail());
      }
    } else {
      const connected = await connectUrlClient({
        url: new URL(config.url),
        headers: config.headers,
        transport: config.transport,
        timeoutMs: this.startupTimeoutMs,
        signal,
        clientOptions: this.clientOptions(slot, generation),
        logger: this.logger,
        server_label: label,
      });
      client = connected.client;
      transport = connected.transport;
      client.onclose = () => this.handleDrop(slot, generation, "connection closed");
    }

    // From here the client is ours to close if listing fails or the attempt is abandoned.
    const onAbort = (): void => void closeMcpClient(client, this.logger, logFields);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      signal.throwIfAborted();
      const tools = await listAllTools(client, { timeoutMs: this.startupTimeoutMs, signal });
      return { client, transport, tools, generation, connectedAt: Date.now() };
    } catch (error) {
      await closeMcpClient(client, this.logger, logFields);
      throw withStderr(error, stderrTail());
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  private newClient(slot: ServerSlot, generation: number): Client {
    const client = new Client({ ...MCP_CLIENT_INFO }, this.clientOptions(slot, generation));
    // Set before connect: a child that exits right after start-up must not leave a dead session "available".
    client.onclose = () => this.handleDrop(slot, generation, "connection closed");
    return client;
  }

  private clientOptions(slot: ServerSlot, generation: number): ConstructorParameters<typeof Client>[1] {
    return {
      capabilities: {},
      listChanged: {
        tools: {
          // We page through tools/list ourselves (the SDK's auto-refresh reads one page only).
          autoRefresh: false,
          onChanged: (error) => {
            if (error) {
              this.logger.warn("mcp tools list_changed handling failed", {
                server_label: slot.config.server_label,
                error: toMcpErrorText(error, slot.secrets),
              });
              return;
            }
            const session = slot.session;
            if (!session || session.generation !== generation) return;
            this.refreshTools(slot, session).catch((refreshError: unknown) =>
              this.logger.warn("mcp tools refresh after list_changed failed", {
                server_label: slot.config.server_label,
                error: toMcpErrorText(refreshError, slot.secrets),
              }),
            );
          },
        },
      },
    };
  }

  private async refreshTools(slot: ServerSlot, session: Session): Promise<void> {
    try {
      session.tools = await listAllTools(session.client, { timeoutMs: this.startupTimeoutMs });
    } catch (error) {
      const reason = toMcpErrorText(error, slot.secrets);
      if (isSessionFailure(error)) this.handleDrop(slot, session.generation, reason);
      throw new McpServerUnavailableError(slot.config.server_label, `tools/list failed: ${reason}`);
    }
  }

  /** The session of `generation` is gone: mark unavailable and reconnect in the background. */
  private handleDrop(slot: ServerSlot, generation: number, reason: string): void {
    const session = slot.session;
    if (this.closing.signal.aborted || slot.status !== "available" || !session || session.generation !== generation) return;
    slot.session = null;
    slot.status = "unavailable";
    slot.lastError = reason;
    if (Date.now() - session.connectedAt >= HEALTHY_SESSION_MS) slot.failures = 0;
    this.logger.warn("mcp server connection lost; reconnecting", { server_label: slot.config.server_label, error: reason });
    void closeMcpClient(session.client, this.logger, { server_label: slot.config.server_label });
    this.scheduleRetry(slot);
  }

  private scheduleRetry(slot: ServerSlot): void {
    if (this.closing.signal.aborted || slot.retryTimer !== null) return;
    const delay = reconnectDelayMs(slot.failures, this.backoff);
    slot.failures++;
    slot.retryTimer = setTimeout(() => {
      slot.retryTimer = null;
      void this.connect(slot);
    }, delay);
    // Retries alone must not keep a process alive that is otherwise done (tests, embedded use).
    slot.retryTimer.unref();
  }

  private recordStartup(slot: ServerSlot, status: McpStartupStatus): void {
    slot.counts[status]++;
    try {
      this.onStartup?.(slot.config.server_label, status);
    } catch (error) {
      // A broken metrics hook must not take the MCP runtime down with it; it is still reported.
      this.logger.error("mcp onStartup callback failed", { server_label: slot.config.server_label, error });
    }
  }
}

/** Convenience factory (same as HostedMcpManager.start). */
export function startHostedMcpManager(opts: HostedMcpManagerOptions): Promise<HostedMcpManager> {
  return HostedMcpManager.start(opts);
}

/** A stdio server's last stderr lines explain "Connection closed" far better than the SDK can. */
function withStderr(error: unknown, tail: string[]): unknown {
  if (tail.length === 0) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${message}; stderr: ${tail.join(" | ")}`, { cause: error });
}
