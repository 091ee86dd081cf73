#!/usr/bin/env node
// `npm run bench`: the gateway side by side with the bare upstream and with Portkey's open-source gateway, in one
// run, on this machine. See bench/README.md for what each row means; results go to stdout and bench/RESULTS.md.
//
//   node bench/run.js [--quick] [--no-profile] [--no-extras] [--no-write]
//     --quick       a smoke run: few iterations, figures not meaningful (does not overwrite RESULTS.md)
//     --no-profile  skip the CPU-profile pass (node --cpu-prof on the gateway)
//     --no-extras   skip the other engineers' benches (bench/store-lookup.js, bench/code-interpreter.js)
//     --no-write    print only
//     --keep        keep the temporary directory (process logs, databases, .cpuprofile files)
//   VR_BENCH_ITERATIONS (default 1000): requests per target and route for the concurrency-1 rows.
//
// Processes: this one is the load client; the scripted upstream (bench/upstream.js), each gateway and Portkey
// run in their own processes. Load stays on 127.0.0.1; every phase is bounded in count and time, and a watchdog
// ends the run (and its children) if it ever takes longer than 15 minutes.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { closeAgents, closedLoop, makeTarget, send } from "./lib/client.js";
import { startNodeGateway, startUpstream as startUpstreamProcess } from "./lib/gateways.js";
import { cpuMs, descendants, freePort, httpGet, machineCpuMs, rssMb, rssSampler, servingPid, spawnLogged, stop, waitForHttp, waitForLog } from "./lib/procs.js";
import { summariseProfile } from "./lib/profile.js";
import { mb, median, ms, pct, ratio, rps, sorted, summary, us } from "./lib/stats.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = new Set(process.argv.slice(2));
const QUICK = argv.has("--quick");
const PROFILE = !argv.has("--no-profile");
const EXTRAS = !argv.has("--no-extras");
const WRITE = !argv.has("--no-write") && !QUICK;
const KEEP = argv.has("--keep");
const N1 = Number(process.env.VR_BENCH_ITERATIONS ?? (QUICK ? 100 : 1000));
const ROUNDS = QUICK ? 2 : 5;
const WARMUP = QUICK ? 20 : 100;
const TP_MS = QUICK ? 1000 : 1500;
const TP_WARM_MS = QUICK ? 300 : 500;
const SERIES_BUDGET_MS = Number(process.env.VR_BENCH_SERIES_BUDGET_S ?? (QUICK ? 10 : 30)) * 1000;
const STARTED = Date.now();

const watchdog = setTimeout(() => {
  console.error("bench: watchdog — the run took longer than 15 minutes; stopping everything.");
  process.exit(3);
}, 15 * 60_000);
watchdog.unref();
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

const log = (...a) => console.error(`[${((Date.now() - STARTED) / 1000).toFixed(0).padStart(3)} s]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const json = (o) => Buffer.from(JSON.stringify(o));

// ---------------------------------------------------------------------------------------------------------------
// Workloads. The model name shapes the upstream's answer (bench/upstream.js).
const M_FAST = "bench:ttft=0,gap=0,n=16"; // c=1 rows: the upstream answers at once, so what remains is the hops
const M_20MS = "bench:ttft=20,gap=0,n=16"; // throughput rows: a 20 ms upstream
const M_FRAMES = "bench:ttft=0,gap=20,n=64,ts=1"; // per-frame row: 64 deltas 20 ms apart, stamped
const M_LONG = "bench:ttft=0,gap=20,n=100,ts=1"; // 500 open streams: 2 s each

const PROMPT = "Say hello.";
const routes = (model) => ({
  chat: { path: "/v1/chat/completions", body: json({ model, messages: [{ role: "user", content: PROMPT }] }), sse: null },
  chatStream: { path: "/v1/chat/completions", body: json({ model, messages: [{ role: "user", content: PROMPT }], stream: true }), sse: "chat" },
  resp: { path: "/v1/responses", body: json({ model, input: PROMPT }), sse: null },
  respStream: { path: "/v1/responses", body: json({ model, input: PROMPT, stream: true }), sse: "responses" },
});

// ---------------------------------------------------------------------------------------------------------------
// Processes.
const tmp = mkdtempSync(join(os.tmpdir(), "vr-bench-"));
const procs = [];
process.on("exit", () => {
  if (KEEP) return console.error(`bench: kept ${tmp} (logs, databases, profiles)`);
  try {
    rmSync(tmp, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
});

const startUpstream = () => startUpstreamProcess({ root: ROOT, logDir: tmp, procs });

/** The Node CLI, one worker, as an operator would run it; `extraEnv` selects metrics/tracing. */
const startGateway = (name, upstreamPort, extraEnv, nodeArgs = []) => startNodeGateway({ root: ROOT, logDir: tmp, procs, name, upstreamPort, env: extraEnv, nodeArgs });

/** The floor: a bare node:http piping proxy (bench/floor-proxy.js) — what one Node hop costs on this machine. */
async function startFloor(upstreamPort) {
  const child = spawnLogged(process.execPath, [join(ROOT, "bench/floor-proxy.js"), "--upstream-port", String(upstreamPort)], { cwd: ROOT, logFile: join(tmp, "floor.log") });
  procs.push(child);
  const m = await waitForLog(child, /\{"port":(\d+)\}/, 10_000);
  return { child, port: Number(m[1]), pid: child.pid };
}

async function startPortkey(upstreamPort) {
  const port = await freePort();
  const child = spawnLogged(process.execPath, [join(ROOT, "bench/portkey-start.js"), `--port=${port}`, "--headless"], { cwd: ROOT, logFile: join(tmp, "portkey.log"), env: { NODE_ENV: "production" } });
  procs.push(child);
  await waitForHttp(child, port, "/", 30_000);
  return {
    child,
    port,
    pid: child.pid,
    headers: { "x-portkey-provider": "openai", "x-portkey-custom-host": `http://127.0.0.1:${upstreamPort}/v1`, authorization: "Bearer sk-bench" },
  };
}

/**
 * The other runtimes' adapters, when they exist in the checkout: `npm run start:<rt>` with VR_UPSTREAM and
 * VR_GATEWAY_PORT like an operator would start them. A missing or failing adapter skips its column, never the run.
 */
