/**
 * deploy/grafana/vllm-responses-dashboard.json: valid, importable structure, and every query reads series and labels
 * the gateway's registry (or vLLM) really exports.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { gatewayMetricFacts, ranges, readRepoFile, selectors, type GatewayMetricFacts } from "./deploy-helpers.js";
import { checkExpression, seriesInfo } from "./promql-checks.js";

interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
  legendFormat?: string;
}
interface Panel {
  id?: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  type: string;
  name: string;
  query?: string | { query?: string };
  definition?: string;
  datasource?: { type?: string; uid?: string };
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
  time: { from: string; to: string };
}

const DS = { type: "prometheus", uid: "${DS_PROMETHEUS}" };
const text = readRepoFile("deploy/grafana/vllm-responses-dashboard.json");
let dashboard: Dashboard;
let facts: GatewayMetricFacts;

/** Every panel, including those nested in collapsed rows. */
const allPanels = (): Panel[] => dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const dataPanels = (): Panel[] => allPanels().filter((p) => p.type !== "row");
const exprsOf = (p: Panel): string[] => (p.targets ?? []).map((t) => t.expr ?? "");
const allExprs = (): Array<{ panel: string; expr: string }> => dataPanels().flatMap((p) => exprsOf(p).map((expr) => ({ panel: p.title, expr })));
const variableQuery = (v: Variable): string => (typeof v.query === "string" ? v.query : (v.query?.query ?? ""));

beforeAll(async () => {
  dashboard = JSON.parse(text) as Dashboard;
  facts = await gatewayMetricFacts();
});

