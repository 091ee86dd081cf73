/**
 * docs/observability.md stays true to the code: the metric table is the registry (names, types, labels, buckets),
 * the `route` values are the app's route templates, the tracing defaults are the config's, and every setting,
 * flag and link it (or a deploy/ file) names exists.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createGateway } from "../../src/index.js";
import { loadGatewayConfig } from "../../src/config/gateway-config.js";
import { silentLogger } from "../../src/observability/logger.js";
import { TOOL_TYPES } from "../../src/observability/metrics.js";
import { toOpenApiTemplate, UNMATCHED_ROUTE } from "../../src/observability/route-template.js";
import { parseServeFlags, SERVE_HELP } from "../../adapters/node/cli/serve-flags.js";
import { gatewayMetricFacts, headingAnchors, readRepoFile, ROOT, type GatewayMetricFacts } from "./deploy-helpers.js";

const doc = readRepoFile("docs/observability.md");
const deployFiles = ["deploy/prometheus/alerts.yml", "deploy/prometheus/scrape.yml", "deploy/grafana/vllm-responses-dashboard.json"];
let facts: GatewayMetricFacts;

beforeAll(async () => {
  facts = await gatewayMetricFacts();
});

/** Rows of the markdown table whose header row starts with `| <firstHeader> |`. */
function tableRows(markdown: string, firstHeader: string): string[][] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`| ${firstHeader} |`));
  if (start < 0) throw new Error(`no table starting with ${firstHeader}`);
  const rows: string[][] = [];
  for (let k = start + 2; k < lines.length && lines[k]!.startsWith("|"); k++) {
    rows.push(
      lines[k]!
        .slice(1, -1)
        .split(" | ")
        .map((c) => c.trim()),
    );
  }
  return rows;
}
const unTick = (cell: string): string => cell.replace(/^`|`$/g, "");

/** The paragraph of a markdown bullet list item that starts with `prefix`. */
function bullet(markdown: string, prefix: string): string {
  const start = markdown.indexOf(`- ${prefix}`);
  if (start < 0) throw new Error(`no bullet ${prefix}`);
  const end = markdown.slice(start + 2).search(/\n(- |\n)/);
  return markdown.slice(start, end < 0 ? undefined : start + 2 + end);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

describe("docs/observability.md: metric table", () => {
  it("lists exactly the registry's metrics with their types, labels and buckets", () => {
    const rows = tableRows(doc, "metric");
    const documented = new Map(rows.map((r) => [unTick(r[0]!), r]));
    expect([...documented.keys()].sort()).toEqual([...facts.families.keys()].sort());
    for (const family of facts.families.values()) {
      const [, type, labels, meaning, buckets] = documented.get(family.name)!;
      expect(type, family.name).toBe(family.type);
      const documentedLabels = labels === "–" ? [] : labels!.split(",").map((l) => l.trim());
      expect(documentedLabels.sort(), family.name).toEqual([...family.labels].sort());
      expect(meaning!.length, family.name).toBeGreaterThan(15);
      if (family.type === "histogram") expect(buckets!.split(",").map(Number), family.name).toEqual(family.buckets);
      else expect(buckets, family.name).toBe("–");
    }
  });

  it("names every metric with its type suffix (counters _total, histograms _bucket/_sum/_count)", () => {
    for (const family of facts.families.values()) {
      expect(family.name).toMatch(/^vllm_responses_[a-z_]+$/);
      if (family.type === "counter") expect(family.name).toMatch(/_total$/);
      else expect(family.name).not.toMatch(/_total$/);
      const series = [...facts.series.entries()].filter(([, s]) => s.family === family).map(([name]) => name);
      if (family.type === "histogram") expect(series.sort()).toEqual(["_bucket", "_count", "_sum"].map((s) => family.name + s));
      else expect(series).toEqual([family.name]);
    }
  });

  it("gives the real route template values", async () => {
    const gateway = createGateway({ upstream: "http://127.0.0.1:9/v1", logger: silentLogger });
    try {
      const templates = new Set(
        gateway.routes
          .filter((r) => !r.path.includes("*") && r.path !== "/health" && r.path !== gateway.config.metricsPath)
          .map((r) => toOpenApiTemplate(r.path)),
      );
      const text = bullet(doc, "`route` is the template");
      const documented = new Set([...text.matchAll(/`(\/v1\/[^`]*)`/g)].map((m) => m[1]));
      expect([...documented].sort()).toEqual([...templates].sort());
      expect(text).toContain(`\`${UNMATCHED_ROUTE}\``);
    } finally {
      await gateway.close();
    }
  });

  it("gives the real tool_type values", () => {
    const text = bullet(doc, "`tool_type` is one of");
    expect([...text.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]).slice(1, 1 + TOOL_TYPES.length)).toEqual([...TOOL_TYPES]);
  });
});

