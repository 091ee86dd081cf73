/**
 * Validates what the gateway emits against the Open Responses OpenAPI document (test/fixtures/spec). Item and
 * event types the spec does not define (code_interpreter_call, mcp_*) are checked against small local schemas
 * that follow OpenAI's published shapes, so every emitted object is validated by something.
 */
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const spec = JSON.parse(readFileSync(fileURLToPath(new URL("../fixtures/spec/openresponses-openapi.json", import.meta.url)), "utf8"));
const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ strict: false, allErrors: true, validateFormats: true });
(addFormats as unknown as (a: unknown) => void)(ajv);
ajv.addSchema({ $id: "spec", components: spec.components });
const ref = (name: string) => ajv.compile({ $ref: `spec#/components/schemas/${name}` });

const EVENT_SCHEMAS: Record<string, string> = {
  "response.created": "ResponseCreatedStreamingEvent",
  "response.in_progress": "ResponseInProgressStreamingEvent",
  "response.completed": "ResponseCompletedStreamingEvent",
  "response.failed": "ResponseFailedStreamingEvent",
  "response.incomplete": "ResponseIncompleteStreamingEvent",
  "response.output_item.added": "ResponseOutputItemAddedStreamingEvent",
  "response.output_item.done": "ResponseOutputItemDoneStreamingEvent",
  "response.content_part.added": "ResponseContentPartAddedStreamingEvent",
  "response.content_part.done": "ResponseContentPartDoneStreamingEvent",
  "response.output_text.delta": "ResponseOutputTextDeltaStreamingEvent",
  "response.output_text.done": "ResponseOutputTextDoneStreamingEvent",
  "response.reasoning.delta": "ResponseReasoningDeltaStreamingEvent",
  "response.reasoning.done": "ResponseReasoningDoneStreamingEvent",
  "response.function_call_arguments.delta": "ResponseFunctionCallArgumentsDeltaStreamingEvent",
  "response.function_call_arguments.done": "ResponseFunctionCallArgumentsDoneStreamingEvent",
  error: "ErrorStreamingEvent",
};
const validators = new Map(Object.entries(EVENT_SCHEMAS).map(([t, s]) => [t, ref(s)]));
const responseValidator = ref("ResponseResource");

const SPEC_ITEM_TYPES = new Set(["message", "function_call", "function_call_output", "reasoning"]);

const str = { type: "string" };
const extensionItems: Record<string, object> = {
  code_interpreter_call: {
    type: "object",
    required: ["type", "id", "container_id", "code", "status", "outputs"],
    properties: {
      type: { const: "code_interpreter_call" },
      id: { type: "string", pattern: "^ci_" },
      container_id: str,
      code: str,
      status: { enum: ["in_progress", "interpreting", "completed", "incomplete", "failed"] },
      outputs: { anyOf: [{ type: "null" }, { type: "array", items: { type: "object", required: ["type", "logs"], properties: { type: { const: "logs" }, logs: str } } }] },
    },
  },
  mcp_call: {
    type: "object",
    required: ["type", "id", "server_label", "name", "arguments", "status"],
    properties: { type: { const: "mcp_call" }, id: { type: "string", pattern: "^mcp_" }, server_label: str, name: str, arguments: str, status: { enum: ["in_progress", "completed", "failed", "incomplete", "calling"] }, output: { type: ["string", "null"] }, error: { type: ["string", "null"] } },
  },
  mcp_list_tools: { type: "object", required: ["type", "id", "server_label", "tools"], properties: { type: { const: "mcp_list_tools" }, server_label: str, tools: { type: "array" } } },
  mcp_approval_request: { type: "object", required: ["type", "id", "server_label", "name", "arguments"], properties: { type: { const: "mcp_approval_request" }, id: str, server_label: str, name: str, arguments: str } },
};
const extensionItemValidators = new Map(Object.entries(extensionItems).map(([t, s]) => [t, ajv.compile(s)]));
const extensionEvent = ajv.compile({
  type: "object",
  required: ["type", "sequence_number", "item_id", "output_index"],
  properties: { type: str, sequence_number: { type: "integer" }, item_id: str, output_index: { type: "integer" }, delta: str, code: str, arguments: str },
});

function check(validate: ReturnType<typeof ref>, value: unknown, what: string): void {
  if (!validate(value)) throw new Error(`${what} does not match the spec: ${ajv.errorsText(validate.errors, { separator: "\n  " })}\n${JSON.stringify(value).slice(0, 600)}`);
}

function validateItem(item: any, what: string): void {
  const ext = extensionItemValidators.get(item.type);
  if (ext) check(ext, item, what);
  else if (!SPEC_ITEM_TYPES.has(item.type)) throw new Error(`${what}: unknown item type ${item.type}`);
}

/** Splits extension items out so the spec's ItemField oneOf sees only the types it defines. */
function specView(response: any): any {
  for (const [i, item] of response.output.entries()) validateItem(item, `output[${i}]`);
  // The spec's Tool union only defines function tools; built-in tool declarations are echoed as OpenAI does.
  return { ...response, output: response.output.filter((i: any) => SPEC_ITEM_TYPES.has(i.type)), tools: response.tools.filter((t: any) => t.type === "function"), tool_choice: typeof response.tool_choice === "object" && ["mcp", "code_interpreter"].includes(response.tool_choice?.type) ? "auto" : response.tool_choice };
}

export function validateResponse(response: unknown): void {
  check(responseValidator, specView(response), "response");
}

export function validateEvent(event: any): void {
  const v = validators.get(event.type);
  if (event.type === "response.output_item.added" || event.type === "response.output_item.done") {
    validateItem(event.item, event.type);
    if (!SPEC_ITEM_TYPES.has(event.item.type)) return;
  }
  if ("response" in event) {
    check(v!, { ...event, response: specView(event.response) }, event.type);
    return;
  }
  if (v) check(v, event, event.type);
  else if (event.type === "response.reasoning_text.delta" || event.type === "response.reasoning_text.done") {
    check(validators.get(event.type.replace("reasoning_text", "reasoning"))!, { ...event, type: event.type.replace("reasoning_text", "reasoning") }, event.type);
  } else check(extensionEvent, event, event.type);
}

export function validateEvents(events: any[]): void {
  for (const e of events) validateEvent(e);
}
