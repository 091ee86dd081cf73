// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per file/module, idle excluded.
import { readFileSync } from "node:fs";

function shortUrl(url, root) {
  if (!url) return "";
  let u = url.replace(/^file:\/\//, "");
  if (root && u.startsWith(root)) u = u.slice(root.length + 1);
  return u;
}

/** The module a file belongs to, for the per-module rollup. */
export function moduleOf(url) {
  if (!url) return "(native / V8 builtins)";
  if (url.includes("node:internal/deps/undici")) return "undici (fetch)";
  if (url.includes("node:internal/webstreams")) return "node web streams";
  if (url.startsWith("node:")) return "node internals";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const src = /(?:dist\/)?(src|adapters)\/(.+?)\.js$/.exec(url);
  if (src) return `gateway ${src[1]}/${src[2]}`;
  return url;
}

/**
 * `fromUs`: ignore samples taken before this time (µs of the monotonic clock, `process.hrtime.bigint() / 1000n`
 * in any process on the machine — V8 stamps profiles with the same clock), so start-up does not count.
 */
export function summariseProfile(file, { root = process.cwd(), top = 15, fromUs = 0 } = {}) {
  const prof = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map(); // node id → µs
  const { samples, timeDeltas } = prof;
  let at = prof.startTime;
  for (let i = 0; i < samples.length; i++) {
    at += timeDeltas[i];
    if (at < fromUs) continue;
    // timeDeltas[i] is the time before sample i; attribute the interval that follows to sample i (as DevTools does).
    const dt = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + Math.max(0, dt));
  }
  let total = 0;
  let idle = 0;
  const fn = new Map();
  const mod = new Map();
  for (const [id, t] of self) {
    const n = byId.get(id);
    const cf = n.callFrame;
    if (cf.functionName === "(idle)") {
      idle += t;
      continue;
    }
    total += t;
    const url = shortUrl(cf.url, root);
    const key = `${cf.functionName || "(anonymous)"}\t${url}${url ? `:${cf.lineNumber + 1}` : ""}`;
    fn.set(key, (fn.get(key) ?? 0) + t);
    const m = cf.functionName === "(garbage collector)" || cf.functionName === "(program)" ? cf.functionName : moduleOf(url);
    mod.set(m, (mod.get(m) ?? 0) + t);
  }
  const rank = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, t]) => {
        const [name, where] = k.split("\t");
        return { name, where: where ?? "", ms: t / 1000, pct: (100 * t) / total };
      });
  return { busyMs: total / 1000, idleMs: idle / 1000, functions: rank(fn), modules: rank(mod) };
}
