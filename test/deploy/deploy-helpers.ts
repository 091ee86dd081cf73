/**
 * Helpers for the deploy/ and docs/observability.md checks: the gateway's real metric families (from a rendered
 * registry), a YAML reader for the subset our Prometheus files use (no YAML dependency), and small PromQL
 * scanners (metric selectors, label names, grouping clauses, function arguments, bracket balance).
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createGatewayMetrics } from "../../src/observability/metrics.js";
import { parseExposition } from "../helpers/prometheus-text.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const readRepoFile = (path: string): string => readFileSync(resolve(ROOT, path), "utf8");

// ------------------------------------------------------------------------------------------------ gateway metrics

export type MetricType = "counter" | "gauge" | "histogram";

export interface Family {
  name: string;
  type: MetricType;
  /** Label names of the family's samples, `le` excluded. */
  labels: Set<string>;
  /** Upper bounds of the histogram buckets, `+Inf` excluded (histograms only). */
  buckets: number[];
}

export type SeriesKind = "counter" | "gauge" | "bucket" | "sum" | "count";

export interface GatewayMetricFacts {
  families: Map<string, Family>;
  /** Every series name a PromQL query may use (`…_total`, gauges, `…_bucket`/`…_sum`/`…_count`) → its family. */
  series: Map<string, { family: Family; kind: SeriesKind }>;
  /** Series names a freshly started gateway exports before any traffic. */
  exportedAtStart: Set<string>;
}

/**
 * The families of `createGatewayMetrics()`, read back from its rendered exposition after one call of every
 * recording helper (so every labelled family has a sample to read its labels from).
 */
export async function gatewayMetricFacts(): Promise<GatewayMetricFacts> {
  const fresh = parseExposition((await createGatewayMetrics().render()).body);
  const exportedAtStart = new Set(fresh.samples.map((s) => s.name));

  const metrics = createGatewayMetrics();
  metrics.observeHttpRequest("POST", "/v1/responses", 200, 0.01);
  metrics.httpInFlightInc();
  metrics.sseOpened();
  metrics.sseClosed("/v1/responses", 1.5);
  metrics.toolRequested("mcp");
  metrics.toolExecuted("mcp", 0.2, false);
  metrics.mcpServerStartup("fs", "error");
  metrics.gatewayOverhead("/v1/responses", 0.0002);
  metrics.storeCacheError("get");
  const exposition = parseExposition((await metrics.render()).body);

  const families = new Map<string, Family>();
  for (const [name, type] of exposition.types) {
    if (type !== "counter" && type !== "gauge" && type !== "histogram") throw new Error(`unexpected metric type ${type} of ${name}`);
    families.set(name, { name, type, labels: new Set(), buckets: [] });
  }
  const series = new Map<string, { family: Family; kind: SeriesKind }>();
  for (const sample of exposition.samples) {
    let family = families.get(sample.name);
    let kind: SeriesKind | undefined = family ? (family.type === "histogram" ? undefined : family.type) : undefined;
    if (!family) {
      const m = /^(.*)_(bucket|sum|count)$/.exec(sample.name);
      family = m ? families.get(m[1]!) : undefined;
      if (family?.type === "histogram") kind = m![2] as SeriesKind;
    }
    if (!family || !kind) throw new Error(`sample ${sample.name} belongs to no family`);
    series.set(sample.name, { family, kind });
    for (const label of Object.keys(sample.labels)) if (label !== "le") family.labels.add(label);
    if (kind === "bucket" && sample.labels.le !== "+Inf") {
      const le = Number(sample.labels.le);
      if (!family.buckets.includes(le)) family.buckets.push(le);
    }
  }
  for (const family of families.values()) family.buckets.sort((a, b) => a - b);
  return { families, series, exportedAtStart };
}

// ------------------------------------------------------------------------------------------------ vLLM metrics

/**
 * The vLLM series the dashboard and alerts may use, as vLLM's Prometheus logger defines them
 * (vllm/v1/metrics/loggers.py: labels `model_name`, `engine`; `gpu_cache_usage_perc` is the pre-0.9 name of
 * `kv_cache_usage_perc`).
 */
export const VLLM_SERIES: ReadonlyMap<string, SeriesKind> = new Map<string, SeriesKind>([
  ["vllm:num_requests_running", "gauge"],
  ["vllm:num_requests_waiting", "gauge"],
  ["vllm:kv_cache_usage_perc", "gauge"],
  ["vllm:gpu_cache_usage_perc", "gauge"],
  ["vllm:generation_tokens_total", "counter"],
  ["vllm:prompt_tokens_total", "counter"],
  ["vllm:time_to_first_token_seconds_bucket", "bucket"],
  ["vllm:e2e_request_latency_seconds_bucket", "bucket"],
]);
export const VLLM_LABELS: ReadonlySet<string> = new Set(["model_name", "engine"]);

/** Labels Prometheus attaches to every scraped series. */
export const TARGET_LABELS: ReadonlySet<string> = new Set(["job", "instance"]);

