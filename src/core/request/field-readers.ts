/**
 * Typed readers for untrusted JSON. Each failure is a 400 naming the exact field path (`tools[0].name`), which
 * is what clients need to fix a request; none of them ever throws anything but GatewayError.
 */
import { invalidRequest } from "../errors.js";

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

export function expectObject(value: unknown, param: string): JsonObject {
  if (!isObject(value)) throw invalidRequest(`Invalid type for '${param}': expected an object, but got ${describe(value)}.`, param, "invalid_type");
  return value;
}

export function expectArray(value: unknown, param: string): unknown[] {
  if (!Array.isArray(value)) throw invalidRequest(`Invalid type for '${param}': expected an array, but got ${describe(value)}.`, param, "invalid_type");
  return value;
}

export function expectString(value: unknown, param: string): string {
  if (typeof value !== "string") throw invalidRequest(`Invalid type for '${param}': expected a string, but got ${describe(value)}.`, param, "invalid_type");
  return value;
}

export function optionalString(value: unknown, param: string): string | undefined {
  return value === undefined || value === null ? undefined : expectString(value, param);
}

export function expectBoolean(value: unknown, param: string): boolean {
  if (typeof value !== "boolean") throw invalidRequest(`Invalid type for '${param}': expected a boolean, but got ${describe(value)}.`, param, "invalid_type");
  return value;
}

export function optionalBoolean(value: unknown, param: string): boolean | undefined {
  return value === undefined || value === null ? undefined : expectBoolean(value, param);
}

export function optionalNumber(value: unknown, param: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw invalidRequest(`Invalid type for '${param}': expected a number, but got ${describe(value)}.`, param, "invalid_type");
  }
  if (value < min || value > max) throw invalidRequest(`Invalid '${param}': ${value} is outside [${min}, ${max}].`, param, "invalid_value");
  return value;
}

export function optionalInteger(value: unknown, param: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const n = optionalNumber(value, param, min, max);
  if (n !== undefined && !Number.isInteger(n)) throw invalidRequest(`Invalid '${param}': expected an integer, but got ${n}.`, param, "invalid_type");
  return n;
}

export function expectOneOf<T extends string>(value: unknown, allowed: readonly T[], param: string): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw invalidRequest(
      `Invalid value for '${param}': expected one of ${allowed.map((a) => `'${a}'`).join(", ")}, but got ${JSON.stringify(value)}.`,
      param,
      "invalid_value",
    );
  }
  return value as T;
}

export function stringRecord(value: unknown, param: string): Record<string, string> {
  const obj = expectObject(value, param);
  for (const [k, v] of Object.entries(obj)) expectString(v, `${param}.${k}`);
  return obj as Record<string, string>;
}
