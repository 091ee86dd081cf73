/**
 * Which IP addresses a request-scoped remote MCP server may resolve to. The gateway fetches whatever URL a
 * client declares, so without this check any caller could make it talk to the host's loopback services, the
 * private network, or a cloud metadata endpoint (SSRF). Ranges: IANA special-purpose registries (RFC 6890 and
 * successors) for IPv4 and IPv6; IPv6 forms that embed an IPv4 address are judged by that address.
 */

export type NonPublicAddressKind =
  | "unspecified"
  | "loopback"
  | "private"
  | "shared (CGNAT)"
  | "link-local"
  | "cloud metadata"
  | "unique-local"
  | "multicast"
  | "documentation"
  | "reserved";

interface V4Range {
  base: number;
  bits: number;
  kind: NonPublicAddressKind;
}

const V4_RANGES: V4Range[] = [
  // Specific entries first so the message says "cloud metadata" rather than "link-local".
  { base: v4("169.254.169.254"), bits: 32, kind: "cloud metadata" },
  { base: v4("168.63.129.16"), bits: 32, kind: "cloud metadata" }, // Azure WireServer: public-looking, host-only.
  { base: v4("0.0.0.0"), bits: 8, kind: "unspecified" },
  { base: v4("10.0.0.0"), bits: 8, kind: "private" },
  { base: v4("100.64.0.0"), bits: 10, kind: "shared (CGNAT)" }, // also Alibaba's metadata 100.100.100.200
  { base: v4("127.0.0.0"), bits: 8, kind: "loopback" },
  { base: v4("169.254.0.0"), bits: 16, kind: "link-local" },
  { base: v4("172.16.0.0"), bits: 12, kind: "private" },
  { base: v4("192.0.0.0"), bits: 24, kind: "reserved" },
  { base: v4("192.0.2.0"), bits: 24, kind: "documentation" },
  { base: v4("192.88.99.0"), bits: 24, kind: "reserved" },
  { base: v4("192.168.0.0"), bits: 16, kind: "private" },
  { base: v4("198.18.0.0"), bits: 15, kind: "reserved" },
  { base: v4("198.51.100.0"), bits: 24, kind: "documentation" },
  { base: v4("203.0.113.0"), bits: 24, kind: "documentation" },
  { base: v4("224.0.0.0"), bits: 4, kind: "multicast" },
  { base: v4("240.0.0.0"), bits: 4, kind: "reserved" },
];

/** Dotted-quad IPv4 → 32-bit number, or null when `text` is not exactly four decimal octets. */
export function parseIpv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

/** IPv6 text (optionally `[…]`, zone id allowed) → eight 16-bit groups, or null when not IPv6. */
export function parseIpv6(text: string): number[] | null {
  let s = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(":")) return null;

  // A trailing dotted quad (::ffff:1.2.3.4) is rewritten as its two hex groups (::ffff:102:304).
  const lastColon = s.lastIndexOf(":");
  const last = s.slice(lastColon + 1);
  if (last.includes(".")) {
    const embedded = parseIpv4(last);
    if (embedded === null) return null;
    s = `${s.slice(0, lastColon + 1)}${(embedded >>> 16).toString(16)}:${(embedded & 0xffff).toString(16)}`;
  }

  const halves = s.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]);
  const rest = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (head === null || rest === null) return null;
  const total = head.length + rest.length;
  if (halves.length === 1) return total === 8 ? head : null;
  if (total > 7) return null;
  return [...head, ...new Array<number>(8 - total).fill(0), ...rest];
}

function parseGroups(part: string): number[] | null {
  if (part === "") return [];
  const groups: number[] = [];
  for (const g of part.split(":")) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    groups.push(parseInt(g, 16));
  }
  return groups;
}

/** Null for a public unicast address; otherwise why it is not one. Unparseable text counts as "reserved". */
export function nonPublicAddressKind(address: string): NonPublicAddressKind | null {
  const v4value = parseIpv4(address);
  if (v4value !== null) return classifyV4(v4value);
  const groups = parseIpv6(address);
  if (groups === null) return "reserved";
  return classifyV6(groups);
}

function classifyV4(value: number): NonPublicAddressKind | null {
  for (const range of V4_RANGES) {
    const mask = range.bits === 0 ? 0 : (0xffffffff << (32 - range.bits)) >>> 0;
    if (((value & mask) >>> 0) === ((range.base & mask) >>> 0)) return range.kind;
  }
  return null;
}

function classifyV6(g: number[]): NonPublicAddressKind | null {
  const embeddedV4 = (hi: number, lo: number): number => hi * 0x10000 + lo;
  const zeroUpTo = (n: number): boolean => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return "unspecified";
  if (zeroUpTo(7) && g[7] === 1) return "loopback";
  // ::ffff:a.b.c.d (IPv4-mapped) and the deprecated ::a.b.c.d (IPv4-compatible).
  if (zeroUpTo(5) && g[5] === 0xffff) return classifyV4(embeddedV4(g[6], g[7]));
  if (zeroUpTo(6)) return classifyV4(embeddedV4(g[6], g[7]));
  // 64:ff9b::/96 NAT64: the gateway's NAT64 would forward to the embedded IPv4 address.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyV4(embeddedV4(g[6], g[7]));
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return "private"; // 64:ff9b:1::/48 local-use NAT64
  if (g[0] === 0x2002) return classifyV4(embeddedV4(g[1], g[2])); // 6to4
  if (g[0] === 0x0100 && g[1] === 0 && g[2] === 0 && g[3] === 0) return "reserved"; // 100::/64 discard
  if (g[0] === 0x2001 && g[1] === 0) return "reserved"; // Teredo: tunnels to an obfuscated IPv4 address
  if (g[0] === 0x2001 && g[1] === 0x0db8) return "documentation";
  if (g[0] === 0x3fff && g[1] <= 0x0fff) return "documentation"; // 3fff::/20
  if ((g[0] & 0xffc0) === 0xfe80) return "link-local";
  if ((g[0] & 0xffc0) === 0xfec0) return "private"; // deprecated site-local
  if ((g[0] & 0xfe00) === 0xfc00) return "unique-local"; // includes AWS metadata fd00:ec2::254
  if ((g[0] & 0xff00) === 0xff00) return "multicast";
  return null;
}

function v4(text: string): number {
  const value = parseIpv4(text);
  if (value === null) throw new Error(`bad IPv4 constant ${text}`);
  return value;
}