const RUNTIMES = {
  bun: { label: "Bun", comm: "bun", dir: "adapters/bun" },
  deno: { label: "Deno", comm: "deno", dir: "adapters/deno" },
  workers: { label: "workerd", comm: "workerd", dir: "adapters/workers" },
};
async function startRuntime(rt, upstreamPort) {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  if (!existsSync(join(ROOT, RUNTIMES[rt].dir))) return { skipped: `${RUNTIMES[rt].dir} does not exist yet` };
  if (!pkg.scripts?.[`start:${rt}`]) return { skipped: `package.json has no "start:${rt}" script yet` };
  const port = await freePort();
  const env = {
    PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH}`,
    VR_UPSTREAM: `http://127.0.0.1:${upstreamPort}/v1`,
    VR_GATEWAY_PORT: String(port),
    VR_GATEWAY_HOST: "127.0.0.1",
    VR_METRICS_ENABLED: "true",
    VR_TRACING_ENABLED: "false",
    VR_MAX_CONCURRENCY: "1024",
  };
  // Workers keep conversations in D1 (local state under --persist-to); the others in SQLite like the Node CLI.
  if (rt !== "workers") env.VR_DB_PATH = `sqlite:///${join(tmp, `${rt}.db`)}`;
  const extra = rt === "workers" ? ["--", "--persist-to", join(tmp, "workers-state")] : [];
  const child = spawnLogged("npm", ["run", "--silent", `start:${rt}`, ...extra], { cwd: ROOT, logFile: join(tmp, `${rt}.log`), env });
  procs.push(child);
  try {
    await waitForHttp(child, port, "/health", 90_000);
    // The first request may compile/bundle lazily (workerd): one real request before calling it ready.
    await send(makeTarget({ key: rt, label: rt, port }), "/v1/responses", json({ model: "bench:n=1", input: "warm" }));
  } catch (err) {
    await stop(child);
    return { skipped: `npm run start:${rt} did not become ready: ${String(err.message).split("\n")[0]}` };
  }
  await sleep(300);
  return { child, port, pid: servingPid(child.pid, RUNTIMES[rt].comm) };
}

