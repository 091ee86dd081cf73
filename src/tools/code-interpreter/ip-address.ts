/**
 * IP literal parsing and CIDR matching for the egress policy. Pure (no `node:net`) so the policy can be
 * evaluated on any runtime. Addresses are 32/128-bit bigints, which keeps prefix arithmetic trivial.
 */

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
  /** Canonical text: dotted quad, or the IPv6 text as given (lower-cased, zone id dropped). */
  text: string;
}

export interface Cidr {
  family: 4 | 6;
  network: bigint;
  prefix: number;
  text: string;
}

const width = (family: 4 | 6): number => (family === 4 ? 32 : 128);

/** `[::1]` (URL host form), zone ids (`fe80::1%eth0`) and case are normalised away. */
export function parseIp(raw: string): IpAddress | null {
  let text = raw.trim().toLowerCase();
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, value: v4, text };
  const zoneless = text.split("%", 1)[0] ?? "";
  const v6 = parseIpv6(zoneless);
  if (v6 !== null) return { family: 6, value: v6, text: zoneless };
  return null;
}

/** Strict dotted quad: the WHATWG URL parser has already turned `0x7f.1` or `2130706433` into this form. */
function parseIpv4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  if (!text.includes(":")) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = hextets(halves[0] ?? "");
  const tail = halves.length === 2 ? hextets(halves[1] ?? "") : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return all.reduce((acc, h) => (acc << 16n) | BigInt(h), 0n);
}

function hextets(part: string): number[] | null {
  if (part === "") return [];
  const out: number[] = [];
  const pieces = part.split(":");
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] ?? "";
    // An embedded IPv4 tail (`::ffff:10.0.0.1`) is only legal as the last piece.
    if (piece.includes(".") && i === pieces.length - 1) {
      const v4 = parseIpv4(piece);
      if (v4 === null) return null;
      out.push(Number((v4 >> 16n) & 0xffffn), Number(v4 & 0xffffn));
      continue;
    }
    if (!/^[0-9a-f]{1,4}$/.test(piece)) return null;
    out.push(parseInt(piece, 16));
  }
  return out;
}

/**
 * `::ffff:a.b.c.d` reaches the IPv4 host a.b.c.d on a dual-stack socket, so for policy purposes it *is*
 * that IPv4 address. Without this, `http://[::ffff:127.0.0.1]/` would slip past IPv4 ranges.
 */
export function unmapIpv4(ip: IpAddress): IpAddress {
  if (ip.family === 6 && ip.value >> 32n === 0xffffn) {
    const v4 = ip.value & 0xffffffffn;
    const text = [24n, 16n, 8n, 0n].map((s) => String((v4 >> s) & 0xffn)).join(".");
    return { family: 4, value: v4, text };
  }
  return ip;
}

export class CidrSyntaxError extends Error {
  override name = "CidrSyntaxError";
}

/** `addr/prefix`; host bits are masked off (`10.1.2.3/8` means 10.0.0.0/8), as most firewalls read it. */
export function parseCidr(raw: string): Cidr {
  const text = raw.trim();
  const slash = text.indexOf("/");
  if (slash < 0) throw new CidrSyntaxError(`"${raw}" is not CIDR notation (expected address/prefix, e.g. 10.0.0.0/8)`);
  const ip = parseIp(text.slice(0, slash));
  if (ip === null) throw new CidrSyntaxError(`"${raw}" does not start with an IPv4 or IPv6 address`);
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > width(ip.family)) {
    throw new CidrSyntaxError(`"${raw}" has an invalid prefix length (0-${width(ip.family)} for IPv${ip.family})`);
  }
  return { family: ip.family, network: mask(ip.value, prefix, ip.family), prefix, text };
}

function mask(value: bigint, prefix: number, family: 4 | 6): bigint {
  const hostBits = BigInt(width(family) - prefix);
  return (value >> hostBits) << hostBits;
}

/** IPv4-mapped IPv6 addresses match IPv4 rules (see unmapIpv4). */
export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  const ip = unmapIpv4(address);
  if (ip.family !== cidr.family) return false;
  return mask(ip.value, cidr.prefix, ip.family) === cidr.network;
}

/**
 * Special-use ranges blocked by `block_private_networks` (the original's list, §6.2): "this" network, RFC 1918,
 * CGNAT, loopback, link-local (cloud metadata at 169.254.169.254), IETF protocol assignments, benchmarking,
 * multicast, reserved; IPv6 unspecified, loopback, ULA, link-local, multicast, documentation.
 */
const specialUse: readonly Cidr[] = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "224.0.0.0/4",
  "240.0.0.0/4",
  "::/128",
  "::1/128",
  "fc00::/7",
  "fe80::/10",
  "ff00::/8",
  "2001:db8::/32",
].map(parseCidr);

export function isSpecialUse(ip: IpAddress): boolean {
  return specialUse.some((range) => cidrContains(range, ip));
}
