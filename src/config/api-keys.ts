/**
 * The text of a `VR_API_KEYS_FILE`: one key per line; blank lines and `#` comments are skipped, surrounding
 * whitespace (including a Windows `\r`) is trimmed. Pure, so every runtime's adapter parses files the same way.
 */
import { ConfigError } from "./env-values.js";

export function parseApiKeysFile(text: string, source: string): string[] {
  const keys = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith("#"));
  // An operator who points at a key file expects authentication; an empty file must not mean "open".
  if (keys.length === 0) throw new ConfigError(`VR_API_KEYS_FILE ${JSON.stringify(source)} contains no keys.`);
  // Keys travel in an Authorization header: whitespace inside a key could never match, so it is a typo.
  const bad = keys.findIndex((k) => /\s/.test(k));
  if (bad >= 0) throw new ConfigError(`VR_API_KEYS_FILE ${JSON.stringify(source)}: key ${bad + 1} contains whitespace.`);
  return keys;
}
