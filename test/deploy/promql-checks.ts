/**
 * Checks shared by the dashboard and alert tests: does a PromQL expression only use series and labels that the
 * gateway (or vLLM) really exports, the way their types allow?
 */
import {
  blankStrings,
  bracketProblem,
  callArguments,
  groupingLabels,
  selectors,
  TARGET_LABELS,
  VLLM_LABELS,
  VLLM_SERIES,
  type GatewayMetricFacts,
  type SelectorRef,
  type SeriesKind,
} from "./deploy-helpers.js";

export interface SeriesInfo {
  kind: SeriesKind;
  /** Label names a selector or grouping may use with this series. */
  labels: Set<string>;
  source: "gateway" | "vllm" | "prometheus";
}

export function seriesInfo(facts: GatewayMetricFacts, metric: string): SeriesInfo | undefined {
  const gateway = facts.series.get(metric);
  if (gateway) {
    const labels = new Set([...gateway.family.labels, ...TARGET_LABELS, ...(gateway.kind === "bucket" ? ["le"] : [])]);
    return { kind: gateway.kind, labels, source: "gateway" };
  }
  const vllm = VLLM_SERIES.get(metric);
  if (vllm) return { kind: vllm, labels: new Set([...VLLM_LABELS, ...TARGET_LABELS, ...(vllm === "bucket" ? ["le"] : [])]), source: "vllm" };
  if (metric === "up") return { kind: "gauge", labels: new Set(TARGET_LABELS), source: "prometheus" };
  return undefined;
}

/** Every problem found in one expression (empty when it is sound). */
export function checkExpression(facts: GatewayMetricFacts, expr: string): string[] {
  const problems: string[] = [];
  const bracket = bracketProblem(expr);
  if (bracket) problems.push(`brackets: ${bracket}`);
  const refs = selectors(expr);
  if (refs.length === 0) problems.push("references no metric");

  const known: Array<SelectorRef & { info: SeriesInfo }> = [];
  for (const ref of refs) {
    const info = seriesInfo(facts, ref.metric);
    if (!info) {
      const family = facts.families.get(ref.metric);
      problems.push(
        family?.type === "histogram"
          ? `${ref.metric} is a histogram: use ${ref.metric}_bucket, _sum or _count`
          : `${ref.metric} is not exported`,
      );
      continue;
    }
    known.push({ ...ref, info });
    for (const label of ref.labels) {
      if (!info.labels.has(label)) problems.push(`${ref.metric} has no label ${label}`);
    }
  }

  // Grouping labels must exist on at least one series the expression reads.
  const available = new Set(known.flatMap((ref) => [...ref.info.labels]));
  for (const group of groupingLabels(expr)) {
    for (const label of group.labels) {
      if (!available.has(label)) problems.push(`${group.clause} (${label}): no series of this expression has that label`);
    }
  }

  // Quantiles only over bucket counters, aggregated by `le`.
  for (const arg of callArguments(expr, "histogram_quantile")) {
    const inner = selectors(arg);
    if (inner.length === 0 || inner.some((ref) => !ref.metric.endsWith("_bucket"))) problems.push(`histogram_quantile over a non-bucket series: ${arg.trim()}`);
    const groups = groupingLabels(arg).filter((g) => g.clause === "by");
    if (groups.length === 0 || groups.some((g) => !g.labels.includes("le"))) problems.push(`histogram_quantile without "by (…, le)": ${arg.trim()}`);
  }

  // rate()/increase() only over monotonic series: counters and histogram components, never gauges.
  for (const fn of ["rate", "irate", "increase"]) {
    for (const arg of callArguments(expr, fn)) {
      for (const ref of selectors(arg)) {
        const info = seriesInfo(facts, ref.metric);
        if (info?.kind === "gauge") problems.push(`${fn}() over the gauge ${ref.metric}`);
      }
      if (!/\[[^\]]+\]\s*(offset\s+\S+\s*)?$/.test(blankStrings(arg).trim())) problems.push(`${fn}() without a range: ${arg.trim()}`);
    }
  }
  return problems;
}
