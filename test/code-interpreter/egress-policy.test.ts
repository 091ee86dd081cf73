import { describe, expect, test } from "vitest";
import {
  DEFAULT_EGRESS_POLICY_DOCUMENT,
  defaultEgressPolicy,
  type EgressPolicyDocument,
  EgressPolicyError,
  evaluateEgress,
  parseEgressPolicy,
  parseEgressPolicyJson,
  precheckEgress,
} from "../../src/tools/code-interpreter/egress-policy.js";
import { cidrContains, isSpecialUse, parseCidr, parseIp } from "../../src/tools/code-interpreter/ip-address.js";

const policy = (overrides: Partial<EgressPolicyDocument>) =>
  parseEgressPolicy({ mode: "denylist", allowed_schemes: ["http", "https"], block_ip_literals: false, block_private_networks: false, rules: [], ...overrides });

describe("ip addresses", () => {
  test("parse IPv4, IPv6 (compressed, embedded v4, brackets, zone ids) and reject junk", () => {
    expect(parseIp("10.1.2.3")?.value).toBe(0x0a010203n);
    expect(parseIp("[::1]")?.value).toBe(1n);
    expect(parseIp("fe80::1%eth0")).toMatchObject({ family: 6, text: "fe80::1" });
    expect(parseIp("::ffff:127.0.0.1")?.value).toBe(0xffff7f000001n);
    expect(parseIp("2001:DB8::")?.value).toBe(0x20010db8n << 96n);
    for (const bad of ["256.1.1.1", "1.2.3", "1.2.3.4.5", "01234::1::2", "1:2:3:4:5:6:7:8:9", "example.com", "", ":::"]) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });

  test("CIDR containment, host bits masked, families kept apart, v4-mapped v6 matches v4 rules", () => {
    const net = parseCidr("10.1.2.3/8");
    expect(net.network).toBe(0x0a000000n);
    expect(cidrContains(net, parseIp("10.255.0.1")!)).toBe(true);
    expect(cidrContains(net, parseIp("11.0.0.1")!)).toBe(false);
    expect(cidrContains(parseCidr("0.0.0.0/0"), parseIp("::1")!)).toBe(false);
    expect(cidrContains(parseCidr("2001:db8::/32"), parseIp("2001:db8:ffff::1")!)).toBe(true);
    expect(cidrContains(parseCidr("127.0.0.0/8"), parseIp("::ffff:127.0.0.1")!)).toBe(true);
    expect(() => parseCidr("10.0.0.0")).toThrow(/CIDR/);
    expect(() => parseCidr("10.0.0.0/33")).toThrow(/prefix/);
    expect(() => parseCidr("::/129")).toThrow(/prefix/);
  });

  test("special-use ranges of §6.2, IPv4 and IPv6", () => {
    for (const ip of ["0.1.2.3", "10.0.0.1", "100.64.0.1", "127.0.0.1", "169.254.169.254", "172.31.255.255", "192.0.0.8", "192.168.1.1", "198.19.0.1", "224.0.0.1", "255.255.255.255", "::", "::1", "fd00::1", "fe80::1", "ff02::1", "2001:db8::1", "::ffff:10.0.0.1"]) {
      expect(isSpecialUse(parseIp(ip)!), ip).toBe(true);
    }
    for (const ip of ["1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"]) {
      expect(isSpecialUse(parseIp(ip)!), ip).toBe(false);
    }
  });
});

