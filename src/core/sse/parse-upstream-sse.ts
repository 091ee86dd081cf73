/**
 * Upstream SSE bytes → Chat chunks, with eventsource-parser. Bytes are decoded with a streaming TextDecoder, so
 * a multi-byte UTF-8 character split across network chunks comes out intact.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { ChatChunk } from "../protocol/chat.js";

export type UpstreamFrame = { kind: "chunk"; chunk: ChatChunk } | { kind: "done" } | { kind: "invalid"; data: string; error: string };

export class UpstreamSseDecoder {
  private readonly decoder = new TextDecoder("utf-8");
  private frames: UpstreamFrame[] = [];
  private readonly parser = createParser({ onEvent: (m) => this.onEvent(m) });

  push(bytes: Uint8Array): UpstreamFrame[] {
    this.parser.feed(this.decoder.decode(bytes, { stream: true }));
    return this.drain();
  }

  end(): UpstreamFrame[] {
    const rest = this.decoder.decode();
    if (rest) this.parser.feed(rest);
    // A final event without its blank line is still an event the upstream meant to send.
    this.parser.feed("\n\n");
    return this.drain();
  }

  private drain(): UpstreamFrame[] {
    const out = this.frames;
    this.frames = [];
    return out;
  }

  private onEvent(message: EventSourceMessage): void {
    const data = message.data;
    if (data === "[DONE]") {
      this.frames.push({ kind: "done" });
      return;
    }
    if (data.length === 0) return;
    try {
      this.frames.push({ kind: "chunk", chunk: JSON.parse(data) as ChatChunk });
    } catch (err) {
      this.frames.push({ kind: "invalid", data: data.slice(0, 200), error: (err as Error).message });
    }
  }
}
