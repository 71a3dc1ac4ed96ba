/**
 * The client's request body as the upstream sees it, with Pingora's replay buffer: chunks are kept
 * while the total stays within `limit` so a retry can send the body again; past the limit the
 * buffer is dropped and the body can no longer be replayed (a retry then answers 502).
 */
export class BodySource {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private overflow = false;
  private done = false;
  private pending?: Promise<void>;
  private reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void>; readonly closed: Promise<unknown> };

  /**
   * `signal`: aborts when the client is gone (Bun.serve's req.signal). The client can leave while
   * nobody reads the body — the upstream stopped taking it, so the pump waits on a write — and a
   * read would be the only way to learn it: a stream the front errors (the raw front's) rejects
   * `closed` at once, while Bun.serve's body stream errors only on the next read and reports the
   * loss through req.signal instead (measured, Bun 1.4.5).
   */
  constructor(stream: ReadableStream<Uint8Array>, private readonly limit: number, signal?: AbortSignal) {
    this.reader = stream.getReader();
    this.reader.closed.catch((e: unknown) => this.abandon(e));
    signal?.addEventListener("abort", () => this.abandon(signal.reason), { once: true });
  }

  /** Set by the body pump while it sends this body: called once if the client's upload fails meanwhile. */
  onAbandon?: () => void;

  private abandon(e: unknown): void {
    // a body read to its end was delivered whole: the client leaving later is not an upload failure
    if (this.done) return;
    this.failed ??= e instanceof Error ? e : new Error("client closed the connection mid-upload");
    const f = this.onAbandon;
    this.onAbandon = undefined;
    f?.();
  }

  /** True while every byte read so far is still held (a retry can resend it all). */
  get replayable(): boolean {
    return !this.overflow;
  }

  /** A fresh pass over the body: buffered chunks first, then the rest as it arrives. */
  async *iterate(): AsyncGenerator<Uint8Array> {
    let i = 0;
    if (this.overflow) throw new Error("request body is larger than the replay buffer");
    // a retry starts a new pass while the failed attempt's pass may still wait on the same read:
    // the old pass must end without taking anything (a chunk it took would be lost to the retry)
    const pass = ++this.passes;
    for (;;) {
      if (pass !== this.passes) return;
      if (i < this.chunks.length) {
        yield this.chunks[i++]!;
        continue;
      }
      if (this.overflow) {
        // past the buffer: chunks are handed straight through, never stored
        const r = await this.read();
        if (r.done) return;
        yield r.value!;
        continue;
      }
      if (this.done) return;
      this.pending ??= this.readMore();
      await this.pending;
      this.pending = undefined;
      if (pass !== this.passes) return;
      if (this.overflow && this.lastUnstored) {
        const c = this.lastUnstored;
        this.lastUnstored = undefined;
        yield c;
      }
    }
  }

  private lastUnstored?: Uint8Array;
  /** iterate() calls so far: the latest pass is the only one that reads. */
  private passes = 0;

  /** The client's body stream failed (aborted upload, body over Bun's limit): not the upstream's fault. */
  failed?: Error;

  private async read(): Promise<{ done: boolean; value?: Uint8Array }> {
    try {
      const r = await this.reader.read();
      if (r.done) this.done = true;
      return r;
    } catch (e) {
      this.failed = e as Error;
      throw e;
    }
  }

  private async readMore(): Promise<void> {
    const r = await this.read();
    if (r.done) return;
    this.size += r.value!.byteLength;
    if (this.size > this.limit) {
      this.overflow = true;
      this.lastUnstored = r.value!;
      this.chunks = [];
    } else this.chunks.push(r.value!);
  }

  cancel(): void {
    this.reader.cancel().catch(() => {});
  }
}
