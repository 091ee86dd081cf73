/**
 * Code interpreter overhead: warm `print(1)` round trips through the in-process Pyodide pool and through the
 * loopback HTTP service (the path gateway workers use). Measures our plumbing (messages, shared-buffer
 * output, per-job state reset, HTTP), not Python. Target: pool p50 < 20 ms.
 *
 *   npx tsc -p tsconfig.build.json && node bench/code-interpreter.js [iterations]
 */
import { createPyodidePool } from "../dist/adapters/node/code-interpreter/pool.js";
import { runCodeInterpreterService } from "../dist/adapters/node/code-interpreter/service.js";
import { createHttpCodeExecutor } from "../dist/src/tools/code-interpreter/http-executor.js";

const iterations = Number(process.argv[2] ?? 300);
const warmup = 20;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(label, executor, code, parallel = 1) {
  for (let i = 0; i < warmup; i++) await executor.execute(code);
  const samples = [];
  const started = performance.now();
  for (let i = 0; i < iterations; i += parallel) {
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        const t0 = performance.now();
        const r = await executor.execute(code);
        samples.push(performance.now() - t0);
        if (r.status !== "success") throw new Error(`${label}: unexpected result ${JSON.stringify(r)}`);
      }),
    );
  }
  const wall = performance.now() - started;
  samples.sort((a, b) => a - b);
  const row = {
    path: label,
    n: samples.length,
    "p50 ms": percentile(samples, 50).toFixed(2),
    "p99 ms": percentile(samples, 99).toFixed(2),
    "max ms": samples.at(-1).toFixed(2),
    "jobs/s": ((samples.length / wall) * 1000).toFixed(0),
  };
  return row;
}

const rows = [];

const loadStart = performance.now();
const pool = createPyodidePool({ workers: 2 });
await pool.ready();
const loadMs = performance.now() - loadStart;
rows.push(await measure("pool print(1)", pool, "print(1)"));
rows.push(await measure("pool 2+2 (result repr)", pool, "2+2"));
rows.push(await measure("pool print(1) x2 concurrent", pool, "print(1)", 2));
await pool.close();

const service = await runCodeInterpreterService({ port: 0, workers: 2 });
const client = createHttpCodeExecutor({ url: service.url });
await client.ready();
rows.push(await measure("http service print(1)", client, "print(1)"));
rows.push(await measure("http service print(1) x2 concurrent", client, "print(1)", 2));
await client.close();
await service.close();

console.log(`Pyodide pool start-up (2 workers, parallel): ${(loadMs / 1000).toFixed(1)} s`);
console.table(rows);
const p50 = Number(rows[0]["p50 ms"]);
console.log(p50 < 20 ? `OK: pool p50 ${p50} ms < 20 ms target` : `SLOW: pool p50 ${p50} ms >= 20 ms target`);
