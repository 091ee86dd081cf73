// Child processes of the bench: each in its own process group (so a gateway started through `npm run` is stopped
// with its whole tree), output to a log file (no pipe for the runner to drain), stdin a pipe (a child that
// watches it sees EOF when the runner dies). Every child is killed when the runner exits, whatever the reason.
import { spawn } from "node:child_process";
import { openSync, closeSync, readFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import http from "node:http";

const children = new Set();

process.on("exit", () => {
  for (const c of children) {
    try {
      process.kill(-c.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
});

export function spawnLogged(command, args, { env = {}, cwd, logFile }) {
  const fd = openSync(logFile, "a");
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["pipe", fd, fd],
    detached: true,
  });
  closeSync(fd);
  child.logFile = logFile;
  child.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits for a line of the child's log to match; returns the match. */
export async function waitForLog(child, regex, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(child.logFile) ? readFileSync(child.logFile, "utf8") : "";
    const m = regex.exec(text);
    if (m) return m;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${child.spawnargs.join(" ")} exited early; log ${child.logFile}:\n${text.slice(-2000)}`);
    if (Date.now() > until) throw new Error(`timed out waiting for ${regex} in ${child.logFile}:\n${text.slice(-2000)}`);
    await sleep(25);
  }
}

export function httpGet(port, path, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve({ status: 0, body: "" }));
  });
}

export async function waitForHttp(child, port, path, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await httpGet(port, path);
    if (r.status > 0 && r.status < 500) return;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${child.spawnargs.join(" ")} exited early; log ${child.logFile}:\n${readFileSync(child.logFile, "utf8").slice(-2000)}`);
    }
    if (Date.now() > until) throw new Error(`timed out waiting for http://127.0.0.1:${port}${path}; log ${child.logFile}:\n${readFileSync(child.logFile, "utf8").slice(-2000)}`);
    await sleep(50);
  }
}

/** Stops a child's process group: the signal, then SIGKILL after `graceMs`. */
export async function stop(child, { signal = "SIGTERM", graceMs = 5000 } = {}) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exited;
  try {
    process.kill(-child.pid, signal);
  } catch {
    return child.exited;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }, graceMs);
  const r = await child.exited;
  clearTimeout(timer);
  return r;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** VmRSS of a process in MB (NaN when gone). */
export function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function commOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

export function descendants(pid) {
  const out = [];
  const walk = (p) => {
    let kids = [];
    try {
      kids = readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      /* gone */
    }
    for (const k of kids) {
      out.push(k);
      walk(k);
    }
  };
  walk(pid);
  return out;
}

/**
 * The process that serves: the child itself, or (started via `npm run`, a shell…) its descendant whose command
 * name matches `comm` with the largest RSS.
 */
export function servingPid(rootPid, comm) {
  if (commOf(rootPid) === comm) return rootPid;
  let best = null;
  for (const p of descendants(rootPid)) {
    if (commOf(p) !== comm) continue;
    if (best === null || rssMb(p) > rssMb(best)) best = p;
  }
  return best ?? rootPid;
}

/** Samples a pid's RSS every `everyMs` until stopped; returns max and the samples. */
export function rssSampler(pid, everyMs = 50) {
  let max = rssMb(pid);
  const timer = setInterval(() => {
    const v = rssMb(pid);
    if (v > max || Number.isNaN(max)) max = v;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const v = rssMb(pid);
      return Math.max(max, Number.isNaN(v) ? -Infinity : v);
    },
  };
}

/** CPU time (user + system, all threads) a process has used, in ms; NaN when gone. Resolution: one clock tick. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}
const CLK_TCK = 100; // USER_HZ is 100 on Linux/x86_64 and arm64

/** Busy and total CPU time of the whole machine (all cores), in ms, from /proc/stat. */
export function machineCpuMs() {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = line.reduce((a, b) => a + b, 0);
  const idle = line[3] + (line[4] ?? 0);
  return { busy: ((total - idle) * 1000) / CLK_TCK, total: (total * 1000) / CLK_TCK };
}
