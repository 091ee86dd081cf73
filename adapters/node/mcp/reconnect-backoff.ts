/**
 * Delay before the next connect attempt of a hosted MCP server: exponential from `initialDelayMs`, capped at
 * `maxDelayMs`, with ±20 % jitter so servers that failed together (e.g. the network came back) do not retry in
 * lock-step.
 */
export interface ReconnectBackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RECONNECT_BACKOFF: ReconnectBackoffOptions = { initialDelayMs: 1_000, maxDelayMs: 30_000 };

/** `attempt` 0 → about `initialDelayMs`; each further attempt doubles, up to `maxDelayMs`. */
export function reconnectDelayMs(attempt: number, opts: ReconnectBackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(opts.initialDelayMs * 2 ** Math.min(attempt, 30), opts.maxDelayMs);
  return Math.round(base * (0.8 + 0.4 * random()));
}
