/**
 * Reads the operator's egress policy file (`--code-interpreter-egress-policy FILE`). Errors name the file and
 * the offending field, so a bad policy stops start-up with one readable line instead of running unguarded.
 */
import { readFile } from "node:fs/promises";
import { type EgressPolicy, EgressPolicyError, parseEgressPolicyJson } from "../../../src/tools/code-interpreter/egress-policy.js";

export async function loadEgressPolicyFile(path: string): Promise<EgressPolicy> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    // Re-raised with the path: the bare ENOENT from fs does not say which flag pointed there.
    throw new EgressPolicyError(`Cannot read code interpreter egress policy ${path}: ${(error as Error).message}`);
  }
  return parseEgressPolicyJson(text, path);
}
