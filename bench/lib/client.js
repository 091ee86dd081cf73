// The load client: plain node:http with a keep-alive agent per target (no undici, no SDK), so every target is
// driven by exactly the same code. Runs in the runner's process, never in a gateway's or the upstream's.
import http from "node:http";

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * A target: where requests go and the headers that route them (Portkey needs its x-portkey-* headers).
 * One keep-alive agent per target and concurrency level, so connections are reused like a real client's pool.
 */
export function makeTarget({ key, label, port, headers = {}, pid = null }) {
  return { key, label, port, headers, pid, agents: new Map() };
}

function agentFor(target, max) {
  let a = target.agents.get(max);
  if (!a) {
    a = new http.Agent({ keepAlive: true, maxSockets: max, maxFreeSockets: max, keepAliveMsecs: 30_000 });
    target.agents.set(max, a);
  }
  return a;
}

export function closeAgents(target) {
  for (const a of target.agents.values()) a.destroy();
  target.agents.clear();
}

const TEXT_MARK = { chat: /"content":"[^"]/, responses: /event: response\.output_text\.delta/ };
const TS_RE = { chat: /"content":"T(\d+) /g, responses: /"delta":"T(\d+) /g };

/**
 * One request. `sse` is null (JSON answer), "chat" or "responses" (how a text delta looks in the stream).
 * `ts`: deltas carry the upstream's send time (bench/upstream.js `ts=1`); collect per-frame latency (µs).
 * Resolves { status, totalMs, firstByteMs (first body byte), ttftMs (first text delta), maxGapMs (largest silence
 * between two reads once the body has started), frameLatUs: number[] | null, bytes, body (with keepBody) }.
 * Never rejects: transport errors come back as status 0.
 */
export function send(target, path, body, { sse = null, ts = false, concurrency = 1, timeoutMs = 60_000, keepBody = false } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      resolve(r);
    };
    const req = http.request(
      {
        agent: agentFor(target, concurrency),
        host: "127.0.0.1",
        port: target.port,
        path,
        method: "POST",
        headers: { ...target.headers, "content-type": "application/json", "content-length": body.length },
      },
      (res) => {
        let last = NaN;
        let firstByte = NaN;
        let maxGap = 0;
        let ttft = NaN;
        let bytes = 0;
        let pending = "";
        let kept = "";
        const lat = ts ? [] : null;
        const mark = sse ? TEXT_MARK[sse] : null;
        const tsRe = sse ? TS_RE[sse] : null;
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          const now = performance.now();
          bytes += chunk.length;
          if (keepBody) kept += chunk;
          if (!sse) return;
          if (Number.isNaN(firstByte)) firstByte = now - t0;
          else if (now - last > maxGap) maxGap = now - last;
          last = now;
          // Work on whole SSE frames: a frame split across reads is completed by the next one.
          const text = pending + chunk;
          const cut = text.lastIndexOf("\n\n");
          if (cut < 0) {
            pending = text;
            return;
          }
          const whole = text.slice(0, cut);
          pending = text.slice(cut + 2);
          if (Number.isNaN(ttft) && mark.test(whole)) ttft = now - t0;
          if (lat) {
            const at = nowUs();
            tsRe.lastIndex = 0;
            for (let m = tsRe.exec(whole); m !== null; m = tsRe.exec(whole)) lat.push(at - Number(m[1]));
          }
        });
        res.on("end", () => {
          const end = performance.now();
          if (sse && !Number.isNaN(last) && end - last > maxGap) maxGap = end - last;
          finish({ status: res.statusCode, totalMs: end - t0, firstByteMs: firstByte, ttftMs: ttft, maxGapMs: maxGap, frameLatUs: lat, bytes, body: keepBody ? kept : undefined });
        });
        res.on("error", () => finish({ status: 0, totalMs: performance.now() - t0, ttftMs: NaN, maxGapMs: maxGap, frameLatUs: lat, bytes }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error("client timeout")));
    req.on("error", () => finish({ status: 0, totalMs: performance.now() - t0, ttftMs: NaN, maxGapMs: 0, frameLatUs: null, bytes: 0 }));
    req.end(body);
  });
}

/** `n` requests one after another (concurrency 1). */
export async function sequential(target, path, body, n, opts = {}) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await send(target, path, body, opts));
  return out;
}

/** `total` requests with at most `concurrency` in flight. */
export async function pool(target, path, body, total, concurrency, opts = {}) {
  const out = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      out.push(await send(target, path, body, { ...opts, concurrency }));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/**
 * Closed-loop load for `durationMs` after `warmupMs`: `concurrency` workers, each sending the next request as soon
 * as the previous one ended. Returns completed-OK count and rate in the measured window, errors, latencies.
 */
export async function closedLoop(target, path, body, concurrency, durationMs, warmupMs, opts = {}) {
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const stopAt = measureFrom + durationMs;
  let ok = 0;
  let errors = 0;
  const lat = [];
  const worker = async () => {
    while (performance.now() < stopAt) {
      const t = performance.now();
      const r = await send(target, path, body, { ...opts, concurrency, timeoutMs: 10_000 });
      const end = performance.now();
      // Throughput = completions inside the window (the standard definition: requests in flight across a
      // boundary count once, at their end); latencies only of requests wholly inside it.
      if (end >= measureFrom && end <= stopAt) {
        if (r.status === 200) {
          ok++;
          if (t >= measureFrom) lat.push(r.totalMs);
        } else errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ok, errors, rps: ok / (durationMs / 1000), lat };
}
