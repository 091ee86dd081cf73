/**
 * Parses a Responses SSE body into events, checking the framing rules on the way: `event:` equals the JSON
 * `type`, one data line per event, and `data: [DONE]` last.
 */
export interface ParsedStream {
  events: Array<Record<string, any>>;
  done: boolean;
  raw: string;
}

export function parseSse(raw: string): ParsedStream {
  const events: Array<Record<string, any>> = [];
  let done = false;
  for (const block of raw.split("\n\n")) {
    if (block.trim() === "") continue;
    const lines = block.split("\n");
    if (lines.length === 1 && lines[0] === "data: [DONE]") {
      if (done) throw new Error("two [DONE] frames");
      done = true;
      continue;
    }
    if (done) throw new Error(`frame after [DONE]: ${block.slice(0, 80)}`);
    if (lines.length !== 2 || !lines[0].startsWith("event: ") || !lines[1].startsWith("data: ")) throw new Error(`malformed frame: ${block.slice(0, 120)}`);
    const name = lines[0].slice(7);
    const data = JSON.parse(lines[1].slice(6));
    if (data.type !== name) throw new Error(`event name ${name} != type ${data.type}`);
    events.push(data);
  }
  return { events, done, raw };
}

export async function readSse(res: Response): Promise<ParsedStream> {
  return parseSse(await res.text());
}

/** Asserts sequence numbers are 0,1,2… and returns the list of types. */
export function typesOf(events: Array<Record<string, any>>): string[] {
  events.forEach((e, i) => {
    if (e.sequence_number !== i) throw new Error(`sequence_number ${e.sequence_number} at position ${i}`);
  });
  return events.map((e) => e.type);
}
