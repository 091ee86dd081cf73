/**
 * fast-check arbitraries for hostile `POST /v1/responses` bodies: valid seed requests, structural mutations of
 * them (wrong types, nulls, huge numbers, hostile unicode, deep nesting, unknown item/tool types, deleted and
 * duplicated parts), and byte-level damage of their JSON text (truncation, insertion, invalid UTF-8). Mutations are
 * plans (seed index + operations) applied deterministically, so fast-check can shrink a failure to a small case.
 */
import fc from "fast-check";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const TYPE_NAMES = [
  "message", "function_call", "function_call_output", "reasoning", "item_reference", "input_text", "input_image",
  "input_file", "input_audio", "output_text", "refusal", "summary_text", "reasoning_text", "function", "mcp",
  "code_interpreter", "web_search", "web_search_preview", "file_search", "custom", "computer_use_preview",
  "local_shell", "image_generation", "mcp_call", "mcp_approval_request", "mcp_approval_response", "mcp_list_tools",
  "code_interpreter_call", "json_schema", "json_object", "text", "teleport", "",
];
const ROLES = ["user", "assistant", "system", "developer", "tool", "robot"];

const hostileString = fc.oneof(
  fc.constantFrom("", " ", "\u0000", "\ud800", "\udfff", "a\ud83d", "💥🎉👩‍👩‍👧", "\u202eevil", "\u200b", "\\", '"', "null", "[]", "{}", "NaN", "-Infinity", "mcp__x", "resp_", "resp_00000000000000000000000000000000"),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom(...TYPE_NAMES, ...ROLES),
  fc.nat({ max: 200_000 }).map((n) => "x".repeat(n)),
);

const hostileNumber = fc.oneof(
  fc.constantFrom(0, -0, -1, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, 2 ** 32 + 1, 0.5, 2.0000001),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

const nested = (depth: number, leaf: Json): Json => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { a: v };
  return v;
};

/** A value to put somewhere it does not belong. */
export const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.array(fc.constant(null), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom(...TYPE_NAMES), role: fc.constantFrom(...ROLES), content: hostileString }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 90 }), fc.jsonValue({ maxDepth: 1 })).map(([d, leaf]) => nested(d, leaf as Json)) },
);

export type MutationOp =
  | { kind: "replace"; at: number; value: Json }
  | { kind: "delete"; at: number }
  | { kind: "add-key"; at: number; key: string; value: Json }
  | { kind: "duplicate"; at: number; times: number }
  | { kind: "retype"; at: number; type: string };

export const mutationOp: fc.Arbitrary<MutationOp> = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), value: hostileValue }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("add-key" as const), at: fc.nat(), key: fc.oneof(fc.constantFrom("type", "role", "content", "id", "call_id", "name", "arguments", "output", "tools", "input", "stream", "authorization", "server_url", "__proto__", "constructor"), fc.string({ maxLength: 8 })), value: hostileValue }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat(), times: fc.integer({ min: 1, max: 300 }) }),
  fc.record({ kind: fc.constant("retype" as const), at: fc.nat(), type: fc.constantFrom(...TYPE_NAMES) }),
);

type Path = Array<string | number>;

function paths(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

function parentOf(root: Json, path: Path): { parent: Json; key: string | number } | null {
  if (path.length === 0) return null;
  let node: Json = root;
  for (const step of path.slice(0, -1)) node = (node as Record<string | number, Json>)[step]!;
  return { parent: node, key: path[path.length - 1]! };
}

/** Applies one operation to a deep copy's node chosen by `at` (modulo the number of nodes). */
export function applyOp(root: Json, op: MutationOp): Json {
  const all = paths(root);
  const path = all[op.at % all.length]!;
  const located = parentOf(root, path);
  const set = (v: Json): Json => {
    if (!located) return v;
    (located.parent as Record<string | number, Json>)[located.key] = v;
    return root;
  };
  const current = located ? (located.parent as Record<string | number, Json>)[located.key]! : root;
  switch (op.kind) {
    case "replace":
      return set(op.value);
    case "delete":
      if (!located) return root;
      if (Array.isArray(located.parent)) located.parent.splice(located.key as number, 1);
      else delete (located.parent as Record<string, Json>)[located.key as string];
      return root;
    case "add-key":
      if (current !== null && typeof current === "object" && !Array.isArray(current)) {
        Object.defineProperty(current, op.key, { value: op.value, enumerable: true, writable: true, configurable: true });
      }
      return root;
    case "duplicate":
      if (Array.isArray(current) && current.length > 0) current.push(...Array<Json>(op.times).fill(current[0]!));
      return root;
    case "retype":
      if (current !== null && typeof current === "object" && !Array.isArray(current)) current.type = op.type;
      return root;
  }
}

export interface StructuralCase {
  seed: number;
  ops: MutationOp[];
}

export function structuralCase(seedCount: number): fc.Arbitrary<StructuralCase> {
  return fc.record({ seed: fc.nat({ max: seedCount - 1 }), ops: fc.array(mutationOp, { minLength: 1, maxLength: 4 }) });
}

export function buildStructural(seeds: readonly Json[], c: StructuralCase): Json {
  let value = structuredClone(seeds[c.seed]!) as Json;
  for (const op of c.ops) value = applyOp(value, op);
  return value;
}

export type TextDamage =
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; text: string }
  | { kind: "delete-range"; at: number; length: number }
  | { kind: "bytes"; at: number; bytes: number[] }
  | { kind: "wrap"; prefix: string; suffix: string };

export const textDamage: fc.Arbitrary<TextDamage> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(",", "}", "]", '"', "\\", ":", "{", "[", "\u0000", "\ufeff", "/*", "NaN", "undefined"), fc.string({ unit: "binary", maxLength: 6 })) }),
  fc.record({ kind: fc.constant("delete-range" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant("bytes" as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant("wrap" as const), prefix: fc.constantFrom("", "\ufeff", " ", "[", "//", "\u0000"), suffix: fc.constantFrom("", "x", "}", "\n{}", ",") }),
);

/** The damaged body as bytes (byte damage can make it invalid UTF-8, which only a byte body can carry). */
export function damageText(json: string, d: TextDamage): Uint8Array {
  const enc = new TextEncoder();
  switch (d.kind) {
    case "truncate":
      return enc.encode(json.slice(0, d.at % Math.max(1, json.length)));
    case "insert": {
      const at = d.at % (json.length + 1);
      return enc.encode(json.slice(0, at) + d.text + json.slice(at));
    }
    case "delete-range": {
      const at = d.at % Math.max(1, json.length);
      return enc.encode(json.slice(0, at) + json.slice(at + d.length));
    }
    case "bytes": {
      const bytes = enc.encode(json);
      const at = d.at % (bytes.length + 1);
      const out = new Uint8Array(bytes.length + d.bytes.length);
      out.set(bytes.subarray(0, at), 0);
      out.set(d.bytes, at);
      out.set(bytes.subarray(at), at + d.bytes.length);
      return out;
    }
    case "wrap":
      return enc.encode(d.prefix + json + d.suffix);
  }
}