describe("docs/observability.md: settings and links", () => {
  it("states the tracing defaults the configuration has", () => {
    const config = loadGatewayConfig({ VR_UPSTREAM: "http://127.0.0.1:8000/v1" });
    const actual: Record<string, string> = {
      VR_TRACING_ENABLED: String(config.tracingEnabled),
      VR_TRACING_SAMPLE_RATIO: String(config.tracingSampleRatio),
      VR_OPENTELEMETRY_HOST: config.otelHost,
      VR_OPENTELEMETRY_PORT: String(config.otelPort),
      VR_OPENTELEMETRY_PROTOCOL: config.otelProtocol,
      VR_OTEL_SERVICE_NAME: config.otelServiceName,
    };
    const rows = tableRows(doc, "variable");
    expect(rows.map((r) => unTick(r[0]!)).sort()).toEqual(Object.keys(actual).sort());
    for (const row of rows) expect(unTick(row[1]!), row[0]).toBe(actual[unTick(row[0]!)]);
    // …and the port default follows the protocol, as the row says.
    expect(loadGatewayConfig({ VR_UPSTREAM: "http://127.0.0.1:8000/v1", VR_OPENTELEMETRY_PROTOCOL: "http/protobuf" }).otelPort).toBe(4318);
  });

  it("states the serve flags' defaults", () => {
    const flags = parseServeFlags(["--upstream", "http://127.0.0.1:8000/v1"]);
    if (flags === "help") throw new Error("unexpected help");
    expect(flags.workers).toBe(1);
    expect(doc).toContain("**`--gateway-workers N`** (default 1");
    expect(doc).toContain(`\`--graceful-timeout\` seconds (default ${flags.gracefulTimeoutMs / 1000})`);
    expect(doc).toContain(`default ${flags.mcpPort})`);
    expect(doc).toContain(`default ${flags.codeInterpreterPort})`);
  });

  it("names only VR_* settings that the code reads", () => {
    const code = [...sourceFiles(resolve(ROOT, "src")), ...sourceFiles(resolve(ROOT, "adapters"))].map((f) => readFileSync(f, "utf8")).join("\n");
    for (const file of ["docs/observability.md", ...deployFiles]) {
      const names = new Set(readRepoFile(file).match(/\bVR_[A-Z0-9_]+\b/g) ?? []);
      expect(names.size, file).toBeGreaterThan(0);
      for (const name of names) expect(code.includes(`"${name}"`), `${file}: ${name}`).toBe(true);
    }
  });

  it("names only serve flags that exist", () => {
    for (const file of ["docs/observability.md", ...deployFiles]) {
      const flags = new Set(readRepoFile(file).match(/--(?:gateway|graceful|mcp|code-interpreter|upstream)[a-z-]*/g) ?? []);
      for (const flag of flags) expect(SERVE_HELP, `${file}: ${flag}`).toMatch(new RegExp(`^\\s+${flag}\\b`, "m"));
    }
  });

  it("has working in-page links and links to files that exist", () => {
    const anchors = headingAnchors(doc);
    for (const m of doc.matchAll(/\]\(#([^)]+)\)/g)) expect(anchors.has(m[1]!), `#${m[1]}`).toBe(true);
    const files = [...doc.matchAll(/\]\((\.\.\/[^)#]+)\)/g)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(existsSync(resolve(ROOT, "docs", file)), file).toBe(true);
  });
});