describe("egress policy evaluation", () => {
  test("scheme is checked first, before DNS (precheck) and with addresses", () => {
    const p = policy({ allowed_schemes: ["https"] });
    expect(precheckEgress(p, "http://example.com/")).toMatchObject({ allowed: false, reason: "scheme_not_allowed" });
    expect(precheckEgress(p, "https://example.com/")).toBeNull();
    expect(evaluateEgress(p, "ftp://example.com/", ["93.184.216.34"])).toMatchObject({ allowed: false, reason: "scheme_not_allowed", scheme: "ftp" });
    expect(evaluateEgress(p, "https://example.com/", ["93.184.216.34"])).toMatchObject({ allowed: true, reason: "not_denylisted" });
  });

  test("IP literals: blocked when configured, otherwise the literal is the address (resolvedIps ignored)", () => {
    const blocking = policy({ block_ip_literals: true });
    expect(evaluateEgress(blocking, "http://93.184.216.34/", [])).toMatchObject({ allowed: false, reason: "ip_literal_blocked" });
    expect(evaluateEgress(blocking, "http://[2606:4700::1111]/", [])).toMatchObject({ allowed: false, reason: "ip_literal_blocked", host: "2606:4700::1111" });
    // The WHATWG URL parser canonicalises numeric hosts, so these are literals too.
    expect(evaluateEgress(blocking, "http://2130706433/", [])).toMatchObject({ allowed: false, reason: "ip_literal_blocked", host: "127.0.0.1" });
    const open = policy({ block_private_networks: true });
    expect(evaluateEgress(open, "http://0x7f.1/", ["8.8.8.8"])).toMatchObject({ allowed: false, reason: "special_use_address_blocked" });
  });

  test("special-use block applies to every resolved address (one private answer is enough)", () => {
    const p = policy({ block_private_networks: true });
    const decision = evaluateEgress(p, "http://mixed.example/", ["93.184.216.34", "10.0.0.5"]);
    expect(decision).toMatchObject({ allowed: false, reason: "special_use_address_blocked" });
    expect(decision.allowed ? "" : decision.message).toBe("Code interpreter egress denied: host=mixed.example scheme=http reason=special_use_address_blocked ip=10.0.0.5");
    expect(evaluateEgress(p, "http://[::ffff:169.254.169.254]/", [])).toMatchObject({ allowed: false, reason: "special_use_address_blocked" });
    expect(evaluateEgress(p, "http://v6.example/", ["fe80::1"])).toMatchObject({ allowed: false });
  });

  test("allowlist: host rule, suffix rule, or ALL addresses inside a cidr rule", () => {
    const p = policy({
      mode: "allowlist",
      rules: [
        { kind: "host", value: "API.Example.com." },
        { kind: "suffix", value: ".trusted.org" },
        { kind: "cidr", value: "203.0.113.0/24" },
        { kind: "cidr", value: "2001:db8:1::/48" },
      ],
    });
    expect(evaluateEgress(p, "https://api.example.com/x", ["93.184.216.34"])).toMatchObject({ allowed: true, reason: "host_allowlisted" });
    expect(evaluateEgress(p, "https://a.b.trusted.org/", ["93.184.216.34"])).toMatchObject({ allowed: true, reason: "host_allowlisted" });
    // A suffix rule does not match the bare domain or look-alikes.
    expect(evaluateEgress(p, "https://trusted.org/", ["93.184.216.34"])).toMatchObject({ allowed: false, reason: "cidr_not_allowlisted" });
    expect(evaluateEgress(p, "https://eviltrusted.org/", ["93.184.216.34"])).toMatchObject({ allowed: false });
    expect(evaluateEgress(p, "https://cdn.example/", ["203.0.113.9", "2001:db8:1::7"])).toMatchObject({ allowed: true, reason: "cidr_allowlisted" });
    expect(evaluateEgress(p, "https://cdn.example/", ["203.0.113.9", "198.51.100.1"])).toMatchObject({ allowed: false, reason: "cidr_not_allowlisted" });
    const hostsOnly = policy({ mode: "allowlist", rules: [{ kind: "host", value: "a.example" }] });
    expect(evaluateEgress(hostsOnly, "https://b.example/", ["93.184.216.34"])).toMatchObject({ allowed: false, reason: "host_not_allowlisted" });
  });

  test("denylist: host/suffix match or ANY address inside a cidr rule denies", () => {
    const p = policy({
      rules: [
        { kind: "host", value: "blocked.example" },
        { kind: "suffix", value: ".internal" },
        { kind: "cidr", value: "198.51.100.0/24" },
      ],
    });
    expect(evaluateEgress(p, "http://blocked.example/", ["93.184.216.34"])).toMatchObject({ allowed: false, reason: "host_denylisted" });
    expect(evaluateEgress(p, "http://db.corp.internal/", ["93.184.216.34"])).toMatchObject({ allowed: false, reason: "host_denylisted" });
    expect(evaluateEgress(p, "http://x.example/", ["93.184.216.34", "198.51.100.20"])).toMatchObject({ allowed: false, reason: "cidr_denylisted" });
    expect(evaluateEgress(p, "http://x.example/", ["93.184.216.34"])).toMatchObject({ allowed: true, reason: "not_denylisted" });
  });

  test("fails closed: a name without usable addresses and an unparsable URL are denied", () => {
    const p = policy({});
    expect(evaluateEgress(p, "http://nowhere.example/", [])).toMatchObject({ allowed: false, reason: "unresolved_host" });
    expect(evaluateEgress(p, "http://nowhere.example/", ["not-an-ip"])).toMatchObject({ allowed: false, reason: "unresolved_host" });
    expect(evaluateEgress(p, "not a url", [])).toMatchObject({ allowed: false, reason: "invalid_url" });
  });

  test("default policy: public http/https allowed; loopback, private, link-local/metadata and other schemes denied", () => {
    const p = defaultEgressPolicy();
    expect(p.document).toEqual(DEFAULT_EGRESS_POLICY_DOCUMENT);
    expect(evaluateEgress(p, "https://pypi.org/simple/", ["151.101.0.223"])).toMatchObject({ allowed: true });
    expect(evaluateEgress(p, "http://1.1.1.1/", [])).toMatchObject({ allowed: true });
    for (const [url, ips] of [
      ["http://127.0.0.1:8080/", []],
      ["http://localhost/", ["127.0.0.1", "::1"]],
      ["http://169.254.169.254/latest/meta-data/", []],
      ["http://[::1]/", []],
      ["http://router.lan/", ["192.168.0.1"]],
    ] as const) {
      expect(evaluateEgress(p, url, ips), url).toMatchObject({ allowed: false, reason: "special_use_address_blocked" });
    }
    expect(evaluateEgress(p, "file:///etc/passwd", [])).toMatchObject({ allowed: false, reason: "scheme_not_allowed" });
  });
});

