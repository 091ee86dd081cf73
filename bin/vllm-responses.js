#!/usr/bin/env node
// The CLI is compiled by `npm run build` (run by `prepare` on `npm ci`).
import "../dist/adapters/node/cli.js";
