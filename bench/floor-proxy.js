// The floor: the cheapest possible Node proxy (node:http in, node:http out with a keep-alive agent, bytes piped, no
// parsing, no web streams, no framework). Its column shows what a single Node hop costs on this machine, so the
// gateway's figures can be read as "floor + what the gateway does".
//
//   node bench/floor-proxy.js --upstream-port P   → prints {"port":N} when listening
import http from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { "upstream-port": { type: "string" }, port: { type: "string", default: "0" } } });
const upstreamPort = Number(values["upstream-port"]);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, keepAliveMsecs: 30_000 });
const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "host", "proxy-connection", "te", "upgrade"]);

const server = http.createServer((req, res) => {
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
  const up = http.request({ host: "127.0.0.1", port: upstreamPort, path: req.url, method: req.method, headers, agent }, (ur) => {
    const out = {};
    for (const [k, v] of Object.entries(ur.headers)) if (!HOP.has(k)) out[k] = v;
    res.writeHead(ur.statusCode ?? 502, out);
    ur.pipe(res);
  });
  up.on("error", () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  res.on("close", () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
});
server.keepAliveTimeout = 65_000;
server.requestTimeout = 0;
server.listen(Number(values.port), "127.0.0.1", () => process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n"));
const stop = () => process.exit(0);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