function versionOf(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", timeout: 10_000 }).split("\n")[0].trim();
  } catch {
    return "not available";
  }
}
const pkgVersion = (name) => {
  try {
    return JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
};

function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "?";
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
  let commit = "?";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "adapters", "bin"], { cwd: ROOT, encoding: "utf8" }).trim();
    if (dirty) commit += " + uncommitted changes in src/adapters";
  } catch {
    /* not a git checkout */
  }
  return {
    date: new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"),
    cores: os.cpus().length,
    model,
    memory: `${(memKb / 1024 / 1024).toFixed(1)} GB`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    bun: versionOf(join(ROOT, "node_modules/.bin/bun"), ["--version"]),
    deno: versionOf(join(ROOT, "node_modules/.bin/deno"), ["--version"]),
    commit,
    packages: {
      "vllm-responses": JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version,
      "@portkey-ai/gateway": pkgVersion("@portkey-ai/gateway"),
      hono: pkgVersion("hono"),
      "@hono/node-server": pkgVersion("@hono/node-server"),
      "better-sqlite3": pkgVersion("better-sqlite3"),
      "prom-client": pkgVersion("prom-client"),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Phases.

/**
 * Concurrency 1, interleaved: every series (target × route) runs N/ROUNDS requests per round, round after round,
 * so slow drift of the machine hits every series alike.
 */
async function phaseLatency(series, { rounds = ROUNDS, warmup = WARMUP } = {}) {
  const opts = (s) => ({ sse: s.route.sse, timeoutMs: 10_000 });
  for (const s of series) {
    for (let i = 0; i < Math.min(warmup, s.n); i++) await send(s.target, s.route.path, s.route.body, opts(s));
    s.results = [];
    s.cpu = 0;
    s.spentMs = 0;
  }
  for (let r = 0; r < rounds; r++) {
    // Rotated each round: the series that follows another (above all the direct one, whose non-streamed calls
    // leave the upstream in another state) pays a switching cost, measured at up to 10 % of the added latency, so
    // no series may always go first.
    for (const s of series.map((_, i) => series[(i + r) % series.length])) {
      // A series that is far slower than planned (a struggling target) stops instead of stretching the run.
      if (s.spentMs > SERIES_BUDGET_MS) {
        s.truncated = true;
        continue;
      }
      const per = Math.ceil(s.n / rounds);
      const t0 = performance.now();
      const c0 = s.target.pid ? cpuMs(s.target.pid) : NaN;
      for (let i = 0; i < per; i++) s.results.push(await send(s.target, s.route.path, s.route.body, opts(s)));
      s.cpu += s.target.pid ? cpuMs(s.target.pid) - c0 : NaN;
      s.spentMs += performance.now() - t0;
    }
  }
  for (const s of series) {
    const ok = s.results.filter((x) => x.status === 200);
    s.errors = s.results.length - ok.length;
    s.cpuUsPerReq = (s.cpu * 1000) / s.results.length;
    s.total = summary(ok.map((x) => x.totalMs));
    s.ttft = s.route.sse ? summary(ok.map((x) => x.ttftMs).filter((v) => !Number.isNaN(v))) : null;
    delete s.results;
  }
}

/** Streams of 64 deltas 20 ms apart, 8 at a time; per-frame latency from the upstream's send stamp. */
async function phaseFrames(series, { concurrency = 8, waves = QUICK ? 1 : 2 } = {}) {
  for (const s of series) s.lat = [];
  for (const s of series) s.cpu = 0;
  for (let w = 0; w < waves; w++) {
    for (const s of series) {
      const c0 = s.target.pid ? cpuMs(s.target.pid) : NaN;
      const rs = await Promise.all(Array.from({ length: concurrency }, () => send(s.target, s.route.path, s.route.body, { sse: s.route.sse, ts: true, concurrency, timeoutMs: 20_000 })));
      for (const r of rs) {
        if (r.status === 200 && r.frameLatUs) for (const v of r.frameLatUs) s.lat.push(v);
        else s.errors = (s.errors ?? 0) + 1;
        if (r.maxGapMs > 1000) s.stalls = (s.stalls ?? 0) + 1;
      }
      s.cpu += s.target.pid ? cpuMs(s.target.pid) - c0 : NaN;
    }
  }
  for (const s of series) {
    s.cpuUsPerFrame = (s.cpu * 1000) / s.lat.length;
    s.frames = summary(s.lat);
    delete s.lat;
  }
}

async function phaseThroughput(series, concurrency) {
  for (const s of series) {
    const r = await closedLoop(s.target, s.route.path, s.route.body, concurrency, TP_MS, TP_WARM_MS, { sse: s.route.sse });
    s[`c${concurrency}`] = { rps: r.rps, errors: r.errors, lat: summary(r.lat) };
    closeAgents(s.target);
    await sleep(200);
  }
}

/** A previous_response_id chain through the gateway vs the same growing message list sent directly. */
async function phaseChain(direct, gw, turns, chains) {
  const perTurn = { direct: Array.from({ length: turns }, () => []), gw: Array.from({ length: turns }, () => []) };
  let failures = 0;
  for (let c = 0; c < chains; c++) {
    const messages = [];
    for (let t = 0; t < turns; t++) {
      messages.push({ role: "user", content: `Turn ${t}: tell me more.` });
      const r = await send(direct, "/v1/chat/completions", json({ model: M_FAST, messages }), { keepBody: true });
      perTurn.direct[t].push(r.totalMs);
      messages.push({ role: "assistant", content: JSON.parse(r.body).choices[0].message.content });
    }
    let prev = null;
    for (let t = 0; t < turns; t++) {
      const body = { model: M_FAST, input: `Turn ${t}: tell me more.`, ...(prev ? { previous_response_id: prev } : {}) };
      const r = await send(gw, "/v1/responses", json(body), { keepBody: true });
      if (r.status !== 200) {
        failures++;
        break;
      }
      prev = JSON.parse(r.body).id;
      perTurn.gw[t].push(r.totalMs);
    }
  }
  const added = perTurn.gw.map((g, t) => median(g) - median(perTurn.direct[t]));
  const first = median(added.slice(0, 10));
  const last = median(added.slice(-10));
  return { first, last, growthUsPerTurn: ((last - first) / (turns - 10)) * 1000, failures, lastDirect: median(perTurn.direct.at(-1)) };
}

/** One big request, repeated: `items` input items (or messages) through the gateway vs directly. */
async function phaseBigInput(series, iterations) {
  for (const s of series) {
    for (let i = 0; i < 2; i++) await send(s.target, s.route.path, s.route.body, { timeoutMs: 20_000 });
    s.totals = [];
    s.spentMs = 0;
  }
  for (let i = 0; i < iterations; i++) {
    for (const s of series) {
      if (s.spentMs > SERIES_BUDGET_MS) {
        s.truncated = true;
        continue;
      }
      const t0 = performance.now();
      const r = await send(s.target, s.route.path, s.route.body, { timeoutMs: 20_000 });
      s.spentMs += performance.now() - t0;
      if (r.status === 200) s.totals.push(r.totalMs);
      else s.errors = (s.errors ?? 0) + 1;
    }
  }
  for (const s of series) s.total = summary(s.totals);
}

/** 500 streams opened at once; RSS of the serving process before, at peak and 2 s after; stalls (> 1 s silent). */
async function phaseOpenStreams(target, route, pid, count) {
  const before = pid ? rssMb(pid) : NaN;
  const sampler = pid ? rssSampler(pid, 50) : null;
  const t0 = performance.now();
  const rs = await Promise.all(Array.from({ length: count }, () => send(target, route.path, route.body, { sse: route.sse, ts: true, concurrency: count, timeoutMs: 20_000 })));
  const wall = performance.now() - t0;
  const peak = sampler ? sampler.stop() : NaN;
  closeAgents(target);
  await sleep(1500);
  const after = pid ? rssMb(pid) : NaN;
  const ok = rs.filter((r) => r.status === 200);
  const lat = [];
  for (const r of ok) if (r.frameLatUs) for (const v of r.frameLatUs) lat.push(v);
  return {
    before,
    peak,
    after,
    wallMs: wall,
    ok: ok.length,
    errors: rs.length - ok.length,
    stalled: ok.filter((r) => r.maxGapMs > 1000).length,
    slowStart: ok.filter((r) => r.firstByteMs > 1000).length,
    late: ok.filter((r) => r.frameLatUs && r.frameLatUs.some((v) => v > 1_000_000)).length,
    maxGapMs: Math.max(0, ...ok.map((r) => r.maxGapMs)),
    frames: summary(lat),
  };
}

/**
 * A gateway under node --cpu-prof, driven with one route (after a short warm-up); returns the profile summary of
 * the measured part only (start-up and warm-up samples are left out).
 */
async function profileRun(name, upstreamPort, route, n, { concurrency = 1 } = {}) {
  const dir = join(tmp, `prof-${name}`);
  const gw = await startGateway(`prof-${name}`, upstreamPort, {}, ["--cpu-prof", `--cpu-prof-dir=${dir}`]);
  const target = makeTarget({ key: name, label: name, port: gw.port });
  // Warm-up (left out of the profile): 50 requests, or one wave of the concurrent streams.
  const warm = concurrency > 1 ? concurrency : Math.min(50, n);
  await Promise.all(Array.from({ length: warm }, () => send(target, route.path, route.body, { sse: route.sse, concurrency })));
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const cpu0 = cpuMs(gw.pid);
  const t0 = performance.now();
  let left = n;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await send(target, route.path, route.body, { sse: route.sse, ts: route.ts ?? false, concurrency });
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = cpuMs(gw.pid) - cpu0;
  closeAgents(target);
  await stop(gw.child, { signal: "SIGTERM", graceMs: 10_000 });
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")) : [];
  if (files.length === 0) return null;
  return { ...summariseProfile(join(dir, files[0]), { root: ROOT, top: 15, fromUs }), requests: n, wallMs, cpuMs: cpu };
}

function runExtra(file, env = {}) {
  const path = join(ROOT, "bench", file);
  if (!existsSync(path)) return { file, skipped: "not present in this checkout" };
  const timeoutS = Number(process.env.VR_BENCH_EXTRA_TIMEOUT_S ?? 120);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [path], { cwd: ROOT, encoding: "utf8", timeout: timeoutS * 1000, env: { ...process.env, ...env }, killSignal: "SIGKILL" });
  const out = `${r.stdout ?? ""}${r.status !== 0 ? `\n${(r.stderr ?? "").slice(-2000)}` : ""}`.trim();
  return { file, seconds: (Date.now() - t0) / 1000, status: r.error?.code === "ETIMEDOUT" ? `timed out after ${timeoutS} s` : r.status === 0 ? "ok" : `exit ${r.status ?? r.signal}`, output: out };
}

// ---------------------------------------------------------------------------------------------------------------
// Main.
const results = { skipped: {}, notes: [] };
const info = machine();
log(`machine: ${info.cores} cores, ${info.model}, ${info.memory}; node ${info.node}`);

const up = await startUpstream();
log(`upstream on :${up.port} (OTLP sink :${up.otlpPort})`);
const deadOtlpPort = await freePort(); // nothing listens here: the export-failure variant

const [vr, vrMetrics, vrTrace, vrTraceDead, vrOff, vrOffTwin, pk, floor] = await Promise.all([
  startGateway("vr", up.port, {}),
  startGateway("vr-metrics", up.port, {}),
  startGateway("vr-tracing", up.port, {
    VR_TRACING_ENABLED: "true",
    VR_TRACING_SAMPLE_RATIO: "1.0",
    VR_OPENTELEMETRY_PROTOCOL: "http/protobuf",
    VR_OPENTELEMETRY_HOST: "127.0.0.1",
    VR_OPENTELEMETRY_PORT: String(up.otlpPort),
  }),
  startGateway("vr-tracing-dead", up.port, {
    VR_TRACING_ENABLED: "true",
    VR_TRACING_SAMPLE_RATIO: "1.0",
    VR_OPENTELEMETRY_PROTOCOL: "http/protobuf",
    VR_OPENTELEMETRY_HOST: "127.0.0.1",
    VR_OPENTELEMETRY_PORT: String(deadOtlpPort),
  }),
  startGateway("vr-off", up.port, { VR_METRICS_ENABLED: "false", VR_TRACING_ENABLED: "false" }),
  // Its twin: two identical gateways differ by a few per cent (process-level noise); the baseline is their mean,
  // and the gap between them is reported as the noise floor of this comparison.
  startGateway("vr-off-twin", up.port, { VR_METRICS_ENABLED: "false", VR_TRACING_ENABLED: "false" }),
  startPortkey(up.port),
  startFloor(up.port),
]);
const runtimes = {};
for (const rt of Object.keys(RUNTIMES)) {
  const r = await startRuntime(rt, up.port);
  if (r.skipped) {
    results.skipped[rt] = r.skipped;
    log(`${rt}: skipped — ${r.skipped}`);
  } else runtimes[rt] = r;
}
await sleep(1500);

const T = {
  direct: makeTarget({ key: "direct", label: "direct", port: up.port }),
  vr: makeTarget({ key: "vr", label: "vllm-responses (Node)", port: vr.port, pid: vr.pid }),
  pk: makeTarget({ key: "pk", label: `Portkey ${info.packages["@portkey-ai/gateway"]}`, port: pk.port, pid: pk.pid, headers: pk.headers }),
  floor: makeTarget({ key: "floor", label: "floor (bare node:http proxy)", port: floor.port, pid: floor.pid }),
  vrTrace: makeTarget({ key: "vrTrace", label: "vllm-responses, metrics + tracing", port: vrTrace.port, pid: vrTrace.pid }),
  vrTraceDead: makeTarget({ key: "vrTraceDead", label: "vllm-responses, metrics + tracing, collector down", port: vrTraceDead.port, pid: vrTraceDead.pid }),
  vrOff: makeTarget({ key: "vrOff", label: "vllm-responses, metrics and tracing off", port: vrOff.port, pid: vrOff.pid }),
  vrOffTwin: makeTarget({ key: "vrOffTwin", label: "vllm-responses, metrics and tracing off (a second process)", port: vrOffTwin.port, pid: vrOffTwin.pid }),
  vrMetrics: makeTarget({ key: "vrMetrics", label: "vllm-responses, metrics on, tracing off (the default)", port: vrMetrics.port, pid: vrMetrics.pid }),
};
for (const [rt, r] of Object.entries(runtimes)) T[rt] = makeTarget({ key: rt, label: `vllm-responses (${RUNTIMES[rt].label})`, port: r.port, pid: r.pid });
const gateways = ["vr", ...Object.keys(runtimes)];

results.idle = {};
for (const k of ["vr", "pk", "floor", ...Object.keys(runtimes)]) results.idle[k] = rssMb(T[k].pid);
log(`idle RSS: ${Object.entries(results.idle).map(([k, v]) => `${k} ${mb(v)}`).join(", ")}`);

// Other processes on the machine (other engineers' builds and tests) take cores from every series alike, but they
// add noise: the run measures how much CPU they used while it measured, and reports it.
const ourCpu = () => {
  let t = (process.cpuUsage().user + process.cpuUsage().system) / 1000;
  for (const c of procs) for (const p of [c.pid, ...descendants(c.pid)]) t += cpuMs(p) || 0;
  return t;
};
const load0 = { machine: machineCpuMs(), ours: ourCpu(), at: performance.now(), loadavg: os.loadavg() };

// --- 0. warm-up: a Node gateway needs a few thousand requests before its CPU per request settles (JIT tiers, heap
// sizing): measured here, one that served 300 requests spends ~1.8× the CPU of one that served 4000. Every target
// gets the same mixed warm-up, 8 at a time.
{
  const WARM = QUICK ? 300 : 3000;
  const mixed = ["chat", "chatStream", "resp", "respStream"].map((k) => routes(M_FAST)[k]);
  // The observability variants are warmed in their own phase (1b), interleaved, so they start it alike.
  const all = Object.values(T).filter((t) => !["direct", "vrOff", "vrOffTwin", "vrMetrics", "vrTrace", "vrTraceDead"].includes(t.key));
  log(`warm-up: ${WARM} mixed requests per target (${all.length} targets)`);
  for (const t of [T.direct, ...all]) {
    const rs = t.key === "floor" ? mixed.filter((r) => r.path === "/v1/chat/completions") : mixed;
    let i = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (i < WARM) {
          const r = rs[i++ % rs.length];
          await send(t, r.path, r.body, { sse: r.sse, concurrency: 8, timeoutMs: 10_000 });
        }
      }),
    );
    closeAgents(t);
  }
}

