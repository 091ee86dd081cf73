// Percentiles from sorted arrays (nearest rank), and the formatting the tables use.

export function sorted(values) {
  return Float64Array.from(values).sort();
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function pct(sortedValues, q) {
  const n = sortedValues.length;
  if (n === 0) return NaN;
  const rank = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
  return sortedValues[rank];
}

export function summary(values) {
  const s = sorted(values);
  let sum = 0;
  for (const v of s) sum += v;
  return { n: s.length, p50: pct(s, 0.5), p90: pct(s, 0.9), p99: pct(s, 0.99), max: s.length ? s[s.length - 1] : NaN, mean: s.length ? sum / s.length : NaN };
}

export const median = (values) => pct(sorted(values), 0.5);

/** Milliseconds with a unit picked for readability: "0.214 ms", "31.2 ms", "87 µs" (µs below 0.1 ms). */
export function ms(v, { signed = false } = {}) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const sign = signed && v > 0 ? "+" : "";
  const a = Math.abs(v);
  if (a < 0.1) return `${sign}${(v * 1000).toFixed(0)} µs`;
  if (a < 10) return `${sign}${v.toFixed(3)} ms`;
  if (a < 100) return `${sign}${v.toFixed(1)} ms`;
  return `${sign}${v.toFixed(0)} ms`;
}

export function us(v, { signed = false } = {}) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const sign = signed && v > 0 ? "+" : "";
  if (Math.abs(v) >= 1000) return `${sign}${(v / 1000).toFixed(2)} ms`;
  return `${sign}${v.toFixed(0)} µs`;
}

export const mb = (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : `${v.toFixed(1)} MB`);
export const rps = (v) => (Number.isNaN(v) ? "–" : `${v.toFixed(0)}/s`);
export const ratio = (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : `${v.toFixed(2)}×`);
