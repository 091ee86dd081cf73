# syntax=docker/dockerfile:1
# vllm-responses: the Node CLI (`vllm-responses serve`) as a small non-root image. See docs/runtimes.md, "Container".
#
#   docker build -t vllm-responses .
#   docker run --init -p 5969:5969 -e VR_UPSTREAM=http://vllm:8000/v1 -v vr-data:/data vllm-responses
#
# test/container/ reproduces these stages and the start command in a temp directory (no Docker engine needed).
ARG NODE_IMAGE=node:20-bookworm-slim

# 1. Production dependencies only. better-sqlite3 is a native addon: it is built here, where the toolchain is (its
#    install script downloads a prebuilt binary when one matches, else compiles), so the runtime stage needs none.
#    --ignore-scripts because `npm ci` would otherwise run this package's own `prepare` (tsc, a dev dependency);
#    no other production dependency needs its install script.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
RUN npm rebuild better-sqlite3

# 2. Build: TypeScript → dist/. The optional dependencies are the platform binaries of dev tools (Bun, workerd,
#    esbuild, sharp), which compiling does not need.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --omit=optional --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY adapters/node ./adapters/node
RUN npm run build

# 3. Runtime: production node_modules, the compiled code and the CLI; runs as the image's unprivileged `node` user.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production VR_GATEWAY_HOST=0.0.0.0 VR_GATEWAY_PORT=5969 VR_DB_PATH=sqlite:////data/vllm_responses.db
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
RUN ln -s /app/bin/vllm-responses.js /usr/local/bin/vllm-responses && mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 5969
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.VR_GATEWAY_PORT || 5969) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Shell form so the VR_* environment configures the CLI; `exec` makes node PID 1, which receives `docker stop`'s SIGTERM
# and drains. Override with flags as usual: `docker run … vllm-responses vllm-responses serve --upstream URL --code-interpreter disabled`.
CMD exec vllm-responses serve --upstream "$VR_UPSTREAM" --gateway-host "$VR_GATEWAY_HOST" --gateway-port "$VR_GATEWAY_PORT"
