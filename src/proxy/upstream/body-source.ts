import type { RelaySink } from "./response-body.ts";

/**
 * A client body that can skip its stream: the rest of it written from each of the client socket's
 * reads straight to the upstream (the raw front's Content-Length bodies; see BodySource.relayRest).
 */
export interface ClientBodyRelay {
  /** Bytes the stream holds that no read has taken yet (they go first, through the stream). */
  queued(): number;
  /** Send the rest to `sink` instead of the stream; false when the body cannot be relayed now. */
  relay(sink: RelaySink): boolean;
  /** The sink took what it held back: read on. */
  resume(): void;
  /** The sink cannot take more (its upstream failed): the rest goes back to the stream. */
  cancel(): void;
}

const RELAY = Symbol("securely.clientBodyRelay");

/** Mark `stream` as a body `relay` can send on without it. */
export function relayableBody(stream: ReadableStream<Uint8Array>, relay: ClientBodyRelay): ReadableStream<Uint8Array> {
  (stream as unknown as Record<symbol, ClientBodyRelay>)[RELAY] = relay;
  return stream;
}

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
    this.clientRelay = (stream as unknown as Record<symbol, ClientBodyRelay | undefined>)[RELAY];
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

  private readonly clientRelay?: ClientBodyRelay;

  /**
   * The rest of the body may skip the stream now: it can no longer be replayed (so it goes to one
   * upstream connection only), no read is in flight and the stream holds nothing unread. A relay
   * writes each client read from the socket's buffer, with no chunk, promise or copy per read
   * (docs/benchmarks-proxy.md, 1 MiB uploads).
   */
  relayRest(): ClientBodyRelay | undefined {
    const r = this.clientRelay;
    return r && this.overflow && !this.done && !this.failed && !this.reading && !this.lastUnstored && r.queued() === 0 ? r : undefined;
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
    this.reading = true;
    try {
      const r = await this.reader.read();
      if (r.done) this.done = true;
      return r;
    } catch (e) {
      this.failed = e as Error;
      throw e;
    } finally {
      this.reading = false;
    }
  }

  /** A read is in flight (a relay must not start under it: it would take bytes the relay sends). */
  private reading = false;

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
