#!/usr/bin/env node
/**
 * `npm run start:workers`: `wrangler dev` (workerd, local D1) configured like every other runtime, from the
 * environment:
 *   VR_GATEWAY_HOST / VR_GATEWAY_PORT → --ip / --port (defaults 127.0.0.1 / 5969; 0 picks a free port)
 *   every other VR_* variable        → --var NAME:VALUE (a Worker var; VR_UPSTREAM is required)
 * Extra arguments are passed to wrangler (e.g. `npm run start:workers -- --persist-to /tmp/state`).
 * Wrangler's telemetry and remote lookups are off unless set otherwise, so it runs offline.
 *
 * Values passed with --var are visible in the process list: on a shared machine put secrets such as
 * VR_OPENAI_API_KEY in `.dev.vars` instead (wrangler reads it; it is not passed on the command line).
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const wrangler = createRequire(join(root, "package.json")).resolve("wrangler/bin/wrangler.js");

const env = { ...process.env };
for (const [name, value] of [
  ["WRANGLER_SEND_METRICS", "false"],
  ["WRANGLER_SEND_ERROR_REPORTS", "false"],
  ["CLOUDFLARE_CF_FETCH_ENABLED", "false"],
  // The banner is where wrangler checks the npm registry for a newer version.
  ["WRANGLER_HIDE_BANNER", "true"],
]) {
  env[name] ??= value;
}

const args = ["dev", "--config", join(root, "wrangler.toml"), "--local", "--show-interactive-dev-session=false"];
args.push("--ip", env.VR_GATEWAY_HOST?.trim() || "127.0.0.1", "--port", env.VR_GATEWAY_PORT?.trim() || "5969");
for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
  if (!name.startsWith("VR_") || name === "VR_GATEWAY_HOST" || name === "VR_GATEWAY_PORT" || value === undefined) continue;
  args.push("--var", `${name}:${value}`);
}
args.push(...process.argv.slice(2));

const child = spawn(process.execPath, [wrangler, ...args], { cwd: root, env, stdio: "inherit" });
// Ctrl-C reaches wrangler through the process group; a SIGTERM sent to this launcher alone is passed on.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
