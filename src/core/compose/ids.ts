/**
 * Ids are capabilities (whoever holds a response id can read and continue it), so they carry 128 random bits
 * from the platform CSPRNG, hex-encoded after the type prefix.
 */
export type IdPrefix = "resp" | "msg" | "rs" | "fc" | "ci" | "cntr" | "mcp" | "mcpl" | "mcpr" | "call";

export type IdGenerator = (prefix: IdPrefix) => string;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export const randomId: IdGenerator = (prefix) => {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = "";
  for (let i = 0; i < 16; i++) hex += HEX[bytes[i]];
  return `${prefix}_${hex}`;
};
