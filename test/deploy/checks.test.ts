/**
 * The checkers behind the deploy/ tests catch what they are meant to catch (so a green run means something).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { bracketProblem, gatewayMetricFacts, githubSlug, parseYamlSubset, selectors, type GatewayMetricFacts } from "./deploy-helpers.js";
import { checkExpression } from "./promql-checks.js";

let facts: GatewayMetricFacts;
beforeAll(async () => {
  facts = await gatewayMetricFacts();
});

describe("PromQL checks", () => {
  it("accept a sound expression", () => {
    expect(
      checkExpression(
        facts,
        'histogram_quantile(0.99, sum by (route, le) (rate(vllm_responses_http_request_duration_seconds_bucket{job=~"$job", route!~"/v1/(x)"}[5m])))',
      ),
    ).toEqual([]);
  });

  it.each([
    ["sum(rate(vllm_responses_http_requests[5m]))", "is not exported"],
    ["sum(rate(vllm_responses_http_request_duration_seconds[5m]))", "is a histogram"],
    ['sum(rate(vllm_responses_http_requests_total{tool_type="mcp"}[5m]))', "has no label tool_type"],
    ["sum by (model) (rate(vllm_responses_http_requests_total[5m]))", "by (model)"],
    ["rate(vllm_responses_sse_connections_in_flight[5m])", "rate() over the gauge"],
    ["histogram_quantile(0.9, sum by (route) (rate(vllm_responses_sse_stream_duration_seconds_bucket[5m])))", 'without "by (…, le)"'],
    ["histogram_quantile(0.9, sum by (le) (rate(vllm_responses_sse_stream_duration_seconds_count[5m])))", "non-bucket"],
    ["sum(rate(vllm_responses_http_requests_total[5m])", "brackets"],
    ["increase(vllm_responses_tool_errors_total)", "without a range"],
    ["vllm:num_requests_runing > 1", "is not exported"],
    ['sum(vllm:num_requests_waiting{tool_type="x"})', "has no label tool_type"],
  ])("reject %s", (expr, problem) => {
    expect(checkExpression(facts, expr).join("\n")).toContain(problem);
  });

  it("ignore brackets and names inside strings", () => {
    expect(bracketProblem('up{job=~"a(b"} == 0')).toBeNull();
    expect(selectors('vllm_responses_tool_errors_total{route="vllm_responses_nothing"}').map((s) => s.metric)).toEqual(["vllm_responses_tool_errors_total"]);
  });
});

describe("YAML subset reader", () => {
  it("reads mappings, sequences, quoting and block scalars", () => {
    const doc = [
      "# comment",
      "groups:",
      "  - name: g # trailing comment",
      "    rules:",
      "      - alert: A",
      "        expr: |",
      '          sum(x{a="b"})',
      "            > 1",
      "        annotations:",
      "          folded: >-",
      "            one",
      "            two",
      "",
      "            three",
      "          quoted: \"a \\\"b\\\" {{ $labels.c }}\"",
      "          single: 'it''s'",
      "          url: docs/x.md#anchor",
      "  - name: h",
      "    rules: []",
    ].join("\n");
    expect(() => parseYamlSubset(doc)).toThrow(/flow collections/);
    expect(parseYamlSubset(doc.replace("rules: []", "rules:\n      - alert: B\n        expr: up == 0"))).toEqual({
      groups: [
        {
          name: "g",
          rules: [
            {
              alert: "A",
              expr: 'sum(x{a="b"})\n  > 1\n',
              annotations: { folded: "one two\nthree", quoted: 'a "b" {{ $labels.c }}', single: "it's", url: "docs/x.md#anchor" },
            },
          ],
        },
        { name: "h", rules: [{ alert: "B", expr: "up == 0" }] },
      ],
    });
  });

  it("rejects duplicate keys and bad indentation", () => {
    expect(() => parseYamlSubset("a: 1\na: 2")).toThrow(/duplicate key/);
    expect(() => parseYamlSubset("a:\n  b: 1\n   c: 2")).toThrow(/indentation/);
  });
});

it("makes GitHub heading anchors", () => {
  expect(githubSlug("Runbook: target down")).toBe("runbook-target-down");
  expect(githubSlug("Workers and graceful shutdown")).toBe("workers-and-graceful-shutdown");
});
