/**
 * Admission rules for request-scoped remote MCP servers (`{"type":"mcp","server_url":…}`): the URL a client
 * declares is fetched *by the gateway*, from inside its network, so it is checked before any connection.
 *
 * URL checks (`VR_MCP_REQUEST_REMOTE_URL_CHECKS`, on by default): https only, a host, no `localhost` /
 * `*.localhost`, no IP literals, and every address the host resolves to must be public (not private, loopback,
 * link-local, CGNAT, cloud metadata, unique-local …, see ip-address-ranges.ts).
 *
 * DNS is injected because runtimes differ: Node passes `node:dns` (adapters/node/mcp/resolve-host.ts); Deno and
 * Bun can pass `Deno.resolveDns` / `Bun.dns.lookup`; Cloudflare Workers has no DNS API, so it passes `null` —
 * acceptable there because a Worker's fetch leaves from Cloudflare's edge and cannot reach the operator's private
 * network or a metadata service in the first place. Note the check is check-then-connect: fetch resolves again,
 * so a DNS-rebinding attacker can still race it; pass a `fetch` that pins vetted addresses to close that gap.
 */
import { nonPublicAddressKind, parseIpv4, parseIpv6 } from "./ip-address-ranges.js";

export type ResolveHost = (host: string) => Promise<string[]>;

export interface RemoteMcpUrlPolicy {
  /** `VR_MCP_REQUEST_REMOTE_URL_CHECKS`. When false only "absolute http(s) URL without credentials" is checked. */
  urlChecks: boolean;
  /** `null` = this runtime cannot resolve names; the post-resolution address check is skipped (see above). */
  resolveHost: ResolveHost | null;
}

/** A declaration the gateway refuses: → 400 `invalid_request_error` with `param`. */
export class RemoteMcpPolicyError extends Error {
  override readonly name = "RemoteMcpPolicyError";
  constructor(
    message: string,
    /** e.g. `tools[2].server_url`. */
    readonly param: string,
  ) {
    super(message);
  }
}

/** Validates `tools[index].server_url`; resolves to the parsed URL or throws RemoteMcpPolicyError. */
export async function checkRemoteMcpServerUrl(serverUrl: unknown, index: number, policy: RemoteMcpUrlPolicy): Promise<URL> {
  const param = `tools[${index}].server_url`;
  const reject = (problem: string): never => {
    throw new RemoteMcpPolicyError(`${param} ${problem}`, param);
  };
  if (typeof serverUrl !== "string" || serverUrl.length === 0) return reject("must be a non-empty string");
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    return reject("must be an absolute URL");
  }
  // fetch() refuses URLs with credentials anyway; saying so here beats an opaque TypeError at connect time.
  if (url.username || url.password) reject("must not contain credentials; use `authorization` or `headers`");
  if (policy.urlChecks) {
    if (url.protocol !== "https:") reject("must use https");
  } else if (url.protocol !== "https:" && url.protocol !== "http:") {
    reject("must use http or https");
  }
  const host = url.hostname;
  if (host.length === 0) reject("must include a host");
  if (!policy.urlChecks) return url;

  const bareHost = host.toLowerCase().replace(/\.$/, "");
  if (bareHost === "localhost" || bareHost.endsWith(".localhost")) reject("must not point at localhost");
  // WHATWG URL parsing already normalised 0x7f.1, 2130706433 etc. to dotted quads, so this catches them too.
  if (host.startsWith("[") || parseIpv4(host) !== null || parseIpv6(host) !== null) {
    reject("must use a host name, not an IP address");
  }
  if (policy.resolveHost === null) return url;

  let addresses: string[];
  try {
    addresses = await policy.resolveHost(bareHost);
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    return reject(`host could not be resolved${typeof code === "string" ? ` (${code})` : ""}`);
  }
  if (addresses.length === 0) reject("host could not be resolved (no addresses)");
  for (const address of addresses) {
    const kind = nonPublicAddressKind(address);
    // The address itself is not echoed: it would turn this check into an oracle for the internal DNS.
    if (kind !== null) reject(`host resolves to a non-public (${kind}) address`);
  }
  return url;
}

/** Headers the MCP transport owns or that HTTP forbids a client to set. */
const FORBIDDEN_HEADERS = new Set([
  "host",
  "content-length",
  "content-type",
  "accept",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "mcp-session-id",
  "mcp-protocol-version",
  "last-event-id",
]);
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The headers to send to `tools[index]`'s server. `authorization` (the Responses API field, a bare token) wins:
 * it becomes `Authorization: Bearer <token>` and replaces every case variant of an Authorization header.
 * Without it, more than one Authorization variant in `headers` is ambiguous and rejected.
 */
export function buildRemoteMcpHeaders(index: number, headers: unknown, authorization: unknown): Record<string, string> {
  const headersParam = `tools[${index}].headers`;
  const rejectHeaders = (problem: string): never => {
    throw new RemoteMcpPolicyError(`${headersParam} ${problem}`, headersParam);
  };
  const out: Record<string, string> = {};
  const authorizationNames: string[] = [];
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== "object" || Array.isArray(headers)) rejectHeaders("must be an object of string → string");
    for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
      if (!HEADER_NAME_PATTERN.test(name)) rejectHeaders(`has an invalid header name '${name}'`);
      // Never echo the value: headers are where the secrets are.
      if (typeof value !== "string") rejectHeaders(`value of '${name}' must be a string`);
      if (/[\r\n\0]/.test(value as string)) rejectHeaders(`value of '${name}' must not contain CR, LF or NUL`);
      const lower = name.toLowerCase();
      if (FORBIDDEN_HEADERS.has(lower)) rejectHeaders(`must not set '${name}' (managed by the MCP transport)`);
      if (lower === "authorization") authorizationNames.push(name);
      out[name] = value as string;
    }
  }

  if (authorization !== undefined && authorization !== null) {
    const authParam = `tools[${index}].authorization`;
    if (typeof authorization !== "string" || authorization.trim().length === 0) {
      throw new RemoteMcpPolicyError(`${authParam} must be a non-empty string`, authParam);
    }
    if (/[\r\n\0]/.test(authorization)) {
      throw new RemoteMcpPolicyError(`${authParam} must not contain CR, LF or NUL`, authParam);
    }
    for (const name of authorizationNames) delete out[name];
    // Tolerate a client that already wrote the scheme rather than sending "Bearer Bearer …".
    const token = authorization.trim().replace(/^bearer\s+/i, "");
    out["Authorization"] = `Bearer ${token}`;
    return out;
  }
  if (authorizationNames.length > 1) {
    rejectHeaders(`has more than one Authorization header (${authorizationNames.join(", ")}); send one, or use \`authorization\``);
  }
  return out;
}
