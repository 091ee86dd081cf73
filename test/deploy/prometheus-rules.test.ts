/**
 * deploy/prometheus/alerts.yml and scrape.yml: well-formed rules whose expressions read only series and labels the
 * gateway's registry (or vLLM) exports, runbook links that resolve, and scrape jobs that match the gateway's
 * defaults. Whether the rules fire on realistic series is checked by Prometheus itself:
 * `promtool test rules test/deploy/alerts.promtool-test.yml`.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../src/config/gateway-config.js";
import { parseServeFlags } from "../../adapters/node/cli/serve-flags.js";
import {
  asList,
  asMap,
  asString,
  gatewayMetricFacts,
  groupingLabels,
  headingAnchors,
  parseYamlSubset,
  readRepoFile,
  ROOT,
  selectors,
  type GatewayMetricFacts,
} from "./deploy-helpers.js";
import { checkExpression, seriesInfo } from "./promql-checks.js";

interface Rule {
  group: string;
  alert: string;
  expr: string;
  for: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const ALERTS_PATH = "deploy/prometheus/alerts.yml";
const alertsText = readRepoFile(ALERTS_PATH);
const scrapeText = readRepoFile("deploy/prometheus/scrape.yml");
const docText = readRepoFile("docs/observability.md");
/** The label names an alert expression may use (the gateway's labels plus what Prometheus adds). */
const KNOWN_LABELS = new Set(["method", "route", "status", "tool_type", "server_label", "operation", "le", "job", "instance"]);

let rules: Rule[];
let facts: GatewayMetricFacts;

function readRules(text: string): Rule[] {
  const root = asMap(parseYamlSubset(text), "alerts.yml");
  expect(Object.keys(root)).toEqual(["groups"]);
  return asList(root.groups!, "groups").flatMap((g, gi) => {
    const group = asMap(g, `groups[${gi}]`);
    const name = asString(group.name!, `groups[${gi}].name`);
    return asList(group.rules!, `${name}.rules`).map((r, ri) => {
      const rule = asMap(r, `${name}.rules[${ri}]`);
      const strings = (v: unknown, what: string): Record<string, string> =>
        Object.fromEntries(Object.entries(asMap((v ?? {}) as never, what)).map(([k, x]) => [k, asString(x, `${what}.${k}`)]));
      const alert = asString(rule.alert!, `${name}.rules[${ri}].alert`);
      for (const key of Object.keys(rule)) expect(["alert", "expr", "for", "labels", "annotations"], `${alert}: key ${key}`).toContain(key);
      return {
        group: name,
        alert,
        expr: asString(rule.expr!, `${alert}.expr`),
        for: rule.for === undefined ? null : asString(rule.for, `${alert}.for`),
        labels: strings(rule.labels, `${alert}.labels`),
        annotations: strings(rule.annotations, `${alert}.annotations`),
      };
    });
  });
}

beforeAll(async () => {
  rules = readRules(alertsText);
  facts = await gatewayMetricFacts();
});

describe("alert rules: structure", () => {
  it("parses into groups of rules, as many as the file declares", () => {
    expect(rules.length).toBe(alertsText.match(/^\s*- alert:/gm)!.length);
    expect(new Set(rules.map((r) => r.group))).toEqual(new Set(["vllm-responses", "vllm"]));
  });

  it("has unique CamelCase names, a duration, a severity and summary/description/runbook", () => {
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^Vllm[A-Za-z0-9]+$/);
      if (rule.for !== null) expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(["critical", "warning"], rule.alert).toContain(rule.labels.severity);
      expect(Object.keys(rule.annotations).sort(), rule.alert).toEqual(["description", "runbook", "summary"]);
      expect(rule.annotations.summary!.length, rule.alert).toBeGreaterThan(10);
      expect(rule.annotations.description!.length, rule.alert).toBeGreaterThan(40);
    }
  });

  it("covers what operators alert on", () => {
    const names = rules.map((r) => r.alert);
    for (const wanted of [
      "VllmResponsesTargetDown",
      "VllmTargetDown",
      "VllmResponsesHigh5xxRatio",
      "VllmResponsesHighLatencyGeneration",
      "VllmResponsesGatewayOverheadHigh",
      "VllmResponsesUpstreamUnavailable",
      "VllmResponsesUpstreamTimeout",
      "VllmResponsesRateLimited",
      "VllmResponsesConcurrencyNearLimit",
      "VllmResponsesSseStreamsStuck",
      "VllmResponsesToolErrorRatioHigh",
      "VllmResponsesMcpServerStartupErrors",
      "VllmResponsesStoreCacheErrors",
    ]) {
      expect(names).toContain(wanted);
    }
    const expr = (name: string): string => rules.find((r) => r.alert === name)!.expr;
    expect(expr("VllmResponsesUpstreamUnavailable")).toContain('status="502"');
    expect(expr("VllmResponsesUpstreamTimeout")).toContain('status="504"');
    expect(expr("VllmResponsesRateLimited")).toContain('status="429"');
    expect(expr("VllmResponsesHigh5xxRatio")).toContain('status=~"5.."');
    expect(expr("VllmResponsesHighLatencyGeneration")).toMatch(/histogram_quantile\(0\.99,/);
    expect(expr("VllmResponsesGatewayOverheadHigh")).toContain("vllm_responses_gateway_overhead_seconds_bucket");
  });

  it("links every runbook to a section of docs/observability.md", () => {
    const anchors = headingAnchors(docText);
    for (const rule of rules) {
      const m = /^docs\/observability\.md#([a-z0-9-]+)$/.exec(rule.annotations.runbook!);
      expect(m, `${rule.alert}: ${rule.annotations.runbook}`).not.toBeNull();
      expect(anchors.has(m![1]!), `${rule.alert}: #${m![1]} is a heading`).toBe(true);
    }
  });

  it("is listed in the alert table of docs/observability.md", () => {
    for (const rule of rules) expect(docText, rule.alert).toContain(`| \`${rule.alert}\` |`);
  });

  it("has a promtool unit test case for every alert", () => {
    const promtoolTests = readRepoFile("test/deploy/alerts.promtool-test.yml");
    expect(promtoolTests).toMatch(/rule_files:\n\s+- \.\.\/\.\.\/deploy\/prometheus\/alerts\.yml/);
    const tested = new Set([...promtoolTests.matchAll(/^\s*alertname: (\S+)\s*$/gm)].map((m) => m[1]));
    for (const rule of rules) expect(tested.has(rule.alert), rule.alert).toBe(true);
    for (const name of tested) expect(rules.map((r) => r.alert), `promtool tests unknown alert ${name}`).toContain(name);
  });
});