describe("Grafana dashboard: structure", () => {
  it("is a dashboard document Grafana 10+ imports as is", () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(38);
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.time).toEqual({ from: expect.any(String), to: "now" });
    // No `id`: an imported dashboard must not overwrite another one by database id.
    expect(dashboard).not.toHaveProperty("id");
    // The data source is chosen at import/run time, never a uid of the author's Grafana.
    const uids: unknown[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === "object") {
        const o = node as Record<string, unknown>;
        if (o.type === "prometheus" && "uid" in o) uids.push(o.uid);
        Object.values(o).forEach(walk);
      }
    };
    walk(dashboard);
    expect(uids.length).toBeGreaterThan(0);
    expect(new Set(uids)).toEqual(new Set(["${DS_PROMETHEUS}"]));
  });

  it("templates the data source as ${DS_PROMETHEUS} and offers job/instance variables", () => {
    const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    const ds = vars.get("DS_PROMETHEUS");
    expect(ds).toMatchObject({ type: "datasource", query: "prometheus" });
    for (const name of ["job", "instance", "vllm_job", "vllm_instance", "model_name"]) {
      const v = vars.get(name);
      expect(v, name).toMatchObject({ type: "query", datasource: DS });
      expect(variableQuery(v!)).toMatch(/^label_values\(/);
    }
    expect(variableQuery(vars.get("job")!)).toMatch(/, job\)$/);
    expect(variableQuery(vars.get("instance")!)).toMatch(/job=~"\$job".*, instance\)$/);
    expect(variableQuery(vars.get("vllm_instance")!)).toMatch(/job=~"\$vllm_job".*, instance\)$/);
  });

  it("fills the gateway variables from a series exported before the first request", () => {
    for (const name of ["job", "instance"]) {
      const v = dashboard.templating.list.find((x) => x.name === name)!;
      const refs = selectors(variableQuery(v));
      expect(refs.length, name).toBe(1);
      expect(facts.exportedAtStart.has(refs[0]!.metric), `${refs[0]!.metric} is exported at start-up`).toBe(true);
    }
  });

  it("has unique panel ids, every data panel on ${DS_PROMETHEUS} with unique refIds and an expression", () => {
    const ids = allPanels().map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dataPanels()) {
      expect(panel.datasource, panel.title).toEqual(DS);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      const refIds = panel.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
      for (const target of panel.targets!) {
        expect(target.datasource, panel.title).toEqual(DS);
        expect(target.expr?.trim(), panel.title).toBeTruthy();
      }
    }
  });

  it("lays the panels out on the 24-column grid without overlaps", () => {
    const taken = new Map<string, string>();
    for (const panel of allPanels()) {
      const { x, y, w, h } = panel.gridPos;
      expect(w > 0 && h > 0 && x >= 0 && y >= 0 && x + w <= 24, `${panel.title} ${JSON.stringify(panel.gridPos)}`).toBe(true);
      for (let dx = 0; dx < w; dx++) {
        for (let dy = 0; dy < h; dy++) {
          const cell = `${x + dx},${y + dy}`;
          expect(taken.get(cell), `${panel.title} overlaps ${taken.get(cell)}`).toBeUndefined();
          taken.set(cell, panel.title);
        }
      }
    }
  });

  it("has the panels operators need", () => {
    const wanted: Array<{ title: RegExp; needs: string[] }> = [
      { title: /request rate by route and status/i, needs: ["vllm_responses_http_requests_total", "by (route, status)"] },
      { title: /error ratio/i, needs: ['status=~"5.."', 'status=~"4.."'] },
      {
        title: /handler latency/i,
        needs: ["histogram_quantile(0.5,", "histogram_quantile(0.95,", "histogram_quantile(0.99,", "vllm_responses_http_request_duration_seconds_bucket", "route, le"],
      },
      { title: /gateway overhead p50/i, needs: ["histogram_quantile(0.5,", "histogram_quantile(0.99,", "vllm_responses_gateway_overhead_seconds_bucket"] },
      { title: /in-flight requests and open SSE/i, needs: ["vllm_responses_http_in_flight_requests", "vllm_responses_sse_connections_in_flight"] },
      { title: /SSE stream duration/i, needs: ["vllm_responses_sse_stream_duration_seconds_bucket"] },
      {
        title: /tool calls/i,
        needs: ["vllm_responses_tool_calls_requested_total", "vllm_responses_tool_calls_executed_total", "vllm_responses_tool_errors_total", "by (tool_type)"],
      },
      { title: /tool execution latency/i, needs: ["vllm_responses_tool_execution_duration_seconds_bucket", "tool_type, le"] },
      { title: /MCP server/i, needs: ["vllm_responses_mcp_server_startup_total", "status"] },
      { title: /store cache/i, needs: ["vllm_responses_store_cache_errors_total", "by (operation)"] },
      { title: /vLLM running \/ waiting/i, needs: ["vllm:num_requests_running", "vllm:num_requests_waiting"] },
      { title: /time to first token/i, needs: ["vllm:time_to_first_token_seconds_bucket"] },
      { title: /end-to-end/i, needs: ["vllm:e2e_request_latency_seconds_bucket"] },
      { title: /KV cache/i, needs: ["vllm:kv_cache_usage_perc"] },
      { title: /tokens per second/i, needs: ["rate(vllm:generation_tokens_total"] },
    ];
    for (const { title, needs } of wanted) {
      const panel = dataPanels().find((p) => title.test(p.title));
      expect(panel, `panel ${title}`).toBeDefined();
      const exprs = exprsOf(panel!).join("\n");
      for (const need of needs) expect(exprs, `${panel!.title} uses ${need}`).toContain(need);
    }
    const rows = allPanels().filter((p) => p.type === "row").map((p) => p.title);
    expect(rows).toContain("vLLM");
  });
});

describe("Grafana dashboard: queries", () => {
  it("every expression is balanced and reads only exported series, labels and types", () => {
    const problems = allExprs().flatMap(({ panel, expr }) => checkExpression(facts, expr).map((p) => `${panel}: ${p}\n    ${expr}`));
    expect(problems).toEqual([]);
  });

  it("every variable query reads an exported series", () => {
    for (const v of dashboard.templating.list.filter((x) => x.type === "query")) {
      for (const ref of selectors(variableQuery(v))) expect(seriesInfo(facts, ref.metric), `${v.name}: ${ref.metric}`).toBeDefined();
    }
  });

  it("filters every series by the dashboard variables and uses $__rate_interval", () => {
    for (const { panel, expr } of allExprs()) {
      for (const ref of selectors(expr)) {
        const wanted = ref.metric.startsWith("vllm:") ? ['job=~"$vllm_job"', 'instance=~"$vllm_instance"'] : ['job=~"$job"', 'instance=~"$instance"'];
        for (const matcher of wanted) expect(ref.matchers, `${panel}: ${ref.metric}`).toContain(matcher);
      }
      for (const range of ranges(expr)) expect(range, `${panel}: ${expr}`).toBe("$__rate_interval");
    }
  });

  it("shows every metric family of the gateway", () => {
    const used = new Set(allExprs().flatMap(({ expr }) => selectors(expr).map((r) => facts.series.get(r.metric)?.family.name)));
    for (const family of facts.families.keys()) expect(used.has(family), family).toBe(true);
  });
});
