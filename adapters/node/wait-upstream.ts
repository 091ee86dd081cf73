/**
 * Start-up wait for vLLM: poll `/v1/models` until it answers. vLLM can take many minutes to load weights, so
 * the default deadline is long; progress is logged every interval so operators see what the gateway waits for.
 */
import type { Logger } from "../../src/observability/logger.js";
import type { UpstreamClient } from "../../src/upstream/chat-client.js";

export async function waitForUpstream(upstream: UpstreamClient, opts: { timeoutMs: number; intervalMs: number; logger: Logger }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastLog = 0;
  for (;;) {
    const probe = await upstream.probeModels(2000);
    if (probe.ok) return;
    if (probe.status === 401 || probe.status === 403) {
      throw new Error(`upstream ${upstream.baseUrl}/models answered ${probe.status}: check VR_OPENAI_API_KEY (the bearer sent to vLLM).`);
    }
    const now = Date.now();
    if (now >= deadline) {
      throw new Error(`upstream ${upstream.baseUrl} did not become ready within ${Math.round(opts.timeoutMs / 1000)} s (last: ${probe.error ?? `HTTP ${probe.status}`}).`);
    }
    if (now - lastLog >= opts.intervalMs) {
      lastLog = now;
      opts.logger.info("waiting for upstream", { upstream: upstream.baseUrl, last: probe.error ?? `HTTP ${probe.status}`, remaining_s: Math.round((deadline - now) / 1000) });
    }
    await new Promise((r) => setTimeout(r, Math.min(250, Math.max(10, deadline - now))));
  }
}
