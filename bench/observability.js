#!/usr/bin/env node
// `node bench/observability.js`: the observability-cost row of `npm run bench` on its own (issue 4: with metrics
// and tracing on at sample ratio 1.0, the added latency stays within 10 % of both off), so a change to the
// tracing path can be checked in a minute instead of a full run. Same method as bench/run.js phase 1b: fresh
// gateways that differ only in metrics/tracing (two with both off: the baseline is their mean, and their gap is
// the noise floor), an interleaved warm-up, then rotated interleaved rounds at c=1 of /v1/responses non-stream
// against the scripted upstream; "added" is the gateway's p50 minus the direct p50. Prints only (RESULTS.md comes
// from `npm run bench`).
//
//   node bench/observability.js [--rounds R] [--warm W]     VR_BENCH_ITERATIONS (default 1000) per gateway
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeTarget, send } from "./lib/client.js";
import { startNodeGateway, startUpstream } from "./lib/gateways.js";
import { cpuMs, stop } from "./lib/procs.js";
import { ms, summary, us } from "./lib/stats.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = Number(process.env.VR_BENCH_ITERATIONS ?? 1000);
const ROUNDS = arg("--rounds", 100);
const WARM = arg("--warm", 3000);
const tmp = mkdtempSync(join(os.tmpdir(), "vr-obs-"));
const procs = [];
process.on("exit", () => {
  for (const p of procs) p.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
});
process.on("SIGINT", () => process.exit(130));
const log = (...a) => console.error(...a);

const { port: upPort, otlpPort } = await startUpstream({ root: ROOT, logDir: tmp, procs });

async function gateway(name, env) {
  const { port, pid } = await startNodeGateway({ root: ROOT, logDir: tmp, procs, name: name.replaceAll(/\W+/g, "-"), upstreamPort: upPort, env });
  return makeTarget({ key: name, label: name, port, pid });
}

const tracingEnv = { VR_TRACING_ENABLED: "true", VR_TRACING_SAMPLE_RATIO: "1.0", VR_OPENTELEMETRY_PROTOCOL: "http/protobuf", VR_OPENTELEMETRY_HOST: "127.0.0.1", VR_OPENTELEMETRY_PORT: String(otlpPort) };
const targets = await Promise.all([
  gateway("both off", { VR_METRICS_ENABLED: "false", VR_TRACING_ENABLED: "false" }),
  gateway("metrics on (default)", { VR_METRICS_ENABLED: "true", VR_TRACING_ENABLED: "false" }),
  gateway("metrics + tracing", { VR_METRICS_ENABLED: "true", ...tracingEnv }),
  // A second "both off" gateway: what two identical gateways differ by on this machine (the noise floor).
  gateway("both off, twin", { VR_METRICS_ENABLED: "false", VR_TRACING_ENABLED: "false" }),
]);
const direct = makeTarget({ key: "direct", label: "direct", port: upPort });
const model = "bench:ttft=0,gap=0,n=16";
const resp = { path: "/v1/responses", body: Buffer.from(JSON.stringify({ model, input: "Say hello." })) };
const chat = { path: "/v1/chat/completions", body: Buffer.from(JSON.stringify({ model, messages: [{ role: "user", content: "Say hello." }] })) };

log(`warm-up: ${WARM} requests per gateway, concurrently`);
await Promise.all(targets.map(async (t) => {
  for (let i = 0; i < WARM; i++) await send(t, resp.path, resp.body, { timeoutMs: 10_000 });
}));
const series = [...targets.map((t) => ({ t, r: resp })), { t: direct, r: chat }];
for (const s of series) Object.assign(s, { lat: [], cpu: 0, errors: 0 });
log(`measuring: ${N} requests per target in ${ROUNDS} interleaved rounds`);
for (let round = 0; round < ROUNDS; round++) {
  // Rotated each round: whichever series follows another (the direct one above all, whose non-streamed calls leave
  // the upstream in another state) pays a measurable switching cost, so no series may always go first.
  for (const s of series.map((_, i) => series[(i + round) % series.length])) {
    const c0 = s.t.pid ? cpuMs(s.t.pid) : 0;
    for (let i = 0; i < Math.ceil(N / ROUNDS); i++) {
      const x = await send(s.t, s.r.path, s.r.body, { timeoutMs: 10_000 });
      if (x.status === 200) s.lat.push(x.totalMs);
      else s.errors++;
    }
    if (s.t.pid) s.cpu += cpuMs(s.t.pid) - c0;
  }
}
const base = summary(series.at(-1).lat);
const rows = series.slice(0, -1).map((s) => {
  const t = summary(s.lat);
  return { label: s.t.label, p50: t.p50 - base.p50, p99: t.p99 - base.p99, cpu: (s.cpu * 1000) / s.lat.length, errors: s.errors };
});
const pair = [rows[0], rows[3]];
const off = { p50: (pair[0].p50 + pair[1].p50) / 2, cpu: (pair[0].cpu + pair[1].cpu) / 2 };
console.log(`both off (mean of two)  added p50 ${ms(off.p50, { signed: true })}  CPU/req ${us(off.cpu)}`);
for (const r of rows) {
  const d = `  vs both off ${ms(r.p50 - off.p50, { signed: true })} (${(((r.p50 - off.p50) / off.p50) * 100).toFixed(1)} %), CPU ${(((r.cpu - off.cpu) / off.cpu) * 100).toFixed(1)} %`;
  console.log(`${r.label.padEnd(22)} added p50 ${ms(r.p50, { signed: true })}  p99 ${ms(r.p99, { signed: true })}  CPU/req ${us(r.cpu)}${r.errors ? `  ${r.errors} errors` : ""}${d}`);
}
const traced = rows[2];
console.log(`direct p50 ${ms(base.p50)}; result: ${traced.p50 <= off.p50 * 1.1 ? "PASS" : "FAIL"} (metrics + tracing within 10 % of both off)`);
await Promise.all(procs.map((p) => stop(p)));
