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
  private reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> };

  constructor(stream: ReadableStream<Uint8Array>, private readonly limit: number) {
    this.reader = stream.getReader();
  }

  /** True while every byte read so far is still held (a retry can resend it all). */
  get replayable(): boolean {
    return !this.overflow;
  }

  /** A fresh pass over the body: buffered chunks first, then the rest as it arrives. */
  async *iterate(): AsyncGenerator<Uint8Array> {
    let i = 0;
    if (this.overflow) throw new Error("request body is larger than the replay buffer");
    for (;;) {
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
      if (this.overflow && this.lastUnstored) {
        const c = this.lastUnstored;
        this.lastUnstored = undefined;
        yield c;
      }
    }
  }

  private lastUnstored?: Uint8Array;

  /** The client's body stream failed (aborted upload, body over Bun's limit): not the upstream's fault. */
  failed?: Error;

  private async read(): Promise<{ done: boolean; value?: Uint8Array }> {
    try {
      return await this.reader.read();
    } catch (e) {
      this.failed = e as Error;
      throw e;
    }
  }

  private async readMore(): Promise<void> {
    const r = await this.read();
    if (r.done) {
      this.done = true;
      return;
    }
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