// ------------------------------------------------------------------------------------------------ YAML subset

export type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };

/**
 * Reads the block-style YAML our Prometheus files are written in: nested mappings and sequences by indentation,
 * plain / single- / double-quoted scalars, `|` and `>` block scalars (with `-`/`+` chomping), comments. Flow
 * collections, anchors, tags and multi-document streams are rejected — the files must stay that simple.
 */
export function parseYamlSubset(source: string): YamlValue {
  const lines = source.split(/\r?\n/);
  let i = 0;
  const indentOf = (line: string): number => line.length - line.trimStart().length;
  const skippable = (line: string): boolean => line.trim() === "" || line.trimStart().startsWith("#");
  const skip = (): void => {
    while (i < lines.length && skippable(lines[i]!)) i++;
  };
  const fail = (message: string): never => {
    throw new Error(`YAML line ${i + 1}: ${message}: ${JSON.stringify(lines[i])}`);
  };
  const isSeqItem = (text: string): boolean => text === "-" || text.startsWith("- ");
  const KEY = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#&*!|>{}[\],%@`-][^:#]*?|-[^\s:#][^:#]*?)\s*:(?:\s+(.*))?$/;

  function scalar(text: string): string | null {
    const t = text.trim();
    if (t.startsWith('"')) {
      const end = /^"((?:[^"\\]|\\.)*)"\s*(?:#.*)?$/.exec(t);
      if (!end) fail("unterminated double-quoted scalar");
      return JSON.parse(`"${end![1]}"`) as string;
    }
    if (t.startsWith("'")) {
      const end = /^'((?:[^']|'')*)'\s*(?:#.*)?$/.exec(t);
      if (!end) fail("unterminated single-quoted scalar");
      return end![1]!.replace(/''/g, "'");
    }
    if (/^[[{&*!]/.test(t)) fail("flow collections, anchors and tags are not supported");
    const plain = t.replace(/\s+#.*$/, "");
    return plain === "" || plain === "~" || plain === "null" ? null : plain;
  }

  function blockScalar(parentIndent: number, indicator: string): string {
    const body: string[] = [];
    while (i < lines.length && (lines[i]!.trim() === "" || indentOf(lines[i]!) > parentIndent)) body.push(lines[i++]!);
    const contentIndent = Math.min(...body.filter((l) => l.trim() !== "").map(indentOf));
    const content = body.map((l) => (l.trim() === "" ? "" : l.slice(contentIndent)));
    let trailing = 0;
    while (content.length > 0 && content[content.length - 1] === "") {
      content.pop();
      trailing++;
    }
    let text: string;
    if (indicator.startsWith("|")) text = content.join("\n");
    else {
      text = "";
      for (let k = 0; k < content.length; k++) {
        const line = content[k]!;
        if (k === 0) text = line;
        else if (line === "") text += "\n";
        else text += text.endsWith("\n") || text === "" ? line : ` ${line}`;
      }
    }
    if (indicator.endsWith("-")) return text;
    if (indicator.endsWith("+")) return text + "\n".repeat(trailing + 1);
    return content.length > 0 ? `${text}\n` : "";
  }

  function valueAfterKey(indent: number, rest: string): YamlValue {
    if (rest === "") {
      skip();
      if (i >= lines.length) return null;
      const next = lines[i]!;
      const nextIndent = indentOf(next);
      if (nextIndent > indent) return node();
      if (nextIndent === indent && isSeqItem(next.trim())) return sequence(indent);
      return null;
    }
    if (/^[|>][+-]?$/.test(rest.replace(/\s+#.*$/, ""))) return blockScalar(indent, rest.replace(/\s+#.*$/, ""));
    return scalar(rest);
  }

  function mapping(indent: number): { [key: string]: YamlValue } {
    const map: { [key: string]: YamlValue } = {};
    for (;;) {
      skip();
      if (i >= lines.length) return map;
      const line = lines[i]!;
      const lineIndent = indentOf(line);
      if (lineIndent < indent || isSeqItem(line.trim())) return map;
      if (lineIndent > indent) fail("unexpected indentation");
      const m = KEY.exec(line.trim());
      if (!m) fail("expected `key: value`");
      const key = scalar(m![1]!) ?? "";
      if (key in map) fail(`duplicate key ${key}`);
      i++;
      map[key] = valueAfterKey(indent, m![2] ?? "");
    }
  }

  function sequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    for (;;) {
      skip();
      if (i >= lines.length) return items;
      const line = lines[i]!;
      if (indentOf(line) !== indent || !isSeqItem(line.trim())) return items;
      const rest = line.trim().slice(1).trimStart();
      const column = line.length - rest.length;
      if (rest === "") {
        i++;
        items.push(valueAfterKey(indent, ""));
      } else if (KEY.test(rest)) {
        // `- key: value …`: the item is a mapping whose first line starts at the text after the dash.
        lines[i] = " ".repeat(column) + rest;
        items.push(mapping(column));
      } else {
        i++;
        items.push(scalar(rest));
      }
    }
  }

  function node(): YamlValue {
    skip();
    const line = lines[i]!;
    return isSeqItem(line.trim()) ? sequence(indentOf(line)) : mapping(indentOf(line));
  }

  skip();
  if (i >= lines.length) return null;
  if (lines[i]!.trim() === "---") fail("document markers are not supported");
  const root = node();
  skip();
  if (i < lines.length) fail("trailing content");
  return root;
}

export function asMap(value: YamlValue, what: string): { [key: string]: YamlValue } {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`${what} is not a mapping`);
  return value;
}
export function asList(value: YamlValue, what: string): YamlValue[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not a sequence`);
  return value;
}
export function asString(value: YamlValue, what: string): string {
  if (typeof value !== "string") throw new Error(`${what} is not a string`);
  return value;
}

// ------------------------------------------------------------------------------------------------ PromQL scanning

/** The expression with every string literal's content replaced by spaces (same length, same positions). */
export function blankStrings(expr: string): string {
  let out = "";
  let quote: string | null = null;
  for (let k = 0; k < expr.length; k++) {
    const ch = expr[k]!;
    if (quote) {
      if (ch === "\\" && quote !== "`") {
        out += "  ";
        k++;
      } else if (ch === quote) {
        out += ch;
        quote = null;
      } else out += " ";
    } else {
      if (ch === '"' || ch === "'" || ch === "`") quote = ch;
      out += ch;
    }
  }
  if (quote) throw new Error(`unterminated string in ${expr}`);
  return out;
}

