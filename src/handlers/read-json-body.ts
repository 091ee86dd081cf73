/**
 * Reads a JSON request body under a byte cap and a nesting-depth cap. The cap is enforced while reading (413
 * before the whole body is buffered), and depth is checked before JSON.parse so hostile nesting cannot reach the
 * recursive code further in.
 */
import { GatewayError, invalidRequest } from "../core/errors.js";

export async function readJsonBody(request: Request, maxBytes: number, maxDepth: number): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) throw invalidRequest("The request body is empty; send a JSON object.", null, "invalid_json");
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel("body too large");
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = chunks.length === 1 ? chunks[0] : concat(chunks, total);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw invalidRequest("The request body is not valid UTF-8.", null, "invalid_json");
  }
  if (text.trim().length === 0) throw invalidRequest("The request body is empty; send a JSON object.", null, "invalid_json");
  checkDepth(text, maxDepth);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalidRequest(`The request body is not valid JSON: ${(err as Error).message}`, null, "invalid_json");
  }
}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(413, `The request body exceeds the ${maxBytes}-byte limit (VR_MAX_BODY_BYTES).`, "invalid_request_error", null, "request_too_large");
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function checkDepth(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > maxDepth) throw invalidRequest(`The request body nests deeper than ${maxDepth} levels (VR_MAX_JSON_DEPTH).`, null, "nesting_too_deep");
    } else if (c === 125 || c === 93) depth--;
  }
}
