/**
 * The one SSE encoder: `event: <type>\ndata: <single-line JSON>\n\n`, and the `[DONE]` terminator.
 * JSON.stringify never emits raw newlines, so one data line per event always holds.
 */
import type { ResponseEvent } from "../protocol/events.js";

const encoder = new TextEncoder();

export function encodeEvent(event: ResponseEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export function encodeEvents(events: readonly ResponseEvent[]): Uint8Array {
  let text = "";
  for (const e of events) text += encodeEvent(e);
  return encoder.encode(text);
}

export const DONE_FRAME: Uint8Array = encoder.encode("data: [DONE]\n\n");
