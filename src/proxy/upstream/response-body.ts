/**
 * A streamed upstream response body: the ReadableStream the pipeline sees, fed by the connection,
 * and — when nothing in the pipeline took the stream — a relay that writes each read straight to the
 * client (`relayOf`). The relay skips the stream and the per-read buffer: the bytes are written from
 * the socket's read buffer while they are lent (docs/benchmarks-proxy.md, 1 MiB bodies).
 *
 * Chunks wait here, not in the stream's own queue (its high-water mark is 0), so a relay that takes
 * over finds every byte not yet read in one place and in order.
 */
import { copyOut } from "../../core/bytes.ts";

/** Where a relayed body goes (the client's connection). */
export interface RelaySink {
  /** `n` bytes at `buf[at]`, valid only during the call; false when the client did not take them all (the sender pauses until `resume`). */
  body(buf: Uint8Array, at: number, n: number): boolean;
  /** The body ended: whole (`ok`), or cut — the client must see a truncated body. */
  end(ok: boolean): void;
}

/** The connection feeding a body, while it feeds it. */
export interface BodyProducer {
  pause(): void;
  resume(): void;
  /** The reader left mid-body: the connection cannot be reused. */
  cancel(): void;
  /** Reads may be handed over as views of a reused buffer (a relay copies what it keeps). */
  lend(on: boolean): void;
}

/** Bytes held for a slow reader before the connection stops reading (the stream's former high-water mark). */
const HIGH = 256 * 1024;
const SOURCE = Symbol("securely.responseBody");

export class ResponseBody {
  readonly stream: ReadableStream<Uint8Array>;
  private ctrl!: ReadableStreamDefaultController<Uint8Array>;
  private queue: Uint8Array[] = [];
  private queued = 0;
  /** A read is waiting and the queue is empty: the next chunk goes straight to it. */
  private wanted = false;
  /** undefined while open; true when complete; false when it failed. */
  private ended: boolean | undefined;
  private sink?: RelaySink;

  /** `relayable`: the bytes are the body as the client gets it (a length-framed body, not re-framed). */
  constructor(
    private producer: BodyProducer | undefined,
    private readonly relayable: boolean,
  ) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.ctrl = c;
        },
        pull: () => this.pull(),
        cancel: () => this.cancel(),
      },
      { highWaterMark: 0 },
    );
    (this.stream as unknown as Record<symbol, ResponseBody>)[SOURCE] = this;
  }

  /** Body bytes from the connection (`owned`: the caller will not reuse `buf`); false when the producer should stop reading. */
  push(buf: Uint8Array, at: number, n: number, owned: boolean): boolean {
    if (this.ended !== undefined || n === 0) return true;
    if (this.sink) return this.sink.body(buf, at, n);
    const c = owned ? (at === 0 && n === buf.byteLength ? buf : buf.subarray(at, at + n)) : copyOut(buf, at, n);
    if (this.wanted) {
      this.wanted = false;
      this.ctrl.enqueue(c);
      return true;
    }
    this.queue.push(c);
    this.queued += n;
    return this.queued < HIGH;
  }

  /** The body is complete: the producer lets go (its connection may serve another request). */
  end(): void {
    if (this.ended !== undefined) return;
    this.ended = true;
    this.producer = undefined;
    if (this.sink) return this.sink.end(true);
    if (this.queue.length === 0) this.close();
  }

  /** The body failed: the reader sees an error (a truncated body), whatever was still queued. */
  fail(): void {
    if (this.ended !== undefined) return;
    this.ended = false;
    this.producer = undefined;
    this.queue = [];
    if (this.sink) return this.sink.end(false);
    try {
      // `undefined`: Bun prints any other reason to stderr with a code frame (measured); the proxy logs its own
      this.ctrl.error(undefined);
    } catch {}
  }

  /**
   * Relay the rest to `sink` instead of the stream: what is queued first, then every push. False when
   * the stream was already taken (a reader, a filter) or the body is not relayable.
   */
  relay(sink: RelaySink): boolean {
    if (!this.relayable || this.stream.locked || this.sink || this.ended === false) return false;
    this.sink = sink;
    let took = true;
    for (const c of this.queue) took = sink.body(c, 0, c.byteLength) && took;
    this.queue = [];
    this.queued = 0;
    if (this.ended) {
      sink.end(true);
      return true;
    }
    this.producer?.lend(true);
    if (took) this.producer?.resume();
    else this.producer?.pause();
    return true;
  }

  /** The sink took what it held (the client drained): read on. */
  resume(): void {
    this.producer?.resume();
  }

  /** The reader (or the relay's client) left before the end. */
  cancel(): void {
    const p = this.producer;
    this.producer = undefined;
    this.queue = [];
    if (this.ended !== undefined) return;
    this.ended = false;
    p?.cancel();
    this.sink?.end(false);
  }

  private pull(): void {
    const c = this.queue.shift();
    if (!c) {
      this.wanted = true;
      return;
    }
    this.queued -= c.byteLength;
    this.ctrl.enqueue(c);
    if (this.queue.length === 0 && this.ended) this.close();
    else if (this.queued < HIGH) this.producer?.resume();
  }

  private close(): void {
    try {
      this.ctrl.close();
    } catch {}
  }
}

/** The ResponseBody behind `stream` when it came from an upstream connection untouched. */
export function relayOf(stream: ReadableStream<Uint8Array>): ResponseBody | undefined {
  return (stream as unknown as Record<symbol, ResponseBody | undefined>)[SOURCE];
}
