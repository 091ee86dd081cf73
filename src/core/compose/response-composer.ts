/**
 * The protocol state machine: upstream Chat Completions chunks (and gateway tool outcomes) in, Responses events out.
 * Pure: no I/O, no clocks or randomness except through the injected `now` / `newId`. Streaming sends the events
 * as they come; non-streaming folds the very same events, so the two can never disagree.
 *
 * Grammar it guarantees (behaviour.md "Streaming grammar"): scaffold before delta; a reasoning item is closed
 * before the next item opens; a message is closed before a tool call opens; parallel tool calls of one turn
 * may interleave, each with its own item_id/output_index; output_index counts every item across tool-loop turns;
 * sequence_number is consecutive from 0.
 */
import type { ChatChunk, ChatUsage } from "../protocol/chat.js";
import type { ResponseEvent, UnnumberedEvent } from "../protocol/events.js";
import type {
  CodeInterpreterCallItem,
  FunctionCallItem,
  McpCallItem,
  MessageItem,
  OutputItem,
  ReasoningItem,
} from "../protocol/output-items.js";
import type { ResponseObject, Usage } from "../protocol/response.js";
import type { IdGenerator } from "./ids.js";
import { JsonStringFieldDecoder } from "./json-string-field-decoder.js";
import type { ToolRoute, TurnToolCall } from "./tool-route.js";
import { addUsage, emptyUsage, usageFromChat } from "./usage.js";

export interface ComposerOptions {
  /** The response skeleton (status in_progress, output []). The composer owns it from here on. */
  response: ResponseObject;
  newId: IdGenerator;
  /** Unix seconds. */
  now: () => number;
  reasoningEventFormat: "open_responses" | "openai";
  routeTool: (name: string) => ToolRoute;
}

interface OpenText {
  item: MessageItem | ReasoningItem;
  index: number;
  text: string;
}

interface OpenCall {
  upstreamIndex: number;
  call_id: string;
  name: string;
  args: string;
  route: ToolRoute | null;
  item_id: string;
  output_index: number;
  opened: boolean;
  decoder: JsonStringFieldDecoder | null;
}

export interface TurnResult {
  calls: TurnToolCall[];
  finish_reason: string | null;
  produced_output: boolean;
}

export class ResponseComposer {
  private seq = 0;
  private readonly items: Array<OutputItem | undefined> = [];
  private out: ResponseEvent[] = [];
  private usage: Usage = emptyUsage();
  private sawUsage = false;
  private reasoning: OpenText | null = null;
  private message: OpenText | null = null;
  private calls = new Map<number, OpenCall>();
  private deferredText = "";
  private finishReason: string | null = null;
  private producedOutput = false;
  private containerId: string | null = null;
  private readonly response: ResponseObject;

  constructor(private readonly opts: ComposerOptions) {
    this.response = opts.response;
  }

  get responseId(): string {
    return this.response.id;
  }

  /** Items finished so far, in output_index order. */
  get output(): OutputItem[] {
    return this.items.filter((i): i is OutputItem => i !== undefined);
  }

  get totalUsage(): Usage {
    return this.usage;
  }

  start(): ResponseEvent[] {
    this.emit({ type: "response.created", response: this.snapshot() });
    this.emit({ type: "response.in_progress", response: this.snapshot() });
    return this.take();
  }

