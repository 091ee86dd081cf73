/**
 * stdout/stderr capture in SharedArrayBuffers written by the worker and read by the pool. Shared memory,
 * not messages, because a job that is hard-killed (terminate()) can still report what it printed before it
 * hung — exactly the output a model needs to see why its code timed out.
 *
 * Layout: Int32 [0] = bytes used, Int32 [1] = 1 when bytes were dropped; bytes from offset 8.
 */

const headerBytes = 8;

export function createOutputBuffer(capacityBytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(headerBytes + capacityBytes);
}

export class OutputWriter {
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, 2);
    this.bytes = new Uint8Array(buffer, headerBytes);
  }

  reset(): void {
    Atomics.store(this.header, 0, 0);
    Atomics.store(this.header, 1, 0);
  }

  /** Keeps what fits; never splits a UTF-8 sequence, so the reader never decodes half a character. */
  write(chunk: Uint8Array): void {
    const used = Atomics.load(this.header, 0);
    const room = this.bytes.length - used;
    let take = Math.min(room, chunk.length);
    if (take < chunk.length) {
      // Back off to a character boundary: bytes 10xxxxxx continue the previous character.
      while (take > 0 && ((chunk[take] ?? 0) & 0xc0) === 0x80) take--;
      Atomics.store(this.header, 1, 1);
    }
    if (take > 0) {
      this.bytes.set(chunk.subarray(0, take), used);
      // Stored last (sequentially consistent), so a reader that sees the new length also sees the bytes.
      Atomics.store(this.header, 0, used + take);
    }
  }
}

export function readOutput(buffer: SharedArrayBuffer): { text: string; truncated: boolean } {
  const header = new Int32Array(buffer, 0, 2);
  const used = Atomics.load(header, 0);
  const truncated = Atomics.load(header, 1) === 1;
  // TextDecoder refuses views on shared memory, so copy the used part out first.
  const copy = new Uint8Array(used);
  copy.set(new Uint8Array(buffer, headerBytes, used));
  return { text: new TextDecoder().decode(copy), truncated };
}
