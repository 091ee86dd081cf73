/**
 * Reads a JSON request body under a byte cap and a nesting-depth cap. The cap is enforced while reading (413
 * before the whole body is buffered), and depth is checked before JSON.parse so hostile nesting cannot reach the
 * recursive code further in.
 */
import { GatewayError, invalidRequest } from "../core/errors.js";

export async function readJsonBody(request: Request, maxBytes: number, maxDepth: number): Promise<unknown> {
  const bytes = await readBodyBytes(request, maxBytes);
  if (bytes.byteLength === 0) throw invalidRequest("The request body is empty; send a JSON object.", null, "invalid_json");
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

/** The raw body under the byte cap (empty when there is none); also used by the passthrough routes. */
export async function readBodyBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let read: ReadableStreamReadResult<Uint8Array>;
    try {
      read = await reader.read();
    } catch (err) {
      // The client's side failed mid-upload (connection dropped, broken chunked encoding): its fault, not ours.
      throw new GatewayError(400, `The request body could not be read (${(err as Error).name ?? "error"}).`, "invalid_request_error", null, "body_read_failed");
    }
    if (read.done) break;
    total += read.value.byteLength;
    if (total > maxBytes) {
      await reader.cancel("body too large");
      throw tooLarge(maxBytes);
    }
    chunks.push(read.value);
  }
  return chunks.length === 1 ? chunks[0]! : concat(chunks, total);
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
