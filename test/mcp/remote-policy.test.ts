import { describe, expect, it } from "vitest";
import { resolveHostWithNodeDns } from "../../adapters/node/mcp/resolve-host.js";
import { nonPublicAddressKind, parseIpv6 } from "../../src/tools/mcp/ip-address-ranges.js";
import {
  buildRemoteMcpHeaders,
  checkRemoteMcpServerUrl,
  RemoteMcpPolicyError,
  type RemoteMcpUrlPolicy,
  type ResolveHost,
} from "../../src/tools/mcp/remote-policy.js";

/** A fake DNS: the policy's resolver is injected precisely so tests (and Workers) can supply their own. */
const dns: Record<string, string[]> = {
  "public.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
  "ten.example": ["93.184.216.34", "10.1.2.3"],
  "loop.example": ["127.0.0.1"],
  "metadata.example": ["169.254.169.254"],
  "ula.example": ["fd00::1"],
  "cgnat.example": ["100.64.0.7"],
  "mapped.example": ["::ffff:192.168.1.1"],
  "empty.example": [],
};
const resolveHost: ResolveHost = async (host) => {
  const answer = dns[host];
  if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  return answer;
};
const checks: RemoteMcpUrlPolicy = { urlChecks: true, resolveHost };

async function rejection(url: unknown, index = 3, policy: RemoteMcpUrlPolicy = checks): Promise<RemoteMcpPolicyError> {
  try {
    await checkRemoteMcpServerUrl(url, index, policy);
  } catch (error) {
    expect(error).toBeInstanceOf(RemoteMcpPolicyError);
    return error as RemoteMcpPolicyError;
  }
  throw new Error(`expected ${String(url)} to be rejected`);
}

describe("remote MCP URL policy", () => {
  it("admits a public https host", async () => {
    const url = await checkRemoteMcpServerUrl("https://public.example/mcp?x=1", 0, checks);
    expect(url.href).toBe("https://public.example/mcp?x=1");
  });

  it.each([
    ["http://public.example/mcp", /must use https/],
    ["https://localhost/mcp", /must not point at localhost/],
    ["https://LOCALHOST./mcp", /must not point at localhost/],
    ["https://api.localhost/mcp", /must not point at localhost/],
    ["https://10.0.0.1/mcp", /not an IP address/],
    ["https://8.8.8.8/mcp", /not an IP address/],
    ["https://2130706433/mcp", /not an IP address/], // WHATWG URL turns this into 127.0.0.1
    ["https://[::1]/mcp", /not an IP address/],
    ["https://[2606:4700::1111]/mcp", /not an IP address/],
    ["https://ten.example/mcp", /non-public \(private\) address/],
    ["https://loop.example/mcp", /non-public \(loopback\) address/],
    ["https://metadata.example/mcp", /non-public \(cloud metadata\) address/],
    ["https://ula.example/mcp", /non-public \(unique-local\) address/],
    ["https://cgnat.example/mcp", /non-public \(shared \(CGNAT\)\) address/],
    ["https://mapped.example/mcp", /non-public \(private\) address/],
    ["https://nxdomain.example/mcp", /could not be resolved \(ENOTFOUND\)/],
    ["https://empty.example/mcp", /could not be resolved \(no addresses\)/],
    ["https://user:pw@public.example/mcp", /must not contain credentials/],
    ["not a url", /must be an absolute URL/],
    ["", /must be a non-empty string/],
    [42, /must be a non-empty string/],
  ])("%s is rejected", async (url, message) => {
    const error = await rejection(url);
    expect(error.param).toBe("tools[3].server_url");
    expect(error.message).toMatch(/^tools\[3\]\.server_url /);
    expect(error.message).toMatch(message);
  });

  it("never echoes the resolved address (no internal-DNS oracle)", async () => {
    expect((await rejection("https://ten.example/mcp")).message).not.toContain("10.1.2.3");
  });

  it("with checks off allows http, localhost and IPs but still needs an http(s) URL without credentials", async () => {
    const off: RemoteMcpUrlPolicy = { urlChecks: false, resolveHost };
    expect((await checkRemoteMcpServerUrl("http://127.0.0.1:8080/mcp", 0, off)).host).toBe("127.0.0.1:8080");
    expect((await checkRemoteMcpServerUrl("http://localhost/mcp", 0, off)).hostname).toBe("localhost");
    expect((await rejection("ftp://public.example/", 1, off)).message).toMatch(/must use http or https/);
    expect((await rejection("https://u:p@x.example/", 1, off)).message).toMatch(/credentials/);
  });

  it("skips only the DNS step when the runtime has no resolver", async () => {
    const noDns: RemoteMcpUrlPolicy = { urlChecks: true, resolveHost: null };
    expect((await checkRemoteMcpServerUrl("https://ten.example/mcp", 0, noDns)).hostname).toBe("ten.example");
    expect((await rejection("https://localhost/mcp", 0, noDns)).message).toMatch(/localhost/);
  });

  it("the Node resolver resolves real names (localhost needs no network)", async () => {
    const addresses = await resolveHostWithNodeDns("localhost");
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.every((a) => nonPublicAddressKind(a) === "loopback")).toBe(true);
  });
});

