/**
 * Node's DNS for the remote MCP URL policy (src/tools/mcp/remote-policy.ts): every A and AAAA answer the
 * system resolver gives, exactly what fetch would then connect to.
 */
import { lookup } from "node:dns/promises";
import type { ResolveHost } from "../../../src/tools/mcp/remote-policy.js";

export const resolveHostWithNodeDns: ResolveHost = async (host) => {
  const answers = await lookup(host, { all: true, verbatim: true });
  return answers.map((a) => a.address);
};
