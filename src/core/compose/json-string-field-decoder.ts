/**
 * Decodes one top-level string field (e.g. `code` of `{"code": "..."}`) out of JSON that arrives in arbitrary
 * fragments, yielding the decoded text as soon as it is known. This is how `code_interpreter_call_code.delta`
 * streams real code while the model is still writing the JSON arguments.
 *
 * Escapes split across fragments (`\` | `n`, `\u00` | `e9`) and surrogate pairs split across escapes are held
 * back until complete, so every emitted delta is well-formed text and the deltas concatenate to the value.
 */
type Mode = "scan" | "value" | "done";

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

export class JsonStringFieldDecoder {
  private mode: Mode = "scan";
  private depth = 0;
  private inString = false;
  private escaped = false;
  private keyBuffer = "";
  private lastKey: string | null = null;
  private awaitingValue = false;
  /** Raw escape sequence in progress inside the value (starts with `\`). */
  private pendingEscape = "";
  private pendingHighSurrogate = "";
  private decoded = "";

  constructor(private readonly field: string) {}

  /** The full decoded value so far. */
  get value(): string {
    return this.decoded;
  }

  get complete(): boolean {
    return this.mode === "done";
  }

  feed(fragment: string): string {
    let out = "";
    for (let i = 0; i < fragment.length; i++) {
      const ch = fragment[i];
      if (this.mode === "done") break;
      if (this.mode === "value") {
        out += this.valueChar(ch);
        continue;
      }
      this.scanChar(ch);
    }
    this.decoded += out;
    return out;
  }

  private scanChar(ch: string): void {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (ch === "\\") this.escaped = true;
      else if (ch === '"') {
        this.inString = false;
        if (this.depth === 1) this.lastKey = this.keyBuffer;
        return;
      }
      if (this.depth === 1) this.keyBuffer += ch;
      return;
    }
    if (ch === " " || ch === "\n" || ch === "\r" || ch === "\t") return;
    if (ch === '"') {
      if (this.awaitingValue && this.depth === 1) {
        this.mode = "value";
        return;
      }
      this.inString = true;
      this.keyBuffer = "";
      return;
    }
    if (ch === ":" && this.depth === 1) {
      this.awaitingValue = this.lastKey === this.field;
      return;
    }
    this.awaitingValue = false;
    if (ch === "{" || ch === "[") this.depth++;
    else if (ch === "}" || ch === "]") this.depth--;
    if (ch === ",") this.lastKey = null;
  }

  private valueChar(ch: string): string {
    if (this.pendingEscape.length > 0) {
      this.pendingEscape += ch;
      return this.completeEscape();
    }
    if (ch === "\\") {
      this.pendingEscape = "\\";
      return "";
    }
    if (ch === '"') {
      this.mode = "done";
      return this.flushSurrogate();
    }
    // A raw high surrogate may be the first half of a pair split across fragments: hold it for its partner.
    const code = ch.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdbff) {
      const prev = this.flushSurrogate();
      this.pendingHighSurrogate = ch;
      return prev;
    }
    return this.flushSurrogate() + ch;
  }

  private completeEscape(): string {
    const esc = this.pendingEscape;
    if (esc.length === 2 && esc[1] !== "u") {
      this.pendingEscape = "";
      return this.flushSurrogate() + (SIMPLE_ESCAPES[esc[1]] ?? esc[1]);
    }
    if (esc.length < 6) return "";
    this.pendingEscape = "";
    const code = Number.parseInt(esc.slice(2), 16);
    const char = Number.isNaN(code) ? "\uFFFD" : String.fromCharCode(code);
    if (code >= 0xd800 && code <= 0xdbff) {
      const prev = this.flushSurrogate();
      this.pendingHighSurrogate = char;
      return prev;
    }
    if (code >= 0xdc00 && code <= 0xdfff && this.pendingHighSurrogate) {
      const pair = this.pendingHighSurrogate + char;
      this.pendingHighSurrogate = "";
      return pair;
    }
    return this.flushSurrogate() + char;
  }

  private flushSurrogate(): string {
    const s = this.pendingHighSurrogate;
    this.pendingHighSurrogate = "";
    return s;
  }
}
