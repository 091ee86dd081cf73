/**
 * Parsing of `VR_*` values. A value that is present but malformed is a startup error naming the variable —
 * never silently replaced by the default.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export type EnvRecord = Record<string, string | undefined>;

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off"]);

/** Empty strings count as unset (shell templates often export `VAR=`). */
function raw(env: EnvRecord, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

export function envBool(env: EnvRecord, name: string, fallback: boolean): boolean {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  const lower = v.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(v)} is not a boolean (use 1/true/yes/on or 0/false/no/off).`);
}

export function envNumber(env: EnvRecord, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(`${name}=${JSON.stringify(v)} must be a number in [${min}, ${max}].`);
  return n;
}

export function envString(env: EnvRecord, name: string, fallback: string): string;
export function envString(env: EnvRecord, name: string, fallback?: undefined): string | undefined;
export function envString(env: EnvRecord, name: string, fallback?: string): string | undefined {
  return raw(env, name) ?? fallback;
}

export function envChoice<T extends string>(env: EnvRecord, name: string, choices: readonly T[], fallback: T): T {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (!(choices as readonly string[]).includes(v)) throw new ConfigError(`${name}=${JSON.stringify(v)} must be one of ${choices.join(", ")}.`);
  return v as T;
}

export function envList(env: EnvRecord, name: string): string[] {
  const v = raw(env, name);
  return v === undefined ? [] : v.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}
