// Starts Portkey's open-source gateway (@portkey-ai/gateway, build/start-server.js) for the side-by-side rows,
// with one compatibility shim and nothing else changed:
//
// Portkey 1.15.2 declares "@hono/node-server": "^1.3.3"; the version that range resolves to here (1.19.x) replaces
// the global Response with a "lightweight" class that, when given a native fetch Response as its init, keeps that
// Response's *immutable* Headers by reference. Portkey's streaming path does exactly that
// (`new Response(transformed, upstreamResponse)`) and then appends its x-portkey-* headers, so every streamed
// request fails with `TypeError: immutable` → 500 "Something went wrong". The shim copies the headers in that one
// case, which is what the older @hono/node-server of Portkey's own lockfile did. Non-streamed requests take the
// same code path as without the shim.
//
//   node bench/portkey-start.js --port=P [--headless]   (arguments are Portkey's own)
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve("@portkey-ai/gateway/package.json"));
const NativeResponse = globalThis.Response;

const patch = setInterval(() => {
  const Light = globalThis.Response;
  if (Light === NativeResponse) return;
  clearInterval(patch);
  class PortkeyCompatResponse extends Light {
    constructor(body, init) {
      if (init instanceof NativeResponse && !(init instanceof Light)) {
        init = { status: init.status, statusText: init.statusText, headers: new Headers(init.headers) };
      }
      super(body, init);
    }
  }
  Object.defineProperty(globalThis, "Response", { value: PortkeyCompatResponse, writable: true, configurable: true });
}, 1);

await import(pathToFileURL(join(pkgDir, "build", "start-server.js")).href);
