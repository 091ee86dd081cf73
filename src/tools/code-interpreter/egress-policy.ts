/**
 * Outbound-HTTP policy for Python code (the original's format and evaluation order, reference §6.2).
 * Pure: the adapter resolves DNS and hands the addresses in, so the decision is testable and runtime-free.
 *
 * File format:
 *   { "mode": "allowlist" | "denylist", "allowed_schemes": ["http", "https"], "block_ip_literals": bool,
 *     "block_private_networks": bool, "rules": [{ "kind": "host" | "suffix" | "cidr", "value": "..." }] }
 */
import { type Cidr, cidrContains, CidrSyntaxError, type IpAddress, isSpecialUse, parseCidr, parseIp } from "./ip-address.js";

export type EgressMode = "allowlist" | "denylist";
export type EgressScheme = "http" | "https";
export type EgressRuleKind = "host" | "suffix" | "cidr";

/** The JSON document as operators write it (snake_case, like the original). */
export interface EgressPolicyDocument {
  mode: EgressMode;
  allowed_schemes: EgressScheme[];
  block_ip_literals: boolean;
  block_private_networks: boolean;
  rules: { kind: EgressRuleKind; value: string }[];
}

/** A validated policy, with rules pre-parsed for evaluation. */
export interface EgressPolicy {
  readonly mode: EgressMode;
  readonly allowedSchemes: ReadonlySet<string>;
  readonly blockIpLiterals: boolean;
  readonly blockPrivateNetworks: boolean;
  readonly hosts: ReadonlySet<string>;
  readonly suffixes: readonly string[];
  readonly cidrs: readonly Cidr[];
  readonly document: EgressPolicyDocument;
}

/**
 * Used when the operator gives no policy file. The original enforced nothing then; a code interpreter that
 * can reach 127.0.0.1, the LAN or the cloud metadata endpoint (169.254.169.254) is an SSRF hole, so the
 * default allows http/https to public addresses only. IP literals stay allowed (public ones are harmless
 * and the special-use check covers the private ones).
 */
export const DEFAULT_EGRESS_POLICY_DOCUMENT: Readonly<EgressPolicyDocument> = Object.freeze<EgressPolicyDocument>({
  mode: "denylist",
  allowed_schemes: ["http", "https"],
  block_ip_literals: false,
  block_private_networks: true,
  rules: [],
});

export class EgressPolicyError extends Error {
  override name = "EgressPolicyError";
}

const knownFields = ["mode", "allowed_schemes", "block_ip_literals", "block_private_networks", "rules"];

