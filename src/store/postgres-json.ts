/**
 * jsonb cannot hold two things a JavaScript string (and a client's JSON input) can: U+0000 and unpaired UTF-16
 * surrogates (PostgreSQL rejects `\u0000` and `\ud83d` alone with 22P05 / 22P02). Rather than fail the write —
 * which would let any client turn `store: true` into a 500 — such a record is stored as its JSON *text* inside
 * a jsonb string, where those characters stay ASCII escapes. Lossless; ordinary records stay plain queryable jsonb.
 */
import { StoreError } from "./response-store.js";

/** Marks the wrapper; a StoredResponseRecord has no `encoding` member, so the two cannot be confused. */
const WRAPPED = "json_text";

/**
 * JSON.stringify writes U+0000 as `\u0000` and lone surrogates as `\udXXX` escapes (paired ones as raw text).
 * A false positive (an escaped backslash followed by "u0000") only means the lossless wrapper is used.
 */
const JSONB_UNSAFE_ESCAPE = /\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/** The text to cast to jsonb for `json`, the record's JSON text. */
export function toJsonbText(json: string): string {
  return JSONB_UNSAFE_ESCAPE.test(json) ? JSON.stringify({ encoding: WRAPPED, json_text: json }) : json;
}

/** The record's JSON text back from the jsonb column's text form. */
export function fromJsonbText(id: string, text: string): string {
  // jsonb prints keys shortest first: a record starts with "id", the wrapper with "encoding". Cheap pre-check
  // so ordinary records are parsed once, by the codec.
  if (!text.startsWith('{"encoding"')) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // Rethrown typed: PostgreSQL only returns valid jsonb, so this is damage worth naming.
    throw new StoreError(`stored response ${id} is corrupt: state is not valid JSON`, "corrupt", id, { cause: err });
  }
  const wrapper = parsed as { encoding?: unknown; json_text?: unknown };
  return wrapper.encoding === WRAPPED && typeof wrapper.json_text === "string" ? wrapper.json_text : text;
}
