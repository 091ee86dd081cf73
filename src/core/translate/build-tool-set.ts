/**
 * Effective tools + tool_choice → what vLLM is offered (function definitions + a forwarded tool_choice) and how
 * a called name routes back (client function / code interpreter / MCP). vLLM enforces tool_choice with guided
 * decoding, so forcing is real, not a polite instruction in the prompt.
 */
import { invalidRequest } from "../errors.js";
import type { ChatFunctionTool, ChatToolChoice } from "../protocol/chat.js";
import type { McpTool, ToolChoice, ToolDeclaration } from "../protocol/request.js";
import type { ToolRoute } from "../compose/tool-route.js";
import { CODE_INTERPRETER_FUNCTION, mcpModelName } from "./tool-names.js";

export interface McpToolDescriptor {
  name: string;
  description: string | null;
  input_schema: Record<string, unknown>;
}

/** What each declared MCP server offers (already filtered by allowed_tools), keyed by server_label. */
export type McpInventory = Map<string, McpToolDescriptor[]>;

export interface ToolSet {
  chatTools: ChatFunctionTool[];
  chatToolChoice: ChatToolChoice | undefined;
  route(name: string): ToolRoute;
  hasGatewayTools: boolean;
  /** The same tool set with gateway tools withdrawn (after max_tool_calls is used up). */
  withoutGatewayTools(): ToolSet;
}

const CODE_INTERPRETER_DEFINITION: ChatFunctionTool = {
  type: "function",
  function: {
    name: CODE_INTERPRETER_FUNCTION,
    description:
      "Run Python 3 code in a sandbox (Pyodide: standard library only, fresh state every call, no files persist). Returns stdout, stderr and the value of the last expression. Use it for calculations, data wrangling and checking your work.",
    parameters: {
      type: "object",
      properties: { code: { type: "string", description: "The Python code to execute." } },
      required: ["code"],
      additionalProperties: false,
    },
  },
};

interface Entry {
  def: ChatFunctionTool;
  route: ToolRoute;
  /** Which tool_choice selector matches it. */
  key: { kind: "function"; name: string } | { kind: "code_interpreter" } | { kind: "mcp"; server_label: string; tool_name: string };
}

export function buildToolSet(tools: readonly ToolDeclaration[], choice: ToolChoice | undefined, mcp: McpInventory): ToolSet {
  const entries: Entry[] = [];
  const names = new Set<string>();
  const add = (entry: Entry, param: string): void => {
    const name = entry.def.function.name;
    if (names.has(name)) throw invalidRequest(`Tool name '${name}' is declared twice (built-in tools use the names code_interpreter and mcp__<label>__<tool>).`, param, "invalid_value");
    names.add(name);
    entries.push(entry);
  };
  tools.forEach((tool, i) => {
    switch (tool.type) {
      case "function":
        add(
          {
            def: {
              type: "function",
              function: {
                name: tool.name,
                ...(tool.description ? { description: tool.description } : {}),
                parameters: tool.parameters ?? { type: "object", properties: {} },
                ...(tool.strict === true ? { strict: true } : {}),
              },
            },
            route: { kind: "function" },
            key: { kind: "function", name: tool.name },
          },
          `tools[${i}].name`,
        );
        return;
      case "code_interpreter":
        add({ def: CODE_INTERPRETER_DEFINITION, route: { kind: "code_interpreter" }, key: { kind: "code_interpreter" } }, `tools[${i}]`);
        return;
      case "mcp":
        for (const t of mcp.get(tool.server_label) ?? []) {
          add(
            {
              def: {
                type: "function",
                function: {
                  name: mcpModelName(tool.server_label, t.name),
                  description: t.description ?? `MCP tool ${tool.server_label}:${t.name}`,
                  parameters: { ...t.input_schema, type: "object" },
                },
              },
              route: { kind: "mcp", server_label: tool.server_label, tool_name: t.name, requires_approval: requiresApproval(tool, t.name) },
              key: { kind: "mcp", server_label: tool.server_label, tool_name: t.name },
            },
            `tools[${i}]`,
          );
        }
        return;
      default: {
        const never: never = tool;
        throw new Error(`unhandled tool ${JSON.stringify(never)}`);
      }
    }
  });
  return makeToolSet(entries, choice, tools);
}

