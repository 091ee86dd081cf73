/**
 * Access to the recorded traffic in test/fixtures/recordings (copied from shared/, Apache-2.0; see
 * test/fixtures/RECORDINGS-SOURCE.md).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const RECORDINGS_DIR = fileURLToPath(new URL("../fixtures/recordings/", import.meta.url));
export const CHAT_RECORDINGS_DIR = `${RECORDINGS_DIR}chat_completions`;

export function loadRecording(path: string): any {
  return JSON.parse(readFileSync(`${RECORDINGS_DIR}${path}.json`, "utf8"));
}

/** The Chat Completions chunks of a recorded upstream stream (without the [DONE] marker). */
export function recordedChunks(path: string): any[] {
  const rec = loadRecording(path);
  return (rec.response.sse as string[])
    .filter((l) => l.startsWith("data: ") && !l.startsWith("data: [DONE]"))
    .map((l) => JSON.parse(l.slice(6)));
}

/** The event types the `text-single-stream` recording (two text deltas) gives: the exact text grammar. */
export const TEXT_SINGLE_STREAM_EVENTS = [
  "response.created",
  "response.in_progress",
  "response.output_item.added",
  "response.content_part.added",
  "response.output_text.delta",
  "response.output_text.delta",
  "response.output_text.done",
  "response.content_part.done",
  "response.output_item.done",
  "response.completed",
];
