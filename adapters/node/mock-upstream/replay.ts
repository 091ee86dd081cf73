/**
 * Replays recorded upstream traffic (the JSON recordings in test/fixtures/recordings/chat_completions). A request
 * is matched to a recording by its first user message and its message count, so multi-step recordings (a tool
 * loop's step 1 and step 2) are told apart without any state.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { contentText, type ChatRequestLike } from "./script.js";

export interface Recording {
  file: string;
  request: { body: ChatRequestLike };
  response: { status_code: number; headers?: Record<string, string>; body?: unknown; sse?: string[] };
}

export function loadRecordings(dir: string): Recording[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ file: f, ...(JSON.parse(readFileSync(join(dir, f), "utf8")) as Omit<Recording, "file">) }));
}

function keyOf(body: ChatRequestLike): { first: string; count: number; stream: boolean } {
  const messages = body.messages ?? [];
  const firstUser = messages.find((m) => m.role === "user");
  return { first: contentText(firstUser?.content).trim(), count: messages.length, stream: body.stream === true };
}

export function matchRecording(recordings: Recording[], body: ChatRequestLike): Recording | undefined {
  const key = keyOf(body);
  const candidates = recordings.filter((r) => keyOf(r.request.body).first === key.first);
  return (
    candidates.find((r) => keyOf(r.request.body).count === key.count && keyOf(r.request.body).stream === key.stream) ??
    candidates.find((r) => keyOf(r.request.body).stream === key.stream) ??
    candidates[0]
  );
}