// --- 1. concurrency 1 -------------------------------------------------------------------------------------------
const fast = routes(M_FAST);
const lat = [];
const addSeries = (target, routeKey, n = N1) => lat.push({ target, routeKey, route: fast[routeKey], n });
// The main columns (direct, Node, Portkey) get N1 requests per series; the other runtimes, the floor and the
// observability variants half as many, to keep the run within a few minutes.
const N2 = Math.max(50, Math.round(N1 * 0.4));
for (const r of ["chat", "chatStream", "resp", "respStream"]) addSeries(T.direct, r);
for (const g of gateways) for (const r of ["chat", "chatStream", "resp", "respStream"]) addSeries(T[g], r, g === "vr" ? N1 : N2);
addSeries(T.floor, "chat", N2);
addSeries(T.floor, "chatStream", N2);
// Portkey's stream path sleeps 25 ms before its first chunk (build/start-server.js, its SSE splitter), so fewer
// iterations keep the run short; p99 of its streamed rows is over fewer samples.
const pkStreamN = QUICK ? 40 : 300;
addSeries(T.pk, "chat");
addSeries(T.pk, "chatStream", pkStreamN);
addSeries(T.pk, "resp");
addSeries(T.pk, "respStream", pkStreamN);
log(`phase 1: concurrency 1, ${lat.length} series × ${N2}–${N1} requests (${ROUNDS} interleaved rounds)`);
await phaseLatency(lat);
const L = (key, routeKey) => lat.find((s) => s.target.key === key && s.routeKey === routeKey);

// --- 1b. observability cost: five fresh gateways that differ only in metrics/tracing (two with both off), with the
// same history: an interleaved warm-up of 3000 requests each, then N1 each in 100 interleaved, rotated rounds —
// short rounds spread the machine's slow spells over every series alike (with 20 rounds two identical gateways
// differed by up to 8 %, with 100 by about 2 %). Comparing with the main gateway, which has served thousands of
// other requests by now, would mostly measure warm-up: see phase 0.
const OBS = ["vrOff", "vrOffTwin", "vrMetrics", "vrTrace", "vrTraceDead"];
{
  const WARM = QUICK ? 300 : 3000;
  log(`phase 1b: observability cost, ${OBS.length} gateways: ${WARM} warm-up + ${N1} measured requests each, interleaved`);
  // They warm up at the same time (one sequential client each), so they share the machine alike.
  await Promise.all(OBS.map(async (k) => {
    for (let i = 0; i < WARM; i++) await send(T[k], fast.resp.path, fast.resp.body, { timeoutMs: 10_000 });
  }));
}
const obs = OBS.map((k) => ({ target: T[k], routeKey: "resp", route: fast.resp, n: N1 }));
obs.push({ target: T.direct, routeKey: "chat", route: fast.chat, n: N1 });
await phaseLatency(obs, { rounds: QUICK ? 4 : 100, warmup: 0 });

// --- 2. per frame ------------------------------------------------------------------------------------------------
const framesRoutes = routes(M_FRAMES);
const frames = [
  { target: T.direct, routeKey: "chatStream" },
  { target: T.direct, routeKey: "respStream" },
  ...gateways.flatMap((g) => [
    { target: T[g], routeKey: "respStream" },
    { target: T[g], routeKey: "chatStream" },
  ]),
  { target: T.pk, routeKey: "chatStream" },
  { target: T.pk, routeKey: "respStream" },
  { target: T.floor, routeKey: "chatStream" },
].map((s) => ({ ...s, route: framesRoutes[s.routeKey] }));
log(`phase 2: per-frame latency, ${frames.length} series (64 deltas × 20 ms, 8 streams at a time, ${QUICK ? 1 : 2} waves)`);
await phaseFrames(frames);
const F = (key, routeKey) => frames.find((s) => s.target.key === key && s.routeKey === routeKey);