describe("egress policy validation", () => {
  const valid = { mode: "allowlist", allowed_schemes: ["https"], block_ip_literals: true, block_private_networks: true, rules: [] };

  test.each([
    [[], /document must be a JSON object/],
    [{ ...valid, mode: "block" }, /`mode` must be "allowlist" or "denylist"/],
    [{ ...valid, allowed_schemes: [] }, /`allowed_schemes` must be a non-empty array/],
    [{ ...valid, allowed_schemes: ["https", "ftp"] }, /`allowed_schemes\[1\]` must be "http" or "https"/],
    [{ ...valid, block_ip_literals: "yes" }, /`block_ip_literals` must be true or false/],
    [{ ...valid, block_private_networks: undefined }, /`block_private_networks` must be true or false/],
    [{ ...valid, rules: {} }, /`rules` must be an array/],
    [{ ...valid, rules: ["example.com"] }, /`rules\[0\]` must be an object/],
    [{ ...valid, rules: [{ kind: "domain", value: "x" }] }, /`rules\[0\].kind` must be "host", "suffix" or "cidr"/],
    [{ ...valid, rules: [{ kind: "host", value: "" }] }, /`rules\[0\].value` must be a non-empty string/],
    [{ ...valid, rules: [{ kind: "host", value: "https://example.com/x" }] }, /`rules\[0\].value` must be a bare host name/],
    [{ ...valid, rules: [{ kind: "suffix", value: "example.com" }] }, /`rules\[0\].value` must start with "."/],
    [{ ...valid, rules: [{ kind: "host", value: "a.example" }, { kind: "cidr", value: "10.0.0.0/40" }] }, /`rules\[1\].value` .*invalid prefix/],
    [{ ...valid, rules: [{ kind: "cidr", value: "not-an-ip/8" }] }, /`rules\[0\].value` .*does not start with an IPv4 or IPv6 address/],
    [{ ...valid, rules: [{ kind: "host", value: "a.example", note: "x" }] }, /`rules\[0\].note` is not a known field/],
    [{ ...valid, block_private_network: true }, /`block_private_network` is not a known field/],
  ])("rejects %j", (doc, message) => {
    expect(() => parseEgressPolicy(doc)).toThrow(EgressPolicyError);
    expect(() => parseEgressPolicy(doc)).toThrow(message);
  });

  test("JSON text errors name the file", () => {
    expect(() => parseEgressPolicyJson("{", "/etc/vr/policy.json")).toThrow(/\/etc\/vr\/policy.json: not valid JSON/);
    expect(() => parseEgressPolicyJson('{"mode":"x"}', "/etc/vr/policy.json")).toThrow(/`mode`.*\(in \/etc\/vr\/policy.json\)/);
  });

  test("the original's example policy parses", () => {
    const p = parseEgressPolicyJson(
      JSON.stringify({
        mode: "allowlist",
        allowed_schemes: ["https"],
        block_ip_literals: true,
        block_private_networks: true,
        rules: [
          { kind: "host", value: "pypi.org" },
          { kind: "suffix", value: ".githubusercontent.com" },
          { kind: "cidr", value: "140.82.112.0/20" },
        ],
      }),
    );
    expect(p.mode).toBe("allowlist");
    expect([...p.hosts]).toEqual(["pypi.org"]);
    expect(p.suffixes).toEqual([".githubusercontent.com"]);
    expect(p.cidrs.map((c) => c.text)).toEqual(["140.82.112.0/20"]);
  });
});
