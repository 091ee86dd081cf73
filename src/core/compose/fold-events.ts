/**
 * Rebuilds the final response object from a stream of events, the way a client SDK does. The tests use it to
 * prove that the events carry the response (the non-stream path needs no fold: it answers with the terminal
 * event's response, which the composer builds from the same events).
 */
import type { ResponseEvent } from "../protocol/events.js";
import type { OutputItem } from "../protocol/output-items.js";
import type { ResponseObject } from "../protocol/response.js";

export function foldEvents(events: Iterable<ResponseEvent>): ResponseObject {
  let response: ResponseObject | null = null;
  const items: OutputItem[] = [];
  for (const event of events) {
    switch (event.type) {
      case "response.created":
      case "response.in_progress":
        response = { ...event.response };
        break;
      case "response.output_item.done":
        items[event.output_index] = event.item;
        break;
      case "response.completed":
      case "response.incomplete":
      case "response.failed": {
        const { output: _ignored, ...rest } = event.response;
        response = { ...rest, output: items.filter((i) => i !== undefined) };
        break;
      }
      default:
        break;
    }
  }
  if (!response) throw new Error("no response.created event in the stream");
  return response;
}