/** Null when (), [] and {} are balanced outside string literals, else what is wrong. */
export function bracketProblem(expr: string): string | null {
  const pairs: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  const stack: string[] = [];
  for (const ch of blankStrings(expr)) {
    if (ch === "(" || ch === "[" || ch === "{") stack.push(ch);
    else if (ch in pairs) {
      if (stack.pop() !== pairs[ch]) return `unexpected ${ch}`;
    }
  }
  return stack.length > 0 ? `unclosed ${stack.join("")}` : null;
}

export interface SelectorRef {
  metric: string;
  /** Label names used in the `{…}` matchers (empty without braces). */
  labels: string[];
  /** The selector's matcher text as written, e.g. `job=~"$job", status="502"`. */
  matchers: string;
}

const METRIC_TOKEN = /(?<![A-Za-z0-9_:$.])(vllm_responses_[A-Za-z0-9_]+|vllm:[A-Za-z0-9_:]+|up)\b(\s*\{)?/g;

/** The metric selectors of an expression: gateway (`vllm_responses_…`), vLLM (`vllm:…`) and `up`. */
export function selectors(expr: string): SelectorRef[] {
  const blank = blankStrings(expr);
  const refs: SelectorRef[] = [];
  for (const m of blank.matchAll(METRIC_TOKEN)) {
    const after = m.index! + m[0].length;
    // `up` is also a plain word; it is a metric only when a selector or comparison follows.
    if (m[1] === "up" && !m[2] && !/^\s*(==|!=|>|<|\)|$)/.test(blank.slice(after))) continue;
    let matchers = "";
    if (m[2]) {
      const close = blank.indexOf("}", after);
      if (close < 0) throw new Error(`unclosed selector in ${expr}`);
      matchers = expr.slice(after, close);
    }
    const labels = [...blankStrings(matchers).matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]!);
    refs.push({ metric: m[1]!, labels, matchers });
  }
  return refs;
}

/** Label lists of `by`, `without`, `on`, `ignoring`, `group_left`, `group_right` clauses. */
export function groupingLabels(expr: string): Array<{ clause: string; labels: string[] }> {
  return [...blankStrings(expr).matchAll(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)/g)].map((m) => ({
    clause: m[1]!,
    labels: m[2]!
      .split(",")
      .map((l) => l.trim())
      .filter((l) => l !== ""),
  }));
}

/** The argument text of every call of `fn` in the expression (outermost parentheses matched). */
export function callArguments(expr: string, fn: string): string[] {
  const blank = blankStrings(expr);
  const args: string[] = [];
  for (const m of blank.matchAll(new RegExp(`\\b${fn}\\s*\\(`, "g"))) {
    const open = m.index! + m[0].length;
    let depth = 1;
    let k = open;
    for (; k < blank.length && depth > 0; k++) {
      if (blank[k] === "(") depth++;
      else if (blank[k] === ")") depth--;
    }
    args.push(expr.slice(open, k - 1));
  }
  return args;
}

/** Range selectors (`[5m]`, `[$__rate_interval]`) of an expression, without the brackets. */
export function ranges(expr: string): string[] {
  return [...blankStrings(expr).matchAll(/\[([^\]]*)\]/g)].map((m) => expr.slice(m.index! + 1, m.index! + 1 + m[1]!.length));
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces → hyphens. */
export function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Anchors of the markdown headings of a document. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) inFence = !inFence;
    const m = !inFence && /^#{1,6}\s+(.*)$/.exec(line);
    if (m) anchors.add(githubSlug(m[1]!));
  }
  return anchors;
}