// --- 3. long conversation --------------------------------------------------------------------------------------------
const TURNS = QUICK ? 20 : 100;
log(`phase 3: ${TURNS}-turn previous_response_id chain and a 10,000-item input`);
results.chain = await phaseChain(T.direct, T.vr, TURNS, QUICK ? 1 : 3);
const ITEMS = 10_000;
const items = Array.from({ length: ITEMS }, (_, i) => ({ role: i % 2 === 0 ? "user" : "assistant", content: `Message ${i} of a very long conversation.` }));
const bigChat = { path: "/v1/chat/completions", body: json({ model: M_FAST, messages: items }) };
const bigResp = { path: "/v1/responses", body: json({ model: M_FAST, input: items.map((m) => ({ type: "message", ...m })) }) };
const big = [
  { target: T.direct, routeKey: "chat", route: bigChat },
  { target: T.direct, routeKey: "resp", route: bigResp },
  ...gateways.flatMap((g) => [
    { target: T[g], routeKey: "resp", route: bigResp },
    { target: T[g], routeKey: "chat", route: bigChat },
  ]),
  { target: T.pk, routeKey: "chat", route: bigChat },
  { target: T.pk, routeKey: "resp", route: bigResp },
  { target: T.floor, routeKey: "chat", route: bigChat },
];
await phaseBigInput(big, QUICK ? 3 : 20);
const B = (key, routeKey) => big.find((s) => s.target.key === key && s.routeKey === routeKey);

// --- 4. throughput -----------------------------------------------------------------------------------------------
const slow = routes(M_20MS);
const tput = [
  { target: T.direct, routeKey: "chat" },
  { target: T.direct, routeKey: "resp" },
  ...gateways.flatMap((g) => [
    { target: T[g], routeKey: "resp" },
    { target: T[g], routeKey: "chat" },
  ]),
  { target: T.pk, routeKey: "chat" },
  { target: T.pk, routeKey: "resp" },
  { target: T.floor, routeKey: "chat" },
].map((s) => ({ ...s, route: slow[s.routeKey] }));
for (const c of [32, 256]) {
  // wrangler dev (workerd) runs out of file descriptors at c=256 (EMFILE with ulimit -n 20000) and then fails
  // every later request: it takes part at c=32 only.
  const series = c === 256 ? tput.filter((s) => s.target.key !== "workers") : tput;
  log(`phase 4: throughput at c=${c}, ${series.length} series × ${(TP_WARM_MS + TP_MS) / 1000} s`);
  await phaseThroughput(series, c);
}
const TP = (key, routeKey) => tput.find((s) => s.target.key === key && s.routeKey === routeKey);

// --- 5. 500 open streams ------------------------------------------------------------------------------------------------
const STREAMS = 500;
const longRoutes = routes(M_LONG);
results.open = {};
log(`phase 5: ${STREAMS} concurrent streams (100 deltas × 20 ms each)`);
results.open.direct = await phaseOpenStreams(T.direct, longRoutes.chatStream, null, STREAMS);
for (const g of gateways) if (g !== "workers") results.open[g] = await phaseOpenStreams(T[g], longRoutes.respStream, T[g].pid, STREAMS);
results.open.pk = await phaseOpenStreams(T.pk, longRoutes.chatStream, T.pk.pid, STREAMS);
results.open.floor = await phaseOpenStreams(T.floor, longRoutes.chatStream, T.floor.pid, STREAMS);

{
  const m = machineCpuMs();
  const ours = ourCpu();
  const wall = performance.now() - load0.at;
  const foreign = m.busy - load0.machine.busy - (ours - load0.ours);
  results.background = { cores: Math.max(0, foreign) / wall, busyCores: (m.busy - load0.machine.busy) / wall, loadavg: load0.loadavg, wallS: wall / 1000 };
  log(`other processes used ${results.background.cores.toFixed(2)} of ${os.cpus().length} cores on average while the bench measured`);
}
const upstreamStats = JSON.parse((await httpGet(up.port, "/stats")).body || "{}");
for (const t of Object.values(T)) closeAgents(t);
await Promise.all([vr, vrMetrics, vrTrace, vrTraceDead, vrOff, vrOffTwin, pk, floor, ...Object.values(runtimes)].map((p) => stop(p.child)));

// --- 6. CPU profiles ---------------------------------------------------------------------------------------------
if (PROFILE) {
  log("phase 6: CPU profiles of the gateway (node --cpu-prof), /v1/responses non-stream and stream");
  results.profile = {
    nonStream: await profileRun("nonstream", up.port, fast.resp, QUICK ? 300 : 1000),
    passthrough: await profileRun("passthrough", up.port, fast.chat, QUICK ? 300 : 1000),
    frames: await profileRun("frames", up.port, { ...routes(M_FRAMES).respStream, ts: true }, QUICK ? 16 : 32, { concurrency: 8 }),
    bigInput: await profileRun("biginput", up.port, bigResp, QUICK ? 5 : 20),
  };
}
await stop(up.child);

