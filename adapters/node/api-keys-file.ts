/**
 * `VR_API_KEYS_FILE` for Node: reads the file once at start-up and adds its keys to `VR_API_KEYS` (both may be
 * set). The file is a secret store, so errors name the path but never quote its content.
 */
import { readFileSync } from "node:fs";
import { parseApiKeysFile } from "../../src/config/api-keys.js";
import { ConfigError } from "../../src/config/env-values.js";
import type { GatewayConfig } from "../../src/config/gateway-config.js";

export function resolveApiKeysFile(config: GatewayConfig): GatewayConfig {
  if (config.apiKeysFile === null) return config;
  let text: string;
  try {
    text = readFileSync(config.apiKeysFile, "utf8");
  } catch (err) {
    throw new ConfigError(`VR_API_KEYS_FILE ${JSON.stringify(config.apiKeysFile)} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
  const keys = [...new Set([...config.apiKeys, ...parseApiKeysFile(text, config.apiKeysFile)])];
  return { ...config, apiKeys: keys, apiKeysFile: null };
}