describe("address classification", () => {
  it.each([
    ["0.0.0.0", "unspecified"],
    ["10.255.255.255", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["100.64.0.1", "shared (CGNAT)"],
    ["100.127.255.255", "shared (CGNAT)"],
    ["127.0.0.53", "loopback"],
    ["169.254.1.1", "link-local"],
    ["169.254.169.254", "cloud metadata"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["fe80::1%eth0", "link-local"],
    ["fc00::1", "unique-local"],
    ["fd00:ec2::254", "unique-local"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["64:ff9b::10.0.0.1", "private"],
    ["2002:a9fe:a9fe::1", "cloud metadata"],
    ["2001:db8::1", "documentation"],
    ["not-an-ip", "reserved"],
  ])("%s → %s", (address, kind) => {
    expect(nonPublicAddressKind(address)).toBe(kind);
  });

  it.each(["93.184.216.34", "172.32.0.1", "100.128.0.1", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8"])(
    "%s is public",
    (address) => {
      expect(nonPublicAddressKind(address)).toBeNull();
    },
  );

  it("parses IPv6 forms", () => {
    expect(parseIpv6("[::1]")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIpv6("::ffff:1.2.3.4")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseIpv6("1::2::3")).toBeNull();
    expect(parseIpv6("1:2:3:4:5:6:7")).toBeNull();
    expect(parseIpv6("example.com")).toBeNull();
  });
});

describe("remote MCP headers", () => {
  it("authorization becomes Authorization: Bearer and replaces every header variant", () => {
    expect(buildRemoteMcpHeaders(0, { authorization: "old", AUTHORIZATION: "older", "X-Trace": "1" }, "tok-123")).toEqual({
      "X-Trace": "1",
      Authorization: "Bearer tok-123",
    });
    expect(buildRemoteMcpHeaders(0, undefined, "Bearer already")).toEqual({ Authorization: "Bearer already" });
  });

  it("passes headers through when there is at most one Authorization variant", () => {
    expect(buildRemoteMcpHeaders(0, { Authorization: "Basic abc", "x-api-key": "k" }, undefined)).toEqual({
      Authorization: "Basic abc",
      "x-api-key": "k",
    });
    expect(buildRemoteMcpHeaders(0, null, null)).toEqual({});
  });

  it.each([
    [{ Authorization: "a", authorization: "b" }, undefined, "tools[2].headers", /more than one Authorization header/],
    [["x"], undefined, "tools[2].headers", /must be an object/],
    [{ "x-n": 1 }, undefined, "tools[2].headers", /value of 'x-n' must be a string/],
    [{ "bad name": "v" }, undefined, "tools[2].headers", /invalid header name/],
    [{ "x-a": "v\r\nInjected: 1" }, undefined, "tools[2].headers", /CR, LF/],
    [{ Host: "internal" }, undefined, "tools[2].headers", /must not set 'Host'/],
    [{ "Mcp-Session-Id": "s" }, undefined, "tools[2].headers", /must not set 'Mcp-Session-Id'/],
    [undefined, "  ", "tools[2].authorization", /must be a non-empty string/],
    [undefined, 7, "tools[2].authorization", /must be a non-empty string/],
  ])("rejects %j / %j", (headers, authorization, param, message) => {
    let caught: unknown;
    try {
      buildRemoteMcpHeaders(2, headers, authorization);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RemoteMcpPolicyError);
    expect((caught as RemoteMcpPolicyError).param).toBe(param);
    expect((caught as Error).message).toMatch(message);
  });

  it("never echoes header values in rejections", () => {
    try {
      buildRemoteMcpHeaders(0, { Authorization: "Bearer top-secret", authorization: "Bearer top-secret-2" }, undefined);
    } catch (error) {
      expect((error as Error).message).not.toContain("top-secret");
    }
  });
});