function makeToolSet(entries: Entry[], choice: ToolChoice | undefined, tools: readonly ToolDeclaration[]): ToolSet {
  const { offered, chatToolChoice } = applyChoice(entries, choice, tools);
  const routes = new Map(entries.map((e) => [e.def.function.name, e.route]));
  const set: ToolSet = {
    chatTools: offered.map((e) => e.def),
    chatToolChoice,
    // A name the model invented is returned to the client as a function call: the client decides what it means.
    route: (name) => routes.get(name) ?? { kind: "function" },
    hasGatewayTools: entries.some((e) => e.route.kind !== "function"),
    withoutGatewayTools: () => {
      const remaining = offered.filter((e) => e.route.kind === "function");
      const forced = chatToolChoice !== undefined && typeof chatToolChoice === "object" && !remaining.some((e) => e.def.function.name === chatToolChoice.function.name);
      return {
        ...set,
        chatTools: remaining.map((e) => e.def),
        chatToolChoice: remaining.length === 0 ? undefined : forced || chatToolChoice === "required" ? "auto" : chatToolChoice,
        hasGatewayTools: false,
      };
    },
  };
  return set;
}

function applyChoice(entries: Entry[], choice: ToolChoice | undefined, tools: readonly ToolDeclaration[]): { offered: Entry[]; chatToolChoice: ChatToolChoice | undefined } {
  if (choice === undefined) return { offered: entries, chatToolChoice: entries.length > 0 ? "auto" : undefined };
  if (typeof choice === "string") {
    if (choice === "required" && entries.length === 0) throw invalidRequest("tool_choice 'required' needs at least one tool.", "tool_choice", "invalid_value");
    return { offered: entries, chatToolChoice: entries.length > 0 ? choice : undefined };
  }
  switch (choice.type) {
    case "function": {
      const e = entries.find((x) => x.key.kind === "function" && x.key.name === choice.name);
      if (!e) throw invalidRequest(`tool_choice.name '${choice.name}' is not one of the function tools of this request.`, "tool_choice.name", "invalid_value");
      return { offered: entries, chatToolChoice: { type: "function", function: { name: choice.name } } };
    }
    case "code_interpreter": {
      if (!entries.some((x) => x.key.kind === "code_interpreter")) throw invalidRequest("tool_choice selects code_interpreter, but it is not in tools.", "tool_choice", "invalid_value");
      return { offered: entries, chatToolChoice: { type: "function", function: { name: CODE_INTERPRETER_FUNCTION } } };
    }
    case "mcp": {
      const matching = mcpMatches(entries, choice.server_label, choice.name ?? null, tools, "tool_choice");
      if (choice.name) return { offered: entries, chatToolChoice: { type: "function", function: { name: matching[0].def.function.name } } };
      // Any tool of one server: offer only that server's tools and require a call.
      return { offered: matching, chatToolChoice: "required" };
    }
    case "allowed_tools": {
      const allowed = new Set<Entry>();
      choice.tools.forEach((sel, i) => {
        const param = `tool_choice.tools[${i}]`;
        if (sel.type === "function") {
          const e = entries.find((x) => x.key.kind === "function" && x.key.name === sel.name);
          if (!e) throw invalidRequest(`${param}: function '${sel.name}' is not in tools.`, param, "invalid_value");
          allowed.add(e);
        } else if (sel.type === "code_interpreter") {
          const e = entries.find((x) => x.key.kind === "code_interpreter");
          if (!e) throw invalidRequest(`${param}: code_interpreter is not in tools.`, param, "invalid_value");
          allowed.add(e);
        } else {
          for (const e of mcpMatches(entries, sel.server_label, sel.name ?? null, tools, param)) allowed.add(e);
        }
      });
      const offered = entries.filter((e) => allowed.has(e));
      return { offered, chatToolChoice: choice.mode };
    }
  }
}

function mcpMatches(entries: Entry[], label: string, name: string | null, tools: readonly ToolDeclaration[], param: string): Entry[] {
  if (!tools.some((t) => t.type === "mcp" && t.server_label === label)) throw invalidRequest(`${param}: MCP server_label '${label}' is not declared in tools.`, param, "invalid_value");
  const matching = entries.filter((x) => x.key.kind === "mcp" && x.key.server_label === label && (name === null || x.key.tool_name === name));
  if (matching.length === 0) {
    throw invalidRequest(name ? `${param}: MCP tool '${name}' is not offered by server '${label}' (check allowed_tools).` : `${param}: MCP server '${label}' offers no tools.`, param, "invalid_value");
  }
  return matching;
}

/**
 * OpenAI asks for approval by default; we follow it for remote servers (`server_url`, third-party code) and
 * default to `never` for built-in servers, which the operator configured and vouched for.
 */
export function requiresApproval(tool: McpTool, toolName: string): boolean {
  const ra = tool.require_approval;
  if (ra === undefined || ra === null) return tool.server_url !== undefined;
  if (ra === "always") return true;
  if (ra === "never") return false;
  if (ra.always?.tool_names?.includes(toolName)) return true;
  if (ra.never?.tool_names?.includes(toolName)) return false;
  // A filter object that does not name the tool: OpenAI treats unlisted tools as requiring approval.
  return ra.never !== undefined && ra.always === undefined ? true : ra.always !== undefined && ra.never === undefined ? false : true;
}