describe("alert rules: expressions", () => {
  it("are balanced and read only exported series, with their real labels and types", () => {
    const problems = rules.flatMap((r) => checkExpression(facts, r.expr).map((p) => `${r.alert}: ${p}`));
    expect(problems).toEqual([]);
  });

  it("use only the known label names", () => {
    for (const rule of rules) {
      const used = [...selectors(rule.expr).flatMap((s) => s.labels), ...groupingLabels(rule.expr).flatMap((g) => g.labels)];
      for (const label of used) expect(KNOWN_LABELS.has(label), `${rule.alert}: label ${label}`).toBe(true);
    }
  });

  it("only template labels that the expression's result carries", () => {
    for (const rule of rules) {
      const groups = groupingLabels(rule.expr).filter((g) => g.clause === "by");
      // With aggregation the result has the `by` labels; without, the labels of the series it selects.
      const carried = new Set(
        groups.length > 0 ? groups.flatMap((g) => g.labels) : selectors(rule.expr).flatMap((s) => [...(seriesInfo(facts, s.metric)?.labels ?? [])]),
      );
      const text = Object.values(rule.annotations).join("\n");
      for (const m of text.matchAll(/\$labels\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
        expect(carried.has(m[1]!), `${rule.alert}: {{ $labels.${m[1]} }}`).toBe(true);
      }
      // Go templates only: every {{ … }} closes.
      expect(text.split("{{").length, rule.alert).toBe(text.split("}}").length);
    }
  });

  it("compare gateway latency against bucket bounds the histograms have", () => {
    let checked = 0;
    for (const rule of rules) {
      const m = /histogram_quantile\([^]*?(vllm_responses_[a-z_]+)_bucket[^]*\)\s*>\s*([0-9.]+)\s*$/.exec(rule.expr);
      if (!m) continue;
      const family = facts.families.get(m[1]!)!;
      // A threshold at or above the top bucket could never be exceeded (histogram_quantile caps at it).
      expect(Number(m[2]), rule.alert).toBeLessThan(family.buckets[family.buckets.length - 1]!);
      expect(family.buckets, `${rule.alert}: threshold ${m[2]} is a bucket bound`).toContain(Number(m[2]));
      checked++;
    }
    expect(checked).toBe(3);
  });
});

describe("scrape configuration", () => {
  const config = asMap(parseYamlSubset(scrapeText), "scrape.yml");
  const jobs = new Map(
    asList(config.scrape_configs!, "scrape_configs").map((j, k) => {
      const job = asMap(j, `scrape_configs[${k}]`);
      return [asString(job.job_name!, "job_name"), job] as const;
    }),
  );
  const targetsOf = (job: string): string[] =>
    asList(jobs.get(job)!.static_configs!, "static_configs").flatMap((c) => asList(asMap(c, "static_config").targets!, "targets").map((t) => asString(t, "target")));

  it("loads the alert rules that sit next to it", () => {
    const files = asList(config.rule_files!, "rule_files").map((f) => asString(f, "rule file"));
    expect(files).toContain("alerts.yml");
    for (const file of files) expect(existsSync(resolve(ROOT, "deploy/prometheus", file)), file).toBe(true);
  });

  it("scrapes the gateway on its default port and metrics path", () => {
    const gateway = jobs.get("vllm-responses");
    expect(gateway).toBeDefined();
    const defaults = loadGatewayConfig({ VR_UPSTREAM: "http://127.0.0.1:8000/v1" });
    expect(gateway!.metrics_path).toBe(defaults.metricsPath);
    const flags = parseServeFlags(["--upstream", "http://127.0.0.1:8000/v1"]);
    expect(flags).not.toBe("help");
    expect(targetsOf("vllm-responses")).toEqual([`127.0.0.1:${(flags as { port: number }).port}`]);
    expect(scrapeText).toMatch(/--gateway-workers N/);
  });

  it("scrapes vLLM's /metrics", () => {
    expect(jobs.get("vllm")?.metrics_path).toBe("/metrics");
    expect(targetsOf("vllm").length).toBeGreaterThan(0);
  });

  it("uses the job names the `up` alerts expect", () => {
    const upJobs = rules.flatMap((r) => selectors(r.expr).filter((s) => s.metric === "up").map((s) => /job="([^"]+)"/.exec(s.matchers)?.[1]));
    expect(upJobs.length).toBeGreaterThanOrEqual(2);
    for (const job of upJobs) expect(jobs.has(job!), `up{job="${job}"}`).toBe(true);
  });
});
