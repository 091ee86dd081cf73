/**
 * Ids are capabilities (whoever holds a response id can read and continue it), so they carry 128 random bits
 * from the platform CSPRNG, hex-encoded after the type prefix.
 *
 * Random bytes are drawn 4 KiB at a time: one `getRandomValues` call per id showed up in profiles (a response
 * makes several ids), and a CSPRNG buffer consumed once, front to back, is exactly as unpredictable.
 */
export type IdPrefix = "resp" | "msg" | "rs" | "fc" | "ci" | "cntr" | "mcp" | "mcpl" | "mcpr" | "call";

export type IdGenerator = (prefix: IdPrefix) => string;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const POOL_BYTES = 4096;
const ID_BYTES = 16;
const pool = new Uint8Array(POOL_BYTES);
let offset = POOL_BYTES;

export const randomId: IdGenerator = (prefix) => {
  if (offset + ID_BYTES > POOL_BYTES) {
    crypto.getRandomValues(pool);
    offset = 0;
  }
  let hex = "";
  for (let i = offset; i < offset + ID_BYTES; i++) hex += HEX[pool[i]];
  // Zero what was handed out, so the bytes of an id never linger in the pool once used.
  pool.fill(0, offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return `${prefix}_${hex}`;
};
