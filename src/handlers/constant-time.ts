/**
 * String comparison whose time does not depend on where the strings differ, so API keys cannot be guessed byte
 * by byte from response timings. UTF-16 code units are compared directly: encoding to UTF-8 first would make
 * distinct strings equal (every lone surrogate encodes to the same U+FFFD bytes).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  // Both strings are walked over the longer length (wrapping the shorter), so the loop never exits early.
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i % (a.length || 1)) || 0) ^ (b.charCodeAt(i % (b.length || 1)) || 0);
  return diff === 0;
}
