// Continuation-lookup latency of the response stores: the `get(previous_response_id)` every follow-up request
// makes before it can call the model. Scenario: 50-turn conversations whose history grows each turn
// (~1.5 KB per turn, so the newest record carries ~75 KB of history), in a table that also holds other traffic.
//
// Measures the compiled modules: `npx tsc -p tsconfig.build.json && node bench/store-lookup.js`.
// Optional: VR_BENCH_POSTGRES_URL=postgresql://… adds PostgreSQL (a scratch database: the bench writes ~6000 rows
// into its responses_state and leaves them); VR_BENCH_SAMPLES (default 2000).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryStore } from "../dist/src/store/memory-store.js";
import { SqliteStore } from "../dist/src/store/sqlite-store.js";
import { openSqliteDriver } from "../dist/adapters/node/sqlite-driver.js";

const TURNS = 50;
const CONVERSATIONS = 20;
const FILLER_ROWS = 5000;
const SAMPLES = Number(process.env.VR_BENCH_SAMPLES ?? 2000);

const words = "the quick brown fox jumps over a lazy dog while vLLM streams tokens über schnell 速い 🚀".split(" ");
let seed = 42;
function text(bytes) {
  let out = "";
  while (out.length < bytes) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    out += words[seed % words.length] + " ";
  }
  // Cut on code points, not UTF-16 units: a halved emoji is not something a model emits.
  return Array.from(out).slice(0, bytes).join("");
}

function newId() {
  return `resp_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** One turn: ~500 B of user input and ~1 KB of assistant output appended to the parent's history. */
function turnRecord(parent, turn) {
  const id = newId();
  const created_at = Math.floor(Date.now() / 1000);
  const input = [{ type: "message", role: "user", content: [{ type: "input_text", text: text(500) }] }];
  const output = [
    {
      type: "message",
      id: `msg_${id.slice(5, 29)}`,
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: text(1000), annotations: [], logprobs: [] }],
    },
  ];
  return {
    schema_version: 1,
    id,
    previous_response_id: parent?.id ?? null,
    model: "Qwen/Qwen3-8B",
    created_at,
    expires_at: null,
    response: {
      id,
      object: "response",
      created_at,
      status: "completed",
      model: "Qwen/Qwen3-8B",
      output,
      usage: { input_tokens: 300 * (turn + 1), output_tokens: 250, total_tokens: 300 * (turn + 1) + 250 },
    },
    history: [...(parent?.history ?? []), ...input, ...output],
    input_items: input,
    tools: [{ type: "function", name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } }],
    tool_choice: "auto",
  };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
  return { n: samples.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean };
}

async function timeIt(fn) {
  const start = process.hrtime.bigint();
  const result = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, result };
}

async function bench(name, store) {
  await store.init();
  for (let i = 0; i < FILLER_ROWS; i += 1) await store.put(turnRecord(null, 0));

  // Real continuations: before turn t is written, look up its parent (turn t-1).
  const alongConversation = [];
  let newest = null;
  for (let c = 0; c < CONVERSATIONS; c += 1) {
    let parent = null;
    for (let turn = 0; turn < TURNS; turn += 1) {
      if (parent !== null) {
        const { ms, result } = await timeIt(() => store.get(parent.id));
        if (result?.id !== parent.id) throw new Error(`${name}: lookup of ${parent.id} failed`);
        alongConversation.push(ms);
      }
      const record = turnRecord(parent, turn);
      await store.put(record);
      parent = record;
    }
    newest = parent;
  }

  // The headline: the newest record of a 50-turn conversation, looked up over and over.
  for (let i = 0; i < 200; i += 1) await store.get(newest.id); // warm-up (JIT, page cache)
  const newestSamples = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const { ms, result } = await timeIt(() => store.get(newest.id));
    if (result?.history.length !== TURNS * 2) throw new Error(`${name}: newest record came back wrong`);
    newestSamples.push(ms);
  }
  await store.close();
  return {
    name,
    recordKB: (JSON.stringify(newest).length / 1024).toFixed(1),
    newest: summary(newestSamples),
    along: summary(alongConversation),
  };
}

const fmt = (ms) => `${ms.toFixed(3)} ms`;
const dir = mkdtempSync(join(tmpdir(), "vr-bench-"));
try {
  const results = [];
  results.push(await bench("memory", new MemoryStore()));
  const file = join(dir, "bench.db");
  results.push(await bench("sqlite", new SqliteStore(openSqliteDriver(file))));
  const dbMB = (statSync(file).size / 1024 / 1024).toFixed(1);
  if (process.env.VR_BENCH_POSTGRES_URL) {
    const { PostgresStore } = await import("../dist/src/store/postgres-store.js");
    const { createPostgresDriver } = await import("../dist/adapters/node/postgres-driver.js");
    results.push(await bench("postgres", new PostgresStore(createPostgresDriver(process.env.VR_BENCH_POSTGRES_URL))));
  }

  console.log(`continuation lookup (get), ${TURNS}-turn conversations, ${FILLER_ROWS} other rows, node ${process.version}`);
  console.log(`sqlite file after the run: ${dbMB} MB (WAL, synchronous=NORMAL)`);
  console.log("");
  console.log("backend   | lookup                              | p50        | p99        | mean       | n");
  console.log("----------|-------------------------------------|------------|------------|------------|-----");
  for (const r of results) {
    console.log(`${r.name.padEnd(9)} | ${`newest of ${TURNS} turns (${r.recordKB} KB)`.padEnd(35)} | ${fmt(r.newest.p50).padEnd(10)} | ${fmt(r.newest.p99).padEnd(10)} | ${fmt(r.newest.mean).padEnd(10)} | ${r.newest.n}`);
    console.log(`${r.name.padEnd(9)} | every parent along the conversation | ${fmt(r.along.p50).padEnd(10)} | ${fmt(r.along.p99).padEnd(10)} | ${fmt(r.along.mean).padEnd(10)} | ${r.along.n}`);
  }
  const sqlite = results.find((r) => r.name === "sqlite");
  const target = 1;
  console.log("");
  console.log(`target: SQLite p50 < ${target} ms for the newest record → ${sqlite.newest.p50 < target ? "MET" : "MISSED"} (${fmt(sqlite.newest.p50)})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
