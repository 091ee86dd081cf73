/**
 * What the model reads back after a gateway tool ran. Plain text, shaped like a REPL transcript, so models that
 * were never trained on our JSON still understand it.
 */
export interface CodeResultLike {
  status: string;
  stdout: string;
  stderr: string;
  result: string | null;
  error?: string;
}

export function codeInterpreterResultText(r: CodeResultLike): string {
  const parts: string[] = [];
  if (r.stdout) parts.push(r.stdout.replace(/\n$/, ""));
  if (r.stderr) parts.push(r.stderr.replace(/\n$/, ""));
  if (r.result !== null && r.result !== "") parts.push(r.result);
  if (r.status === "timeout" || r.status === "error") parts.push(`[execution ${r.status}: ${r.error ?? "no details"}]`);
  return parts.length > 0 ? parts.join("\n") : "(no output)";
}