  /** One upstream chunk of the current turn. */
  chunk(chunk: ChatChunk): ResponseEvent[] {
    if (chunk.usage) this.onUsage(chunk.usage);
    const choice = chunk.choices?.[0];
    if (!choice) return this.take();
    const delta = choice.delta;
    if (delta) {
      // vLLM sends the same text as both `reasoning` and `reasoning_content` (one is the deprecated alias).
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (reasoning) this.onReasoning(reasoning);
      // A refusal is text the model chose to show; chat templates on vLLM never emit it, but keep it visible.
      const text = delta.content ?? delta.refusal;
      if (text) this.onText(text);
      if (delta.tool_calls) for (const tc of delta.tool_calls) this.onToolCallDelta(tc.index ?? 0, tc.id ?? undefined, tc.function?.name ?? undefined, tc.function?.arguments ?? undefined);
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    return this.take();
  }

  /** Closes everything the turn opened; returns the tool calls the model made, in output_index order. */
  endTurn(): { events: ResponseEvent[]; turn: TurnResult } {
    this.closeReasoning();
    const incomplete = this.finishReason === "length" || this.finishReason === "content_filter";
    this.closeMessage(incomplete);
    const calls: TurnToolCall[] = [];
    const ordered = [...this.calls.values()].sort((a, b) => a.output_index - b.output_index || a.upstreamIndex - b.upstreamIndex);
    for (const call of ordered) {
      if (!call.opened) this.openCall(call, call.name || "unknown_tool");
      const result = this.finishCall(call);
      if (result) calls.push(result);
    }
    if (this.deferredText) {
      const text = this.deferredText;
      this.deferredText = "";
      this.onText(text);
      this.closeMessage(incomplete);
    }
    const turn: TurnResult = { calls, finish_reason: this.finishReason, produced_output: this.producedOutput };
    this.calls = new Map();
    this.finishReason = null;
    this.producedOutput = false;
    return { events: this.take(), turn };
  }

  // ---- gateway tool outcomes (the engine calls these after executing) ----

  codeInterpreterInterpreting(itemId: string): ResponseEvent[] {
    const { item, index } = this.find<CodeInterpreterCallItem>(itemId);
    item.status = "interpreting";
    this.emit({ type: "response.code_interpreter_call.interpreting", item_id: itemId, output_index: index });
    return this.take();
  }

  codeInterpreterFinished(itemId: string, outcome: { ok: boolean; logs: string | null; includeOutputs: boolean }): ResponseEvent[] {
    const { item, index } = this.find<CodeInterpreterCallItem>(itemId);
    item.status = outcome.ok ? "completed" : "failed";
    item.outputs = outcome.includeOutputs && outcome.logs ? [{ type: "logs", logs: outcome.logs }] : null;
    if (outcome.ok) this.emit({ type: "response.code_interpreter_call.completed", item_id: itemId, output_index: index });
    this.emit({ type: "response.output_item.done", output_index: index, item: { ...item } });
    return this.take();
  }

  mcpCallFinished(itemId: string, outcome: { ok: boolean; output: string | null; error: string | null }): ResponseEvent[] {
    const { item, index } = this.find<McpCallItem>(itemId);
    item.status = outcome.ok ? "completed" : "failed";
    item.output = outcome.output;
    item.error = outcome.ok ? null : outcome.error;
    this.emit({ type: outcome.ok ? "response.mcp_call.completed" : "response.mcp_call.failed", item_id: itemId, output_index: index });
    this.emit({ type: "response.output_item.done", output_index: index, item: { ...item } });
    return this.take();
  }

  /** An item produced whole by the gateway (mcp_list_tools, an mcp_call executed after approval …). */
  addWholeItem(item: OutputItem, statusEvents: { in_progress?: UnnumberedEvent["type"]; done?: UnnumberedEvent["type"] } = {}): ResponseEvent[] {
    const index = this.items.length;
    this.items.push(undefined);
    // A shallow copy like every other "added" event: nothing changes a whole item after it is added.
    this.emit({ type: "response.output_item.added", output_index: index, item: { ...item } });
    if (statusEvents.in_progress) this.emit({ type: statusEvents.in_progress, item_id: item.id, output_index: index } as UnnumberedEvent);
    if (statusEvents.done) this.emit({ type: statusEvents.done, item_id: item.id, output_index: index } as UnnumberedEvent);
    this.items[index] = item;
    this.emit({ type: "response.output_item.done", output_index: index, item });
    return this.take();
  }

  /** Opens an item the engine will finish later (an mcp_call executed after an approval). */
  openWholeItem(item: McpCallItem): { events: ResponseEvent[]; index: number } {
    const index = this.items.length;
    this.items.push(item);
    this.pending.set(item.id, { item, index });
    this.emit({ type: "response.output_item.added", output_index: index, item: { ...item } });
    this.emit({ type: "response.mcp_call.in_progress", item_id: item.id, output_index: index });
    if (item.arguments) {
      this.emit({ type: "response.mcp_call_arguments.delta", item_id: item.id, output_index: index, delta: item.arguments });
      this.emit({ type: "response.mcp_call_arguments.done", item_id: item.id, output_index: index, arguments: item.arguments });
    }
    return { events: this.take(), index };
  }

  // ---- terminal ----

  /**
   * Sets the terminal fields without emitting, so the engine can persist the final object first: the store write
   * must finish before the client sees the terminal event.
   */
  finalize(incompleteReason: "max_output_tokens" | "content_filter" | "max_tool_calls" | null): ResponseObject {
    const r = this.response;
    r.status = incompleteReason ? "incomplete" : "completed";
    r.incomplete_details = incompleteReason ? { reason: incompleteReason } : null;
    r.completed_at = incompleteReason ? null : this.opts.now();
    r.output = this.output;
    r.usage = this.usage;
    return r;
  }

  /** The `response.completed` / `response.incomplete` event for the object `finalize` prepared. */
  emitFinal(): ResponseEvent[] {
    const r = this.response;
    this.emit({ type: r.status === "incomplete" ? "response.incomplete" : "response.completed", response: r });
    return this.take();
  }

  fail(error: { type: string; code: string; message: string; param: string | null }): { events: ResponseEvent[]; response: ResponseObject } {
    const r = this.response;
    r.status = "failed";
    r.error = { code: error.code, message: error.message };
    r.completed_at = null;
    r.incomplete_details = null;
    r.output = this.output;
    r.usage = this.sawUsage ? this.usage : null;
    this.emit({ type: "error", error: { type: error.type, code: error.code, message: error.message, param: error.param } });
    this.emit({ type: "response.failed", response: r });
    return { events: this.take(), response: r };
  }

  // ---- internals ----

  private onUsage(u: ChatUsage): void {
    this.usage = addUsage(this.usage, usageFromChat(u));
    this.sawUsage = true;
  }

  private onReasoning(text: string): void {
    this.producedOutput = true;
    if (!this.reasoning) {
      this.closeMessage(false);
      const item: ReasoningItem = { type: "reasoning", id: this.opts.newId("rs"), summary: [], content: [] };
      const index = this.allocate();
      this.reasoning = { item, index, text: "" };
      this.emit({ type: "response.output_item.added", output_index: index, item: { ...item, content: [] } });
      this.emit({ type: "response.content_part.added", item_id: item.id, output_index: index, content_index: 0, part: { type: "reasoning_text", text: "" } });
    }
    const r = this.reasoning;
    r.text += text;
    this.emit({ type: this.reasoningEvent("delta"), item_id: r.item.id, output_index: r.index, content_index: 0, delta: text });
  }

  private onText(text: string): void {
    this.producedOutput = true;
    if (this.calls.size > 0 && !this.message) {
      // Text after the model started tool calls: the calls stay open (their arguments may still stream), so the
      // text becomes a message after them at the end of the turn.
      this.deferredText += text;
      return;
    }
    if (!this.message) {
      this.closeReasoning();
      const item: MessageItem = { type: "message", id: this.opts.newId("msg"), status: "in_progress", role: "assistant", content: [] };
      const index = this.allocate();
      this.message = { item, index, text: "" };
      this.emit({ type: "response.output_item.added", output_index: index, item: { ...item, content: [] } });
      this.emit({ type: "response.content_part.added", item_id: item.id, output_index: index, content_index: 0, part: { type: "output_text", text: "", annotations: [], logprobs: [] } });
    }
    const m = this.message;
    m.text += text;
    this.emit({ type: "response.output_text.delta", item_id: m.item.id, output_index: m.index, content_index: 0, delta: text, logprobs: [] });
  }

  private onToolCallDelta(upstreamIndex: number, id: string | undefined, name: string | undefined, args: string | undefined): void {
    this.producedOutput = true;
    let call = this.calls.get(upstreamIndex);
    if (!call) {
      call = { upstreamIndex, call_id: id || this.opts.newId("call"), name: "", args: "", route: null, item_id: "", output_index: -1, opened: false, decoder: null };
      this.calls.set(upstreamIndex, call);
    } else if (id && !call.opened) call.call_id = id;
    if (name) call.name += name;
    if (!call.opened && call.name) this.openCall(call, call.name);
    if (args) {
      call.args += args;
      if (call.opened) this.streamArgs(call, args);
    }
  }

  private openCall(call: OpenCall, name: string): void {
    this.closeReasoning();
    this.closeMessage(false);
    call.name = name;
    call.opened = true;
    const route = this.opts.routeTool(name);
    call.route = route;
    if (route.kind === "mcp" && route.requires_approval) return; // becomes an mcp_approval_request at turn end
    const index = this.allocate();
    call.output_index = index;
    let item: OutputItem;
    switch (route.kind) {
      case "function":
        item = { type: "function_call", id: this.opts.newId("fc"), call_id: call.call_id, name, arguments: "", status: "in_progress" };
        break;
      case "code_interpreter":
        this.containerId ??= this.opts.newId("cntr");
        item = { type: "code_interpreter_call", id: this.opts.newId("ci"), container_id: this.containerId, code: "", status: "in_progress", outputs: null };
        call.decoder = new JsonStringFieldDecoder("code");
        break;
      case "mcp":
        item = { type: "mcp_call", id: this.opts.newId("mcp"), server_label: route.server_label, name: route.tool_name, arguments: "", status: "in_progress", output: null, error: null };
        break;
      default: {
        const never: never = route;
        throw new Error(`unhandled tool route ${JSON.stringify(never)}`);
      }
    }
    call.item_id = item.id;
    this.items[index] = undefined;
    this.pending.set(item.id, { item, index });
    this.emit({ type: "response.output_item.added", output_index: index, item: { ...item } });
    if (route.kind === "code_interpreter") this.emit({ type: "response.code_interpreter_call.in_progress", item_id: item.id, output_index: index });
    if (route.kind === "mcp") this.emit({ type: "response.mcp_call.in_progress", item_id: item.id, output_index: index });
    if (call.args) this.streamArgs(call, call.args);
  }

  private streamArgs(call: OpenCall, fragment: string): void {
    const route = call.route;
    if (!route || (route.kind === "mcp" && route.requires_approval)) return;
    if (route.kind === "code_interpreter") {
      const delta = call.decoder!.feed(fragment);
      if (delta) this.emit({ type: "response.code_interpreter_call_code.delta", item_id: call.item_id, output_index: call.output_index, delta });
      return;
    }
    const type = route.kind === "mcp" ? "response.mcp_call_arguments.delta" : "response.function_call_arguments.delta";
    this.emit({ type, item_id: call.item_id, output_index: call.output_index, delta: fragment });
  }

  private finishCall(call: OpenCall): TurnToolCall | null {
    const route = call.route!;
    if (route.kind === "mcp" && route.requires_approval) {
      const item: OutputItem = { type: "mcp_approval_request", id: this.opts.newId("mcpr"), server_label: route.server_label, name: route.tool_name, arguments: call.args || "{}" };
      const index = this.allocate();
      this.items[index] = item;
      this.emit({ type: "response.output_item.added", output_index: index, item });
      this.emit({ type: "response.output_item.done", output_index: index, item });
      return { route, call_id: call.call_id, item_id: item.id, output_index: index, name: call.name, arguments: call.args };
    }
    const entry = this.pending.get(call.item_id)!;
    const result: TurnToolCall = { route, call_id: call.call_id, item_id: call.item_id, output_index: entry.index, name: call.name, arguments: call.args };
    switch (route.kind) {
      case "function": {
        const item = entry.item as FunctionCallItem;
        item.arguments = call.args;
        item.status = "completed";
        this.emit({ type: "response.function_call_arguments.done", item_id: item.id, output_index: entry.index, arguments: call.args });
        this.settle(entry.item, entry.index);
        this.emit({ type: "response.output_item.done", output_index: entry.index, item });
        break;
      }
      case "code_interpreter": {
        const item = entry.item as CodeInterpreterCallItem;
        const code = this.finalCode(call);
        item.code = code ?? call.decoder!.value;
        result.code = code;
        this.emit({ type: "response.code_interpreter_call_code.done", item_id: item.id, output_index: entry.index, code: item.code });
        // The item stays open: interpreting → completed → output_item.done come from the engine.
        this.settle(entry.item, entry.index);
        break;
      }
      case "mcp": {
        const item = entry.item as McpCallItem;
        item.arguments = call.args || "{}";
        result.arguments = item.arguments;
        if (!call.args) this.emit({ type: "response.mcp_call_arguments.delta", item_id: item.id, output_index: entry.index, delta: item.arguments });
        this.emit({ type: "response.mcp_call_arguments.done", item_id: item.id, output_index: entry.index, arguments: item.arguments });
        this.settle(entry.item, entry.index);
        break;
      }
    }
    return result;
  }

  /**
   * The code from the complete arguments. The streamed deltas must concatenate to `code`, so when the full parse
   * extends what was streamed, the rest is emitted as a final delta; null when the arguments are not valid JSON
   * with a string `code` (the engine tells the model instead of running anything).
   */
  private finalCode(call: OpenCall): string | null {
    const decoder = call.decoder!;
    let parsed: unknown;
    try {
      parsed = JSON.parse(call.args);
    } catch {
      // Invalid JSON from the model is reported to it by the engine (code null); nothing to stream.
      return null;
    }
    const code = typeof parsed === "object" && parsed !== null ? (parsed as { code?: unknown }).code : undefined;
    if (typeof code !== "string") return null;
    const streamed = decoder.value;
    if (code.startsWith(streamed) && code.length > streamed.length) {
      this.emit({ type: "response.code_interpreter_call_code.delta", item_id: call.item_id, output_index: call.output_index, delta: code.slice(streamed.length) });
      return code;
    }
    return code === streamed ? code : streamed;
  }

  private readonly pending = new Map<string, { item: OutputItem; index: number }>();

  private settle(item: OutputItem, index: number): void {
    this.items[index] = item;
  }

  private find<T extends OutputItem>(itemId: string): { item: T; index: number } {
    const entry = this.pending.get(itemId);
    if (!entry) throw new Error(`no open item ${itemId}`);
    return entry as { item: T; index: number };
  }

  private closeReasoning(): void {
    const r = this.reasoning;
    if (!r) return;
    this.reasoning = null;
    const item = r.item as ReasoningItem;
    item.content = [{ type: "reasoning_text", text: r.text }];
    this.emit({ type: this.reasoningEvent("done"), item_id: item.id, output_index: r.index, content_index: 0, text: r.text });
    this.emit({ type: "response.content_part.done", item_id: item.id, output_index: r.index, content_index: 0, part: { type: "reasoning_text", text: r.text } });
    this.items[r.index] = item;
    this.emit({ type: "response.output_item.done", output_index: r.index, item });
  }

  private closeMessage(incomplete: boolean): void {
    const m = this.message;
    if (!m) return;
    this.message = null;
    const item = m.item as MessageItem;
    const part = { type: "output_text" as const, text: m.text, annotations: [], logprobs: [] };
    item.content = [part];
    item.status = incomplete ? "incomplete" : "completed";
    this.emit({ type: "response.output_text.done", item_id: item.id, output_index: m.index, content_index: 0, text: m.text, logprobs: [] });
    this.emit({ type: "response.content_part.done", item_id: item.id, output_index: m.index, content_index: 0, part: { ...part } });
    this.items[m.index] = item;
    this.emit({ type: "response.output_item.done", output_index: m.index, item });
  }

  private reasoningEvent(kind: "delta"): "response.reasoning.delta" | "response.reasoning_text.delta";
  private reasoningEvent(kind: "done"): "response.reasoning.done" | "response.reasoning_text.done";
  private reasoningEvent(kind: "delta" | "done"): string {
    return this.opts.reasoningEventFormat === "openai" ? `response.reasoning_text.${kind}` : `response.reasoning.${kind}`;
  }

  private allocate(): number {
    this.items.push(undefined);
    return this.items.length - 1;
  }

  private snapshot(): ResponseObject {
    return { ...this.response, output: [] };
  }

  private emit(event: UnnumberedEvent): void {
    (event as ResponseEvent).sequence_number = this.seq++;
    this.out.push(event as ResponseEvent);
  }

  private take(): ResponseEvent[] {
    const events = this.out;
    this.out = [];
    return events;
  }
}
