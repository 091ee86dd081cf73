/**
 * Fails when anything under src/ imports a Node built-in, a Node-only package, a runtime-specific module, uses
 * `postgres` as a value, or touches a Node global — the core must run unchanged on Deno, Bun and workerd.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findViolations } from "./core-import-rule.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : Promise.resolve(/\.(ts|mts|cts|js|mjs)$/.test(e.name) ? [join(dir, e.name)] : []))),
  );
  return nested.flat();
}

describe("src/ (and adapters/shared/) import web standards only", () => {
  it("no file under src/ imports node:*, a Node-only package or a Node global", async () => {
    const files = await sourceFiles(join(ROOT, "src"));
    expect(files.length).toBeGreaterThan(50);
    // The glue Deno, Bun and Workers share is held to the same rule: it runs on workerd too.
    files.push(...(await sourceFiles(join(ROOT, "adapters/shared"))));
    const violations = (await Promise.all(files.map(async (f) => findViolations(relative(ROOT, f), await readFile(f, "utf8"))))).flat();
    expect(violations.map((v) => `${v.file}:${v.line} ${v.message}`)).toEqual([]);
  });
});

describe("the rule itself", () => {
  const check = (source: string): string[] => findViolations("example.ts", source).map((v) => v.message);

  it.each([
    ['import { readFile } from "node:fs/promises";', "Node built-in"],
    ['import { createHash } from "crypto";', "Node built-in"],
    ['export { Buffer } from "node:buffer";', "Node built-in"],
    ['import type { Readable } from "node:stream";', "Node built-in"],
    ['const fs = await import("node:fs");', "Node built-in"],
    ['import Database from "better-sqlite3";', "Node-only package"],
    ['import { Redis } from "ioredis";', "Node-only package"],
    ['import { credentials } from "@grpc/grpc-js";', "Node-only package"],
    ['import { serve } from "@hono/node-server";', "Node-only package"],
    ['import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";', "Node-only package"],
    ['import postgres from "postgres";', "as a value"],
    ['import postgres, { type Sql } from "postgres";', "as a value"],
    ['import { Database } from "bun:sqlite";', "runtime-specific"],
    ['import { env } from "cloudflare:workers";', "runtime-specific"],
    ["const m = await import(name);", "computed module specifier"],
    ['const x = require("x");', "Node global `require`"],
    ["const url = process.env.VR_UPSTREAM;", "Node global `process`"],
    ['const b = Buffer.from("x");', "Node global `Buffer`"],
    ["const here = __dirname;", "Node global `__dirname`"],
  ])("flags %s", (source, expected) => {
    const messages = check(source);
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.join("\n")).toContain(expected);
  });

  it.each([
    'import type { Sql } from "postgres";',
    'import { type Sql, type PostgresError } from "postgres";',
    'export type { Sql } from "postgres";',
    'type S = import("postgres").Sql;',
    'import { Hono } from "hono";',
    'import { createParser } from "eventsource-parser";',
    'import { Counter } from "prom-client";',
    'import { x } from "./local.js";',
    "const o = { process: 1 }; o.process; const { Buffer: b } = o as any;",
    "// process.env in a comment, `require` in a string: 'require(x)'",
  ])("allows %s", (source) => {
    expect(check(source)).toEqual([]);
  });
});
