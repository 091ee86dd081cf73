#!/usr/bin/env node
// Real HTTP MCP servers for tests, on node:http with the SDK's server transports.
//
//   startStreamableHttpMcpServer({ port, mode: "stateless" | "session", requiredAuthorization })
//   startSseMcpServer({ port, requiredAuthorization })          legacy HTTP+SSE only (POST /sse → 405)
//
// Both return { url, port, close(), requests } where `requests` records method, path and headers of every
// request (so tests can assert what the client sent). Runnable too:
//   node test/mcp-servers/http-server.mjs [--port N] [--mode session] [--sse] [--auth "Bearer x"]
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { registerTestTools } from "./tools.mjs";

function newMcpServer(name) {
  const server = new McpServer({ name, version: "1.0.0" });
  registerTestTools(server, { variant: "http" });
  return server;
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : undefined;
}

function sendJson(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function authorized(req, res, requiredAuthorization) {
  if (requiredAuthorization === undefined || req.headers.authorization === requiredAuthorization) return true;
  sendJson(res, 401, { error: "unauthorized" });
  return false;
}

async function listen(server, host, port) {
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server.address().port;
}

function closer(server, cleanups) {
  let closing;
  return () =>
    (closing ??= (async () => {
      for (const cleanup of cleanups) await cleanup();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    })());
}

export async function startStreamableHttpMcpServer(opts = {}) {
  const { host = "127.0.0.1", port = 0, path = "/mcp", mode = "stateless", requiredAuthorization } = opts;
  const requests = [];
  const sessions = new Map();

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://x");
      requests.push({ method: req.method, path: url.pathname, headers: { ...req.headers } });
      if (url.pathname !== path) return sendJson(res, 404, { error: "not found" });
      if (!authorized(req, res, requiredAuthorization)) return;
      const body = req.method === "POST" ? await readJson(req) : undefined;

      if (mode === "stateless") {
        if (req.method !== "POST") return sendJson(res, 405, { error: "method not allowed" });
        const mcp = newMcpServer("test-http-stateless");
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
        res.on("close", () => {
          void transport.close();
          void mcp.close();
        });
        await mcp.connect(transport);
        return await transport.handleRequest(req, res, body);
      }

      const sessionId = req.headers["mcp-session-id"];
      let transport = typeof sessionId === "string" ? sessions.get(sessionId) : undefined;
      if (!transport) {
        if (req.method !== "POST" || sessionId !== undefined || !isInitializeRequest(body)) {
          return sendJson(res, 404, { jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null });
        }
        const mcp = newMcpServer("test-http-session");
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => sessions.set(id, transport),
        });
        transport.onclose = () => {
          if (transport.sessionId) sessions.delete(transport.sessionId);
        };
        await mcp.connect(transport);
      }
      await transport.handleRequest(req, res, body);
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, { error: String(error?.message ?? error) });
      else res.destroy(error);
    }
  });
  const actualPort = await listen(server, host, port);
  const close = closer(server, [
    async () => {
      for (const transport of sessions.values()) await transport.close();
      sessions.clear();
    },
  ]);
  return { url: `http://${host}:${actualPort}${path}`, port: actualPort, close, requests };
}

export async function startSseMcpServer(opts = {}) {
  const { host = "127.0.0.1", port = 0, requiredAuthorization } = opts;
  const requests = [];
  const transports = new Map();

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://x");
      requests.push({ method: req.method, path: url.pathname, headers: { ...req.headers } });
      if (!authorized(req, res, requiredAuthorization)) return;
      if (url.pathname === "/sse") {
        // What a legacy server does with the Streamable HTTP initialize POST: the client then falls back.
        if (req.method !== "GET") return sendJson(res, 405, { error: "method not allowed" });
        const transport = new SSEServerTransport("/messages", res);
        transports.set(transport.sessionId, transport);
        res.on("close", () => transports.delete(transport.sessionId));
        const mcp = newMcpServer("test-sse");
        await mcp.connect(transport);
        return;
      }
      if (url.pathname === "/messages" && req.method === "POST") {
        const transport = transports.get(url.searchParams.get("sessionId") ?? "");
        if (!transport) return sendJson(res, 404, { error: "unknown session" });
        return await transport.handlePostMessage(req, res, await readJson(req));
      }
      sendJson(res, 404, { error: "not found" });
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, { error: String(error?.message ?? error) });
      else res.destroy(error);
    }
  });
  const actualPort = await listen(server, host, port);
  const close = closer(server, [
    async () => {
      for (const transport of transports.values()) await transport.close();
      transports.clear();
    },
  ]);
  return { url: `http://${host}:${actualPort}/sse`, port: actualPort, close, requests };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const flag = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const port = Number(flag("--port") ?? 0);
  const requiredAuthorization = flag("--auth");
  const started = args.includes("--sse")
    ? await startSseMcpServer({ port, requiredAuthorization })
    : await startStreamableHttpMcpServer({ port, mode: flag("--mode") ?? "stateless", requiredAuthorization });
  process.stdout.write(`${started.url}\n`);
  const stop = () => void started.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