/** Validates a parsed JSON document. Errors name the offending field (`rules[2].value`, …). */
export function parseEgressPolicy(raw: unknown): EgressPolicy {
  const fail = (field: string, problem: string): never => {
    throw new EgressPolicyError(`Invalid code interpreter egress policy: \`${field}\` ${problem}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new EgressPolicyError("Invalid code interpreter egress policy: the document must be a JSON object");
  }
  const doc = raw as Record<string, unknown>;
  // Unknown keys are rejected: a typo such as `block_private_network` must not silently weaken the policy.
  for (const key of Object.keys(doc)) {
    if (!knownFields.includes(key)) fail(key, `is not a known field (expected ${knownFields.join(", ")})`);
  }

  if (doc.mode !== "allowlist" && doc.mode !== "denylist") fail("mode", 'must be "allowlist" or "denylist"');
  const mode = doc.mode as EgressMode;

  if (!Array.isArray(doc.allowed_schemes) || doc.allowed_schemes.length === 0) {
    fail("allowed_schemes", 'must be a non-empty array of "http" / "https"');
  }
  const schemes = doc.allowed_schemes as unknown[];
  schemes.forEach((s, i) => {
    if (s !== "http" && s !== "https") fail(`allowed_schemes[${i}]`, `must be "http" or "https", got ${JSON.stringify(s)}`);
  });

  for (const field of ["block_ip_literals", "block_private_networks"] as const) {
    if (typeof doc[field] !== "boolean") fail(field, "must be true or false");
  }

  if (!Array.isArray(doc.rules)) fail("rules", "must be an array (may be empty)");
  const hosts = new Set<string>();
  const suffixes: string[] = [];
  const cidrs: Cidr[] = [];
  const rules: EgressPolicyDocument["rules"] = [];
  (doc.rules as unknown[]).forEach((rule, i) => {
    const at = `rules[${i}]`;
    if (typeof rule !== "object" || rule === null || Array.isArray(rule)) fail(at, 'must be an object {"kind", "value"}');
    const r = rule as Record<string, unknown>;
    for (const key of Object.keys(r)) if (key !== "kind" && key !== "value") fail(`${at}.${key}`, "is not a known field (expected kind, value)");
    if (typeof r.value !== "string" || r.value.trim() === "") fail(`${at}.value`, "must be a non-empty string");
    const value = r.value as string;
    switch (r.kind) {
      case "host": {
        const host = normalizeHost(value);
        if (!isHostname(host) && parseIp(host) === null) fail(`${at}.value`, `must be a bare host name or IP (no scheme, port or path), got ${JSON.stringify(value)}`);
        hosts.add(host);
        break;
      }
      case "suffix": {
        const suffix = normalizeHost(value);
        if (!suffix.startsWith(".")) fail(`${at}.value`, `must start with "." (e.g. ".example.com"), got ${JSON.stringify(value)}`);
        if (!isHostname(suffix.slice(1))) fail(`${at}.value`, `must be "." followed by a domain name, got ${JSON.stringify(value)}`);
        suffixes.push(suffix);
        break;
      }
      case "cidr": {
        try {
          cidrs.push(parseCidr(value));
        } catch (error) {
          // Only syntax errors are expected here; re-raise them with the field path the operator needs.
          if (!(error instanceof CidrSyntaxError)) throw error;
          fail(`${at}.value`, error.message);
        }
        break;
      }
      default:
        fail(`${at}.kind`, `must be "host", "suffix" or "cidr", got ${JSON.stringify(r.kind)}`);
    }
    rules.push({ kind: r.kind as EgressRuleKind, value });
  });

  return Object.freeze({
    mode,
    allowedSchemes: new Set(schemes as string[]),
    blockIpLiterals: doc.block_ip_literals as boolean,
    blockPrivateNetworks: doc.block_private_networks as boolean,
    hosts,
    suffixes,
    cidrs,
    document: {
      mode,
      allowed_schemes: [...(schemes as EgressScheme[])],
      block_ip_literals: doc.block_ip_literals as boolean,
      block_private_networks: doc.block_private_networks as boolean,
      rules,
    },
  });
}

/** Parses policy file text; `origin` (a path) is named in errors. */
export function parseEgressPolicyJson(text: string, origin = "egress policy"): EgressPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // Re-raised as a policy error so the CLI prints one clear line naming the file.
    throw new EgressPolicyError(`Invalid code interpreter egress policy ${origin}: not valid JSON (${(error as Error).message})`);
  }
  try {
    return parseEgressPolicy(raw);
  } catch (error) {
    if (error instanceof EgressPolicyError) throw new EgressPolicyError(`${error.message} (in ${origin})`);
    throw error;
  }
}

export function defaultEgressPolicy(): EgressPolicy {
  return parseEgressPolicy(structuredClone(DEFAULT_EGRESS_POLICY_DOCUMENT));
}

export type EgressDenialReason =
  | "invalid_url"
  | "scheme_not_allowed"
  | "ip_literal_blocked"
  | "unresolved_host"
  | "special_use_address_blocked"
  | "host_not_allowlisted"
  | "cidr_not_allowlisted"
  | "host_denylisted"
  | "cidr_denylisted";

export type EgressAllowReason = "host_allowlisted" | "cidr_allowlisted" | "not_denylisted";

export type EgressDecision =
  | { allowed: true; reason: EgressAllowReason; host: string; scheme: string }
  | { allowed: false; reason: EgressDenialReason; host: string; scheme: string; message: string };

/**
 * The checks that need no DNS (URL shape, scheme, IP literals): lets the adapter refuse `file://` or a blocked
 * literal without a lookup. Returns null when resolution is needed to decide.
 */
export function precheckEgress(policy: EgressPolicy, url: string | URL): EgressDecision | null {
  const target = parseTarget(url);
  if ("decision" in target) return target.decision;
  const { host, scheme, literal } = target;
  if (!policy.allowedSchemes.has(scheme)) return deny("scheme_not_allowed", host, scheme);
  if (literal !== null && policy.blockIpLiterals) return deny("ip_literal_blocked", host, scheme);
  return null;
}

/**
 * Order (§6.2): scheme → IP literal → special-use addresses (on every resolved address) → allowlist (host or
 * suffix match, or *all* addresses inside a cidr rule) / denylist (host or suffix match, or *any* address
 * inside a cidr rule). For an IP-literal host the literal is the only address; `resolvedIps` is ignored.
 * Fails closed: a name with no usable resolved address is denied.
 */
export function evaluateEgress(policy: EgressPolicy, url: string | URL, resolvedIps: readonly string[]): EgressDecision {
  const early = precheckEgress(policy, url);
  if (early !== null) return early;
  const target = parseTarget(url);
  if ("decision" in target) return target.decision;
  const { host, scheme, literal } = target;

  const ips: IpAddress[] = literal !== null ? [literal] : resolvedIps.map(parseIp).filter((ip): ip is IpAddress => ip !== null);
  if (ips.length === 0) return deny("unresolved_host", host, scheme);

  if (policy.blockPrivateNetworks) {
    const special = ips.find(isSpecialUse);
    if (special) return deny("special_use_address_blocked", host, scheme, `ip=${special.text}`);
  }

  const hostMatched = policy.hosts.has(host) || policy.suffixes.some((suffix) => host.endsWith(suffix));
  const inCidr = (ip: IpAddress): boolean => policy.cidrs.some((c) => cidrContains(c, ip));
  if (policy.mode === "allowlist") {
    if (hostMatched) return { allowed: true, reason: "host_allowlisted", host, scheme };
    if (policy.cidrs.length > 0 && ips.every(inCidr)) return { allowed: true, reason: "cidr_allowlisted", host, scheme };
    return deny(policy.cidrs.length > 0 ? "cidr_not_allowlisted" : "host_not_allowlisted", host, scheme);
  }
  if (hostMatched) return deny("host_denylisted", host, scheme);
  const listed = ips.find(inCidr);
  if (listed) return deny("cidr_denylisted", host, scheme, `ip=${listed.text}`);
  return { allowed: true, reason: "not_denylisted", host, scheme };
}

/** The text Python sees (the original's wording, so prompts and tests written for it keep working). */
export function egressDeniedMessage(host: string, scheme: string, reason: string, detail?: string): string {
  return `Code interpreter egress denied: host=${host} scheme=${scheme} reason=${reason}${detail ? ` ${detail}` : ""}`;
}

/** True when `host` is an IP literal (as URL.hostname gives it, brackets included for IPv6). */
export function isIpLiteralHost(host: string): boolean {
  return parseIp(host) !== null;
}

function deny(reason: EgressDenialReason, host: string, scheme: string, detail?: string): EgressDecision {
  return { allowed: false, reason, host, scheme, message: egressDeniedMessage(host, scheme, reason, detail) };
}

type Target = { host: string; scheme: string; literal: IpAddress | null } | { decision: EgressDecision };

function parseTarget(url: string | URL): Target {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch (error) {
    // An unparsable URL can never be fetched; report it as a denial rather than a crash.
    const text = String(url).slice(0, 200);
    return { decision: { allowed: false, reason: "invalid_url", host: "", scheme: "", message: egressDeniedMessage("", "", "invalid_url", `url=${JSON.stringify(text)} (${(error as Error).message})`) } };
  }
  const scheme = parsed.protocol.replace(/:$/, "").toLowerCase();
  const host = normalizeHost(parsed.hostname);
  return { host, scheme, literal: parseIp(host) };
}

/** Lower case, no IPv6 brackets, no trailing root dot (`example.com.` is `example.com`). */
function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

function isHostname(host: string): boolean {
  return host.length > 0 && host.length <= 253 && host.split(".").every((label) => /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label));
}
