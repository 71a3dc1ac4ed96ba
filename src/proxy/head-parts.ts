/**
 * An HTTP message head kept as the strings it is made of and written into one Buffer without
 * joining them. Joining (or writing a concatenated string) flattens the rope JavaScript builds for
 * `a + b`: one malloc per head on each leg of a proxied request, the proxy's largest remaining
 * allocations per request (counted with a uprobe on Bun's malloc). Parts are flat strings (constants,
 * cached strings, `String(n)`) or ranges of bytes (a client's header lines, a cached block).
 */
export class HeadParts {
  /** Each part as three entries: a string (or bytes) and the range of it that belongs to the head. One array, not three: less garbage per head. */
  private parts: (string | number | Uint8Array)[] = [];
  private size = 0;

  /**
   * A HeadParts from the spare list (reset), or a new one: a head's parts array grows several times
   * as a request's parts are added (each growth a copy and garbage); spare ones keep their room.
   */
  static take(): HeadParts {
    return SPARE.pop() ?? new HeadParts();
  }

  /**
   * Back to the spare list: the caller holds no reference to it any more, nor does anything it
   * started. Emptied now: its parts may be a client's read buffer, which a spare must not keep alive.
   */
  static give(h: HeadParts): void {
    if (SPARE.length < 64 && h.parts.length <= 1024) SPARE.push(h.reset());
  }

  /** Empty again, keeping the parts array's room (a head built and staged at once can reuse one HeadParts). */
  reset(): this {
    this.parts.length = 0;
    this.size = 0;
    return this;
  }

  add(s: string): this {
    this.parts.push(s, 0, s.length);
    this.size += s.length;
    return this;
  }

  /** Bytes already encoded (a cached block, a client's header line): b[start, end), copied when staged. */
  addBytes(b: Uint8Array, start = 0, end = b.byteLength): this {
    this.parts.push(b, start, end);
    this.size += end - start;
    return this;
  }

  /** One header line. */
  line(name: string, value: string): this {
    return this.add(name).add(": ").add(value).add("\r\n");
  }

  /** The head as one string (validation; not the hot path). */
  text(): string {
    let out = "";
    for (let k = 0; k < this.parts.length; k += 3) {
      const p = this.parts[k]!;
      const from = this.parts[k + 1] as number;
      const to = this.parts[k + 2] as number;
      const bytes = p as Uint8Array;
      out += typeof p === "string" ? p.slice(from, to) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1", from, to);
    }
    return out;
  }

  /**
   * The head's bytes (one char per byte: latin1, the low byte of each code unit), then `body` when
   * given, staged in a buffer shared by every head (see `staged`); returns their length. Copied by a
   * loop: a head is a few dozen short parts, and a native `write` per part cost 5× more (measured:
   * 570 vs 110 ns for a proxied request's head).
   */
  stage(body?: Uint8Array): number {
    const n = this.size + (body?.byteLength ?? 0);
    const b = room(n);
    const off = this.writeInto(b, 0);
    if (body) b.set(body, off);
    return n;
  }

  /** A request line (`method target HTTP/1.1`), this head, then `after`, staged (see `stage`). */
  stageRequest(method: string, target: string, after: readonly string[]): number {
    let n = method.length + target.length + 12 + this.size;
    for (const s of after) n += s.length;
    const b = room(n);
    let off = copyChars(b, 0, method, 0, method.length);
    b[off++] = 32;
    off = copyChars(b, off, target, 0, target.length);
    off = copyChars(b, off, " HTTP/1.1\r\n", 0, 11);
    off = this.writeInto(b, off);
    for (const s of after) off = copyChars(b, off, s, 0, s.length);
    return n;
  }

  private writeInto(b: Buffer, off: number): number {
    const p = this.parts;
    for (let k = 0; k < p.length; k += 3) {
      const part = p[k]!;
      const from = p[k + 1] as number;
      const to = p[k + 2] as number;
      if (typeof part === "string") off = copyChars(b, off, part, from, to);
      else {
        const bytes = part as Uint8Array;
        // a header line is a few dozen bytes: a loop beats a native call; a long one (a cookie) is
        // copied natively, without a subarray (a view of a read buffer costs mallocs, see copyOut)
        if (from === 0 && to === bytes.byteLength) b.set(bytes, off);
        else if (to - from <= 64) for (let i = from, o = off; i < to; i++) b[o++] = bytes[i]!;
        else if (bytes instanceof Buffer) bytes.copy(b, off, from, to);
        else b.set(bytes.subarray(from, to), off);
        off += to - from;
      }
    }
    return off;
  }
}

const SPARE: HeadParts[] = [];

function copyChars(b: Buffer, off: number, s: string, from: number, to: number): number {
  for (let i = from; i < to; i++) b[off++] = s.charCodeAt(i);
  return off;
}

/*
 * Heads are staged in one buffer and written from it (`socket.write(buf, 0, n)`): a socket that
 * takes them whole needs no Buffer per head, and those were two of the ~47 GC-heap objects a proxied
 * request allocated (counted with bun:jsc heapStats), garbage whose young-generation collections
 * set the c=1 tail. A socket that takes only part: the writer copies the rest before the next head
 * is staged (JavaScript runs one head at a time, and a socket write calls back nothing).
 */
const KEPT = 64 * 1024;
let shared = Buffer.allocUnsafe(16 * 1024);
let current = shared;

/** A buffer of at least n bytes to stage into: the shared one (grown up to KEPT), or a one-off for larger heads with bodies. */
function room(n: number): Buffer {
  if (n <= shared.length) return (current = shared);
  if (n <= KEPT) return (current = shared = Buffer.allocUnsafe(Math.min(KEPT, 2 ** Math.ceil(Math.log2(n)))));
  return (current = Buffer.allocUnsafe(n));
}

/** The bytes the last `stage`/`stageRequest` produced start here; valid until the next one. */
export function staged(): Buffer {
  return current;
}