// --- 7. the other benches in bench/ -------------------------------------------------------------------------------
results.extras = [];
if (EXTRAS) {
  for (const f of ["store-lookup.js", "code-interpreter.js"]) {
    log(`extra: bench/${f}`);
    results.extras.push(runExtra(f, QUICK ? { VR_BENCH_SAMPLES: "200" } : {}));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The table.
const cols = ["vr", ...Object.keys(runtimes), "pk", "floor"];
const colLabel = { vr: "vllm-responses (Node)", bun: "vllm-responses (Bun)", deno: "vllm-responses (Deno)", workers: "vllm-responses (workerd)", pk: `Portkey ${info.packages["@portkey-ai/gateway"]}`, floor: "floor: bare node:http proxy ²" };
const rows = [];
const pass = (ok) => (ok === null || ok === undefined ? "" : ok ? "PASS" : "FAIL");
const pair = (a, b, f = ms) => `${f(a, { signed: true })} / ${f(b, { signed: true })}`;

function latRow(label, target, routeKey, baseKey, { pkBase = baseKey, field = "total", targetOk = null, pkNote = "" } = {}) {
  const cells = {};
  const added = {};
  for (const c of cols) {
    const s = L(c, routeKey);
    const base = L("direct", c === "pk" ? pkBase : baseKey);
    if (!s || !s[field]) {
      cells[c] = "–";
      continue;
    }
    added[c] = { p50: s[field].p50 - base[field].p50, p99: s[field].p99 - base[field].p99 };
    cells[c] = pair(added[c].p50, added[c].p99) + (s.errors ? ` (${s.errors} errors)` : "") + (s.truncated ? ` (only ${s.total.n} requests: time budget)` : "") + (c === "pk" ? pkNote : "");
  }
  const base = L("direct", baseKey)[field];
  const ok = targetOk && added.vr ? targetOk(added.vr) : null;
  const vsPk = added.vr && added.pk ? added.vr.p50 < added.pk.p50 && added.vr.p99 < added.pk.p99 : null;
  rows.push({ label, target, cells, direct: `${ms(base.p50)} / ${ms(base.p99)}`, result: [pass(ok), vsPk === null ? "" : vsPk ? "ahead of Portkey" : "behind Portkey"].filter(Boolean).join(", ") });
}

latRow("Chat Completions passthrough, added p50 / p99 (c=1)", "≤ 0.5 ms / ≤ 2 ms", "chat", "chat", { targetOk: (a) => a.p50 <= 0.5 && a.p99 <= 2 });
latRow("/v1/responses non-stream, added p50 / p99 (c=1)", "≤ 1 ms / ≤ 3 ms", "resp", "chat", { pkBase: "resp", pkNote: " ¹", targetOk: (a) => a.p50 <= 1 && a.p99 <= 3 });
latRow("/v1/responses streamed, whole stream, added p50 / p99 (c=1)", "–", "respStream", "chatStream", { pkBase: "respStream", pkNote: " ¹" });
latRow("/v1/responses streamed, time to first text delta, added p50 / p99", "≤ 1 ms p50", "respStream", "chatStream", { pkBase: "respStream", field: "ttft", pkNote: " ¹", targetOk: (a) => a.p50 <= 1 });
latRow("Chat Completions streamed passthrough, whole stream, added p50 / p99", "–", "chatStream", "chatStream");
latRow("Chat Completions streamed passthrough, first text delta, added p50 / p99", "–", "chatStream", "chatStream", { field: "ttft" });

function cpuRow(label, routeKey) {
  const cells = {};
  for (const c of cols) {
    const s = L(c, routeKey);
    cells[c] = s && Number.isFinite(s.cpuUsPerReq) ? us(s.cpuUsPerReq) : "–";
  }
  const a = L("vr", routeKey)?.cpuUsPerReq;
  const b = L("pk", routeKey)?.cpuUsPerReq;
  rows.push({ label, target: "–", cells, direct: "", result: Number.isFinite(a) && Number.isFinite(b) ? (a < b ? "ahead of Portkey" : "behind Portkey") : "" });
}
cpuRow("Gateway CPU per request, Chat Completions passthrough (c=1)", "chat");
cpuRow("Gateway CPU per request, /v1/responses non-stream (c=1)", "resp");
cpuRow("Gateway CPU per request, /v1/responses streamed, 16 deltas (c=1)", "respStream");

function frameRow(label, routeKey, baseKey, pkRouteKey, pkBaseKey, targetOk) {
  const cells = {};
  const added = {};
  for (const c of cols) {
    const s = F(c, c === "pk" ? pkRouteKey : routeKey);
    const base = F("direct", c === "pk" ? pkBaseKey : baseKey);
    if (!s) {
      cells[c] = "–";
      continue;
    }
    added[c] = { p50: s.frames.p50 - base.frames.p50, p99: s.frames.p99 - base.frames.p99 };
    cells[c] = pair(added[c].p50, added[c].p99, us) + (Number.isFinite(s.cpuUsPerFrame) ? `; CPU ${us(s.cpuUsPerFrame)}/frame` : "") + (s.stalls ? ` (${s.stalls} stalled)` : "") + (s.errors ? ` (${s.errors} errors)` : "") + (c === "pk" && pkRouteKey === "respStream" ? " ¹" : "");
  }
  const base = F("direct", baseKey).frames;
  const ok = targetOk && added.vr ? targetOk(added.vr) : null;
  const vsPk = added.vr && added.pk ? added.vr.p50 < added.pk.p50 && added.vr.p99 < added.pk.p99 : null;
  rows.push({ label, target: targetOk ? "≤ 50 µs (p50)" : "–", cells, direct: `${us(base.p50)} / ${us(base.p99)}`, result: [pass(ok), vsPk === null ? "" : vsPk ? "ahead of Portkey" : "behind Portkey"].filter(Boolean).join(", ") });
}
frameRow("Added time per streamed frame, p50 / p99 (64 deltas × 20 ms, /v1/responses)", "respStream", "chatStream", "respStream", "respStream", (a) => a.p50 <= 0.05 * 1000);
frameRow("Added time per streamed frame, p50 / p99 (64 deltas × 20 ms, chat passthrough)", "chatStream", "chatStream", "chatStream", "chatStream", null);

function tputRow(label, routeKey, c, targetOk) {
  const cells = {};
  const r = {};
  for (const g of cols) {
    const s = TP(g, routeKey);
    const base = TP("direct", g === "pk" && routeKey === "resp" ? "resp" : "chat");
    if (!s || !s[`c${c}`]) {
      cells[g] = s ? "not run ³" : "–";
      continue;
    }
    r[g] = s[`c${c}`].rps / base[`c${c}`].rps;
    cells[g] = `${ratio(r[g])} (${rps(s[`c${c}`].rps)}${s[`c${c}`].errors ? `, ${s[`c${c}`].errors} errors` : ""})` + (g === "pk" && routeKey === "resp" ? " ¹" : "");
  }
  const base = TP("direct", "chat")[`c${c}`];
  const ok = targetOk && r.vr !== undefined ? targetOk(r.vr) : null;
  const vsPk = r.vr !== undefined && r.pk !== undefined ? r.vr > r.pk : null;
  rows.push({ label, target: targetOk ? "≥ 0.6× direct" : "–", cells, direct: `${rps(base.rps)} (p50 ${ms(base.lat.p50)})`, result: [pass(ok), vsPk === null ? "" : vsPk ? "ahead of Portkey" : "behind Portkey"].filter(Boolean).join(", ") });
}
tputRow("Throughput /v1/responses, c=32, 20 ms upstream (× direct)", "resp", 32, (x) => x >= 0.6);
tputRow("Throughput /v1/responses, c=256, 20 ms upstream (× direct)", "resp", 256, null);
tputRow("Throughput chat passthrough, c=32, 20 ms upstream (× direct)", "chat", 32, null);
tputRow("Throughput chat passthrough, c=256, 20 ms upstream (× direct)", "chat", 256, null);

{
  const c = results.chain;
  const cells = Object.fromEntries(cols.map((g) => [g, g === "vr" ? `${ms(c.first, { signed: true })} → ${ms(c.last, { signed: true })} (${c.growthUsPerTurn >= 0 ? "+" : ""}${c.growthUsPerTurn.toFixed(1)} µs/turn)${c.failures ? ` (${c.failures} chains failed)` : ""}` : g === "pk" ? "n/a (stateless)" : g === "floor" ? "n/a" : "not measured"]));
  rows.push({ label: `${TURNS}-turn previous_response_id chain: added per turn, turns 1–10 → last 10 (median)`, target: "–", cells, direct: `turn ${TURNS}: ${ms(c.lastDirect)}`, result: "" });
}
function bigRow(label, routeKey, baseKey, pkRouteKey, pkBaseKey, note = "") {
  const cells = {};
  const added = {};
  for (const g of cols) {
    const s = B(g, g === "pk" ? pkRouteKey : routeKey);
    const base = B("direct", g === "pk" ? pkBaseKey : baseKey);
    if (!s?.total?.n) {
      cells[g] = s?.errors ? `${s.errors} errors` : "–";
      continue;
    }
    added[g] = { p50: s.total.p50 - base.total.p50, p99: s.total.p99 - base.total.p99 };
    cells[g] = pair(added[g].p50, added[g].p99) + (s.errors ? ` (${s.errors} errors)` : "") + (s.truncated ? ` (only ${s.total.n}: time budget)` : "") + (g === "pk" ? note : "");
  }
  const base = B("direct", baseKey).total;
  const vsPk = added.vr && added.pk ? added.vr.p50 < added.pk.p50 : null;
  rows.push({ label, target: "–", cells, direct: `${ms(base.p50)} / ${ms(base.p99)}`, result: vsPk === null ? "" : vsPk ? "ahead of Portkey" : "behind Portkey" });
}
bigRow(`${ITEMS.toLocaleString("en")}-item input, /v1/responses non-stream, added p50 / max`, "resp", "chat", "resp", "resp", " ¹");
bigRow(`${ITEMS.toLocaleString("en")}-message Chat Completions passthrough, added p50 / max`, "chat", "chat", "chat", "chat");

{
  const cells = {};
  for (const g of cols) cells[g] = mb(results.idle[g]);
  rows.push({ label: "Idle RSS (fresh process, before any request)", target: "≤ 80 MB", cells, direct: "", result: [pass(results.idle.vr <= 80), results.idle.vr < results.idle.pk ? "ahead of Portkey" : "behind Portkey"].join(", ") });
  const o = results.open;
  const cellsPeak = {};
  const cellsAfter = {};
  const cellsStall = {};
  for (const g of cols) {
    const r = o[g];
    if (!r) {
      if (g === "workers") cellsPeak[g] = cellsAfter[g] = cellsStall[g] = "not run ³";
      continue;
    }
    cellsPeak[g] = `${mb(r.peak)} (before: ${mb(r.before)})`;
    cellsAfter[g] = mb(r.after);
    cellsStall[g] = `${r.stalled} stalled, ${r.late} late, ${r.errors} failed; ${r.slowStart} slow to start (longest mid-stream silence ${ms(r.maxGapMs)}; frame latency p50 ${us(r.frames.p50)}, p99 ${us(r.frames.p99)})`;
  }
  rows.push({ label: `RSS with ${STREAMS} concurrent open streams (peak)`, target: "–", cells: cellsPeak, direct: "", result: o.vr && o.pk ? (o.vr.peak < o.pk.peak ? "ahead of Portkey" : "behind Portkey") : "" });
  rows.push({ label: `RSS 1.5 s after the ${STREAMS} streams ended`, target: "–", cells: cellsAfter, direct: "", result: "" });
  rows.push({
    label: `${STREAMS} concurrent streams (100 deltas × 20 ms): stalled (> 1 s without a frame mid-stream) / late (a frame > 1 s after it was sent) / failed; slow to start (first byte > 1 s)`,
    target: "0 stalled",
    cells: cellsStall,
    direct: `${o.direct.stalled} stalled, ${o.direct.late} late, ${o.direct.errors} failed; ${o.direct.slowStart} slow to start (longest silence ${ms(o.direct.maxGapMs)}; frame p99 ${us(o.direct.frames.p99)})`,
    result: [pass(o.vr && o.vr.stalled === 0 && o.vr.late === 0 && o.vr.errors === 0), o.vr && o.pk ? (o.vr.stalled + o.vr.late + o.vr.errors <= o.pk.stalled + o.pk.late + o.pk.errors && o.vr.frames.p99 < o.pk.frames.p99 ? "ahead of Portkey" : "behind Portkey") : ""].filter(Boolean).join(", "),
  });
}

// Tracing: /v1/responses non-stream at c=1 under four observability settings. "Both off" is the mean of its two
// processes; each process is also listed against that mean, which shows the noise floor of the comparison.
const tracing = OBS.map((k) => {
  const s = obs.find((x) => x.target.key === k);
  const base = obs.find((x) => x.target.key === "direct").total;
  return { key: k, label: s.target.label, p50: s.total.p50 - base.p50, p99: s.total.p99 - base.p99, errors: s.errors, cpu: s.cpuUsPerReq };
});
const offPair = tracing.filter((t) => t.key === "vrOff" || t.key === "vrOffTwin");
const meanOf = (values) => values.reduce((a, b) => a + b, 0) / values.length;
const off = { key: "offMean", p50: meanOf(offPair.map((t) => t.p50)), p99: meanOf(offPair.map((t) => t.p99)), cpu: meanOf(offPair.map((t) => t.cpu)) };
const traceOn = tracing.find((t) => t.key === "vrTrace");
const traceOk = traceOn.p50 <= off.p50 * 1.1;

// ---------------------------------------------------------------------------------------------------------------
// Output.
function mdTable(header, body) {
  const esc = (s) => String(s).replaceAll("|", "\\|");
  return [`| ${header.map(esc).join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...body.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}
const header = ["Row", "Target (Node)", ...cols.map((c) => colLabel[c]), "Direct (absolute)", "Result"];
const mainTable = mdTable(header, rows.map((r) => [r.label, r.target, ...cols.map((c) => r.cells[c] ?? "–"), r.direct || "", r.result || ""]));
const tracingTable = mdTable(
  ["vllm-responses (Node), /v1/responses non-stream, c=1", "added p50", "added p99", "vs both off (p50)", "gateway CPU per request", "vs both off (CPU)"],
  [{ ...off, label: "**both off: the baseline (mean of the two processes below)**" }, ...tracing].map((t) => [
    t.label + (t.errors ? ` (${t.errors} errors)` : ""),
    ms(t.p50, { signed: true }),
    ms(t.p99, { signed: true }),
    t.key === "offMean" ? "–" : `${ms(t.p50 - off.p50, { signed: true })} (${off.p50 > 0 ? `${(((t.p50 - off.p50) / off.p50) * 100).toFixed(1)} %` : "–"})`,
    us(t.cpu),
    t.key === "offMean" ? "–" : `${(((t.cpu - off.cpu) / off.cpu) * 100).toFixed(0)} %`,
  ]),
);
const PROFILE_TITLES = {
  nonStream: "/v1/responses non-stream (16 deltas upstream), c=1",
  passthrough: "Chat Completions passthrough, c=1",
  frames: "/v1/responses streamed, 64 deltas × 20 ms, 8 streams at a time",
  bigInput: "/v1/responses non-stream with a 10,000-item input, c=1",
};
const profTable = (p) =>
  p
    ? `${p.requests} requests in ${(p.wallMs / 1000).toFixed(1)} s; gateway CPU ${p.cpuMs.toFixed(0)} ms (${((p.cpuMs * 1000) / p.requests).toFixed(0)} µs per request, profiler on); profiled main thread busy ${p.busyMs.toFixed(0)} ms, idle ${p.idleMs.toFixed(0)} ms. Top self time:\n\n` +
      mdTable(["self time", "%", "function", "where"], p.functions.map((f) => [`${f.ms.toFixed(1)} ms`, `${f.pct.toFixed(1)} %`, f.name, f.where])) +
      "\n\nBy module:\n\n" +
      mdTable(["self time", "%", "module"], p.modules.map((m) => [`${m.ms.toFixed(1)} ms`, `${m.pct.toFixed(1)} %`, m.name]))
    : "(no profile written)";

const elapsed = (Date.now() - STARTED) / 1000;
const skippedNotes = Object.entries(results.skipped).map(([rt, why]) => `- ${RUNTIMES[rt].label} column not run: ${why}. The runner starts it with \`npm run start:${rt}\` (env VR_UPSTREAM, VR_GATEWAY_PORT) whenever it exists and starts.`);
const md = `# Benchmark results

Fresh run of \`npm run bench\` (${QUICK ? "QUICK smoke run — figures not meaningful" : "full run"}), ${elapsed.toFixed(0)} s including the CPU-profile pass${EXTRAS ? " and the extra benches" : ""} (plus the build).

- Date: ${info.date}
- Machine: ${info.cores} cores, ${info.model}, ${info.memory} RAM, ${info.kernel}
- Runtimes: Node ${info.node}; Bun ${info.bun}; Deno ${info.deno.replace(/^deno /, "")}
- Packages: ${Object.entries(info.packages).map(([k, v]) => `${k} ${v}`).join(", ")}
- Checkout: ${info.commit}
- Gateway under test: \`node bin/vllm-responses.js serve\`, one worker, SQLite store (\`VR_DB_PATH=sqlite:////tmp/…/vr.db\`), metrics on, tracing off, \`--code-interpreter disabled\`, \`VR_MAX_CONCURRENCY=1024\`
- Portkey: \`@portkey-ai/gateway\` start-server (\`NODE_ENV=production --headless\`) via \`bench/portkey-start.js\`, routed with \`x-portkey-provider: openai\` + \`x-portkey-custom-host\`
- Upstream: \`bench/upstream.js\`, its own process; client: the runner process (node:http, keep-alive); all on 127.0.0.1, sharing the ${info.cores} cores
- Warm-up: every target first serves ${QUICK ? 300 : 3000} mixed requests (8 at a time): a Node gateway's CPU per request only settles after a few thousand (JIT, heap sizing).
- Iterations at c=1: ${N1} per series for direct, Node and Portkey (Portkey streamed: ${pkStreamN}), ${N2} for the other columns and the observability variants; ${ROUNDS} interleaved rounds after ${WARMUP} warm-up requests. Throughput: ${TP_MS / 1000} s per series after ${TP_WARM_MS / 1000} s warm-up

"Added" = gateway minus direct, percentile by percentile (p50 − p50, p99 − p99), measured in the same run. Cells are p50 / p99 unless the row says otherwise.

${mainTable}

² The floor is \`bench/floor-proxy.js\`: node:http in, node:http out (keep-alive), bytes piped — no parsing, no web streams, no framework. It only proxies, so it has no \`/v1/responses\` cells; it shows what one Node process hop costs on this machine (syscalls, wake-ups, HTTP parsing), the part of every Node gateway's figure that is not the gateway's own work.

${runtimes.workers ? "³ workerd runs under `wrangler dev` (a development server: a Node supervisor forwarding logs, file watching and reloads). It ran out of file descriptors (EMFILE, `ulimit -n` 20000) under the c=256 load in an earlier run and failed every request after that, and it refuses most of 500 concurrent connections, so it takes part in the c=1, per-frame, long-conversation and c=32 rows only.\n\n" : ""}¹ Portkey ${info.packages["@portkey-ai/gateway"]} has no Responses→Chat Completions adapter: its \`/v1/responses\` only forwards to an upstream that itself speaks \`/v1/responses\` (vLLM's native endpoint does). Its cells are measured that way (the scripted upstream serves a minimal native \`/v1/responses\`) against that endpoint called directly — less work than translating, and no \`previous_response_id\` (stateless).

## Observability cost (issue 4: added latency within 10 % with tracing on)

${tracingTable}

Tracing: sample ratio 1.0, OTLP/HTTP protobuf to a sink in the upstream process (it received ${upstreamStats.otlpExports ?? "?"} exports, ${((upstreamStats.otlpBytes ?? 0) / 1024).toFixed(0)} KB); "collector down" exports to a closed port. The gateway encodes and sends spans from a worker thread (its CPU is in the CPU column; the serving thread only creates spans), and ends them after the response is written. Result: ${traceOk ? "PASS" : "FAIL"} (metrics + tracing p50 within 10 % of both off).

## Where the time goes (node --cpu-prof on the gateway)

${PROFILE ? Object.entries(results.profile ?? {}).map(([k, p]) => `### ${PROFILE_TITLES[k]}\n\n${profTable(p)}`).join("\n\n") : "(skipped: --no-profile)"}

## Notes

- Background load: other processes on this machine used ${results.background.cores.toFixed(2)} of ${info.cores} cores on average while phases 1–5 ran (load average at start ${results.background.loadavg.map((v) => v.toFixed(2)).join(" / ")}). ${results.background.cores > 0.25 ? "**The figures of this run are inflated and noisy by that much: rerun on a quiet machine for the reference numbers.**" : "The machine was quiet."} "Gateway CPU per request" (from /proc/<pid>/stat) is the figure least affected by such noise.
- Rows marked PASS/FAIL are judged for vllm-responses on Node against issue 7's targets; "ahead/behind Portkey" compares the same row (both p50 and p99 where two figures are shown).
${skippedNotes.join("\n")}
- The client, the upstream and the gateway share ${info.cores} cores: at c=256 and with 500 streams the machine, not only the gateway, is saturated, and the direct baseline gets the cores the gateway would otherwise use. Ratios at high concurrency are therefore pessimistic for any gateway.
- Portkey is started through \`bench/portkey-start.js\`: its streaming path fails on the \`@hono/node-server\` its semver range resolves to today (TypeError: immutable headers → HTTP 500); the script copies the headers in that one case. Portkey also waits 25 ms before forwarding the first chunk of every stream (its SSE splitter), which is its added time to first token.
- The chain row uses the SQLite store (each turn reads its parent and writes itself); the 10,000-item rows send ~${(bigResp.body.length / 1024).toFixed(0)} KB bodies (p99 over 20 requests = the maximum).
- Per-frame latency = client receive time − the upstream's send stamp in the delta (CLOCK_MONOTONIC, same machine); the gateway's added time per frame is its latency minus the direct stream's.
${results.extras.length ? "\n## Other benches in bench/\n\n" + results.extras.map((e) => (e.skipped ? `### bench/${e.file}\n\n${e.skipped}.` : `### bench/${e.file} (${e.status}, ${e.seconds.toFixed(0)} s)\n\n\`\`\`\n${e.output}\n\`\`\``)).join("\n\n") + "\n" : ""}`;

console.log(`\n${mainTable}\n\n${tracingTable}\n`);
if (PROFILE) {
  for (const [name, p] of Object.entries(results.profile ?? {})) {
    if (!p) continue;
    console.log(`CPU profile (${PROFILE_TITLES[name]}), ${((p.cpuMs * 1000) / p.requests).toFixed(0)} µs CPU per request; top self time:`);
    for (const f of p.functions.slice(0, 10)) console.log(`  ${f.pct.toFixed(1).padStart(5)} %  ${f.name}  ${f.where}`);
  }
}
for (const n of skippedNotes) console.log(n);
if (WRITE) {
  writeFileSync(join(ROOT, "bench/RESULTS.md"), md);
  log(`wrote bench/RESULTS.md (${elapsed.toFixed(0)} s)`);
} else {
  const out = join(os.tmpdir(), "vr-bench-last-RESULTS.md");
  writeFileSync(out, md);
  log(`${QUICK ? "quick run: " : ""}bench/RESULTS.md not overwritten; this run's report is ${out} (${elapsed.toFixed(0)} s)`);
}
process.exit(0);
