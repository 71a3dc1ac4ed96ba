/**
 * TCP (and Unix stream) sockets on the NestedLoop: the subset of Bun's Socket that the proxy uses
 * (`ByteSocket`), with Bun's semantics — write returns how much the kernel took and the caller
 * keeps the rest until `drain`; data arrives as a fresh Buffer per read; `end` sends a FIN, and
 * what the peer sends after it is dropped until its FIN closes the socket; `shutdown` sends a FIN
 * and keeps reading (a half-close); the peer's FIN is `end` (allowHalfOpen) or `end` then `close`,
 * and closes a socket that sent its own; `close` comes once, also after `terminate`. Listeners
 * accept with accept4; connects are non-blocking with a deadline.
 */
import { ptr } from "bun:ffi";
import { isIPv4, isIPv6 } from "node:net";
import { copyOut } from "../bytes.ts";
import { addr, C, errnoName, type Libc } from "./libc.ts";
import { NOT_READ, reportCallbackError, type BatchedWriter, type NestedLoop, type Watcher } from "./nested-loop.ts";
import type { SyscallBatch } from "./uring.ts";
import { openListener, peerOf, sockaddr, sockaddrUnix } from "./sockets.ts";

/** What the proxy calls on a socket, Bun's or ours. */
export interface ByteSocket {
  write(data: string | Uint8Array, byteOffset?: number, byteLength?: number): number;
  end(): void;
  /** Half-close: send a FIN and keep receiving (Bun's `shutdown()`). */
  shutdown(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay(on?: boolean): unknown;
  /** Seconds without reads before the `timeout` handler runs; 0 turns it off. */
  timeout(seconds: number): void;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
}

export interface NativeHandlers<T> {
  data(s: NativeSocket<T>, d: Buffer): void;
  /** While `lend` is set: `n` bytes at `buf[at]`, valid only during the call (the buffer is reused); else `data`. */
  lent?(s: NativeSocket<T>, buf: Buffer, at: number, n: number): void;
  drain(s: NativeSocket<T>): void;
  /** The peer sent its FIN. */
  end?(s: NativeSocket<T>): void;
  /** Once, whatever closed it; `err` when the kernel reported one. */
  close(s: NativeSocket<T>, err?: Error): void;
  timeout?(s: NativeSocket<T>): void;
}

const READ_SIZE = 256 * 1024;
const IN = C.EPOLLIN | C.EPOLLRDHUP;
/** Writes up to this size in a ring batch wait for its end (a larger one goes out at once, unless bytes queue before it). */
const COLLECT_MAX = 64 * 1024;
/** A read this big marks a bulk flow: its reads skip the ring batch's read-ahead (32 KiB) for one 256 KiB read each. */
const BULK_READ = 16 * 1024;
/** Bytes a socket holds for the kernel before write() takes less than it is given (Bun's backpressure contract). */
const QUEUE_LIMIT = 1024 * 1024;
let readBuf: Buffer | undefined;
let readPtr: ReturnType<typeof ptr>;
/** FIONREAD's answer (one per process: read right after the call). */
const queued = new Int32Array(1);
const queuedPtr = ptr(queued);
const one = new Int32Array([1]);
const zero = new Int32Array([0]);
/** struct linger { l_onoff = 1, l_linger = 0 }: close() resets the connection. */
const lingerNow = new Int32Array([1, 0]);

function errorOf(op: string, errno: number, where?: string): Error & { code: string } {
  const code = errnoName(errno);
  return Object.assign(new Error(`${op} ${code}${where ? ` ${where}` : ""}`), { code });
}

/** The socket's pending error (SO_ERROR, which reading clears), 0 when none. */
function soError(sys: Libc["sys"], fd: number): number {
  const v = new Int32Array(1);
  sys.getsockopt(fd, C.SOL_SOCKET, C.SO_ERROR, addr(v), addr(new Uint32Array([4])));
  return v[0]!;
}

export class NativeSocket<T> implements ByteSocket, Watcher, BatchedWriter {
  data!: T;
  remoteAddress = "";
  remotePort = 0;
  localPort = 0;
  private interest = IN;
  private paused = false;
  private wantDrain = false;
  private closed = false;
  /** Our FIN went out (end() or shutdown()). */
  private shut = false;
  /** end(): what still comes is dropped. */
  private dropping = false;
  /** The peer's FIN came. */
  private eof = false;
  /** A hang-up arrived while paused with bytes still to read: out of the epoll set until resume (it would fire forever). */
  private parked = false;
  idleSeconds = 0;
  lastRead = 0;
  /** Bytes taken by write() and not yet sent: a ring batch's (collected) or what the kernel had no room for (blocked). */
  private outq: Buffer[] | undefined;
  private outBytes = 0;
  /** outq is on the loop's list for this batch's end. */
  private collected = false;
  /** outq's bytes handed to the ring at the batch's end, until their answer is applied. */
  private sending: Buffer | undefined;
  /** This batch's bytes in the loop's arena (offset, or -1, and length): they go before anything in outq. */
  private arenaOff = -1;
  private arenaLen = 0;
  /** The arena bytes were handed to the ring, until their answer is applied. */
  private sendingArena = false;
  /** write() is sending what was collected before a large write: a failure closes the socket after it returns. */
  private inWrite = false;
  private sendRes = 0;
  /** shutdown() came while bytes were queued: the FIN follows them. */
  private finPending = false;
  /** Both sides are done but bytes are queued: close once they are out. */
  private closeAfterSend = false;
  /** destroy/terminate is flushing what is queued: no FIN or close of its own from that. */
  private closing = false;
  /** Read ahead while reading was paused: delivered on resume. */
  private stash: Buffer | number | undefined;
  /** The last read was BULK_READ or more: a large body is streaming through. */
  private bulk = false;
  /** Reads go to `handlers.lent` as views of the shared read buffer, without a copy (a relay that copies only what it keeps). */
  lend = false;

  constructor(
    private readonly loop: NestedLoop,
    readonly fd: number,
    private readonly handlers: NativeHandlers<T>,
    private readonly allowHalfOpen: boolean,
  ) {}

  /** Start watching (the owner sets `data` first). */
  watch(): void {
    this.loop.add(this.fd, this.interest, this);
  }

  readAhead(ev: number): boolean {
    return (ev & (C.EPOLLIN | C.EPOLLRDHUP | C.EPOLLHUP)) !== 0 && !(ev & C.EPOLLERR) && !this.paused && !this.bulk && this.stash === undefined;
  }

  onEvents(ev: number): void {
    const ahead = this.loop.takeAhead();
    if (ev & C.EPOLLOUT) {
      // (a collected queue goes with the batch's sends at its end, not from here)
      if (this.outq && !this.collected) {
        this.sendQueued();
        if (this.closed) return;
      }
      if (this.wantDrain && !this.outq && this.arenaOff < 0) {
        this.wantDrain = false;
        this.updateOut();
        this.handlers.drain(this);
        if (this.closed) return;
      }
    }
    // bytes kept from an earlier batch go before anything read now
    if (this.stash !== undefined && !this.paused) {
      this.deliverStash();
      if (this.closed) return;
    }
    if (ahead !== NOT_READ) {
      if (this.paused) this.keep(ahead);
      else this.gotRead(ahead, this.loop.slab!, this.loop.aheadAt);
      return;
    }
    if (ev & (C.EPOLLIN | C.EPOLLRDHUP | C.EPOLLHUP | C.EPOLLERR)) {
      if (this.paused) {
        // A reset ends it now, and so does a hang-up with nothing left to read (a write that failed
        // consumed the reset: only EPOLLHUP follows), so the owner learns its peer left. A hang-up
        // with bytes still unread (a Unix peer that wrote and closed) waits for resume.
        if (ev & C.EPOLLERR) this.destroy(this.pendingError());
        else if (ev & C.EPOLLHUP) {
          if (this.unread() > 0 || this.stash !== undefined) this.park();
          else this.destroy(this.pendingError());
        }
        return;
      }
      this.readOnce();
    }
  }

  private readOnce(): void {
    if (this.bulk && !this.lend && this.readBulk()) return;
    if (!readBuf) {
      readBuf = Buffer.allocUnsafeSlow(READ_SIZE);
      readPtr = ptr(readBuf);
    }
    const n = this.loop.libc.sys.read(this.fd, readPtr, READ_SIZE);
    this.gotRead(n < 0 ? -this.loop.libc.errno() : n, readBuf, 0);
  }

  /**
   * A large body streaming through reads into a buffer of its own, sized by what the kernel holds
   * (FIONREAD): delivered as is, without copyOut's copy — 10% of the proxy's CPU on 1 MiB downloads
   * (perf, docs/benchmarks-proxy.md). False when less than BULK_READ waits: the shared buffer then.
   */
  private readBulk(): boolean {
    const sys = this.loop.libc.sys;
    if (sys.ioctl(this.fd, C.FIONREAD, queuedPtr) !== 0 || queued[0]! < BULK_READ) return false;
    const b = Buffer.allocUnsafe(Math.min(queued[0]!, READ_SIZE));
    const n = sys.read(this.fd, ptr(b), b.byteLength);
    if (n <= 0) this.gotRead(n < 0 ? -this.loop.libc.errno() : n, b, 0);
    else this.deliver(n === b.byteLength ? b : b.subarray(0, n));
    return true;
  }

  /** A read's result: `res` bytes at `from[at]`, 0 for the peer's FIN, or -errno. */
  private gotRead(res: number, from: Buffer, at: number): void {
    if (res > 0) return this.lend && this.handlers.lent ? this.deliverLent(from, at, res) : this.deliver(copyOut(from, at, res));
    if (res === 0) return this.onPeerEnd();
    if (res === -C.EAGAIN || res === -C.EINTR) return;
    this.destroy(errorOf("read", -res));
  }

  /** Bytes read, as a Buffer of their own, to the owner. */
  private deliver(d: Buffer): void {
    if (this.received(d.byteLength)) this.handlers.data(this, d);
  }

  /** Bytes read, lent: the owner copies what it keeps before returning. */
  private deliverLent(buf: Buffer, at: number, n: number): void {
    if (this.received(n)) this.handlers.lent!(this, buf, at, n);
  }

  /** Bookkeeping for `n` bytes read; false when they are dropped. */
  private received(n: number): boolean {
    this.bulk = n >= BULK_READ;
    if (this.idleSeconds > 0) this.lastRead = performance.now();
    return !this.dropping; // after end(), as on Bun: dropped, until the peer's FIN closes it
  }

  /** Read ahead, then paused before its callback: kept for resume (a reset still closes at once, as while paused). */
  private keep(res: number): void {
    if (res > 0) this.stash = copyOut(this.loop.slab!, this.loop.aheadAt, res);
    else if (res === 0) this.stash = 0;
    else if (res !== -C.EAGAIN && res !== -C.EINTR) this.destroy(errorOf("read", -res));
  }

  /** From a microtask, where a throw would be uncaught: reported, as the loop does for callbacks. */
  private deliverStashReported(): void {
    try {
      this.deliverStash();
    } catch (e) {
      reportCallbackError("a native socket's data callback (bytes kept while paused)", e);
    }
  }

  private deliverStash(): void {
    const st = this.stash;
    if (st === undefined || this.paused || this.closed) return;
    this.stash = undefined;
    if (st === 0) return this.onPeerEnd();
    this.deliver(st as Buffer);
  }

  private onPeerEnd(): void {
    if (this.eof) return this.destroy(); // read again after the FIN: a hang-up (EPOLLHUP), both ways closed
    this.eof = true;
    this.setInterest(this.interest & ~IN);
    if (this.shut) return this.closeWhenSent();
    this.handlers.end?.(this);
    if (!this.allowHalfOpen && !this.closed) this.closeWhenSent();
  }

  /** Close once what write() took is out (a peer's FIN does not cancel bytes we accepted). */
  private closeWhenSent(): void {
    if (!this.queued()) return this.destroy();
    this.closeAfterSend = true;
    this.updateOut();
  }

  write(data: string | Uint8Array, byteOffset = 0, byteLength?: number): number {
    if (this.closed || this.shut) return -1;
    const b = typeof data === "string" ? Buffer.from(data) : data;
    const len = byteLength ?? b.byteLength - byteOffset;
    if (len <= 0) return 0;
    // a large write goes out now, not copied into the batch's queue: what was collected goes first
    if (len > COLLECT_MAX && this.collected && (this.outq || this.arenaOff >= 0)) {
      this.spill();
      // a broken connection closes after this write returns, as below (never inside the owner's write)
      this.inWrite = true;
      try {
        this.sendQueued();
      } finally {
        this.inWrite = false;
      }
    }
    if (this.queued() || (this.loop.collecting && len <= COLLECT_MAX)) return this.enqueue(b, byteOffset, len, typeof data === "string");
    const n = this.loop.libc.sys.sendto(this.fd, ptr(b, byteOffset), len, C.MSG_NOSIGNAL, null, 0);
    if (n === len) return n;
    if (n < 0) {
      const e = this.loop.libc.errno();
      if (e !== C.EAGAIN && e !== C.EINTR) {
        // broken (EPIPE, ECONNRESET): the owner hears `close` after this write returns, as from
        // Bun; no event may follow (the write consumed the error, and a paused socket reads nothing)
        queueMicrotask(() => this.destroy(errorOf("write", e)));
        return 0;
      }
    }
    if (!this.wantDrain) {
      this.wantDrain = true;
      this.setInterest(this.interest | C.EPOLLOUT);
    }
    return Math.max(n, 0);
  }

  /** Take up to QUEUE_LIMIT bytes into outq (a copy: the caller may reuse its buffer); a ring batch sends them at its end. */
  private enqueue(b: Uint8Array, at: number, len: number, own: boolean): number {
    const take = Math.min(len, QUEUE_LIMIT - this.outBytes);
    if (take <= 0) return this.refuse();
    if (this.loop.collecting && !this.outq && !this.sending && !this.sendingArena) {
      // the batch's bytes for this socket go into the loop's arena while they follow one another there
      const o = this.loop.arenaCopy(b, at, take, this.arenaOff >= 0 ? this.arenaOff + this.arenaLen : -1);
      if (o >= 0) {
        if (this.arenaOff < 0) this.arenaOff = o;
        this.arenaLen += take;
        this.outBytes += take;
        if (!this.collected) {
          this.collected = true;
          this.loop.collect(this);
        }
        return take < len ? take + this.refuse() : take;
      }
      this.spill();
    }
    const c = own && at === 0 && take === b.byteLength ? (b as Buffer) : copyOut(b, at, take);
    const fresh = this.outq === undefined && this.sending === undefined;
    (this.outq ??= []).push(c);
    this.outBytes += take;
    if (fresh && this.loop.collecting && !this.collected) {
      this.collected = true;
      this.loop.collect(this);
    }
    return take < len ? take + this.refuse() : take;
  }

  /** write() took less than it was given: `drain` follows once the queue is out. */
  private refuse(): number {
    this.wantDrain = true;
    return 0;
  }

  queueSend(ring: SyscallBatch, tag: number): void {
    this.collected = false;
    if (this.closed || this.sending || this.sendingArena) return;
    if (this.arenaOff >= 0) {
      // (outq is empty: the arena is used only while it is, and bytes after it spill it first)
      this.sendingArena = true;
      this.sendRes = -C.EAGAIN;
      ring.send(this.fd, this.loop.arenaPtr + this.arenaOff, this.arenaLen, tag);
      return;
    }
    if (!this.outq) return;
    const b = this.takeQueue();
    this.sending = b;
    this.sendRes = -C.EAGAIN; // what stands if the ring never answers: the bytes wait for EPOLLOUT
    ring.send(this.fd, ptr(b) as unknown as number, b.byteLength, tag);
  }

  sendResult(res: number): void {
    this.sendRes = res;
  }

  afterSend(): void {
    if (this.collected) {
      // never handed to the ring (it failed): the bytes go out from EPOLLOUT
      this.collected = false;
      this.spill();
      return this.updateOut();
    }
    const res = this.sendRes;
    const n = Math.max(res, 0);
    const failed = res < 0 && res !== -C.EAGAIN && res !== -C.EINTR;
    // what the kernel did not take goes back in front (bytes queued meanwhile follow it)
    let rest: Buffer | undefined;
    if (this.sendingArena) {
      this.sendingArena = false;
      // copied out before the arena is reused
      if (!failed && n < this.arenaLen) rest = copyOut(this.loop.arena!, this.arenaOff + n, this.arenaLen - n);
      this.arenaOff = -1;
      this.arenaLen = 0;
    } else if (this.sending) {
      const b = this.sending;
      this.sending = undefined;
      if (!failed && n < b.byteLength) rest = b.subarray(n);
    } else return;
    if (rest) (this.outq ??= []).unshift(rest);
    if (this.closed) return;
    if (failed) return this.failSend(-res);
    this.outBytes -= n;
    this.queueMoved();
  }

  /** Bytes write() took are not all out yet. */
  private queued(): boolean {
    return this.outq !== undefined || this.sending !== undefined || this.arenaOff >= 0 || this.sendingArena;
  }

  /** The arena bytes as a Buffer at the front of outq (outq is empty while they exist): before anything would queue behind them. */
  private spill(): void {
    if (this.arenaOff < 0 || this.sendingArena) return;
    this.outq = [copyOut(this.loop.arena!, this.arenaOff, this.arenaLen), ...(this.outq ?? [])];
    this.arenaOff = -1;
    this.arenaLen = 0;
  }

  /** Send the queue now, chunk by chunk until the kernel has no room (EPOLLOUT, or a close that must not lose it). */
  private sendQueued(): void {
    const q = this.outq!;
    const sys = this.loop.libc.sys;
    while (q.length > 0) {
      const b = q[0]!;
      const n = sys.sendto(this.fd, ptr(b), b.byteLength, C.MSG_NOSIGNAL, null, 0);
      if (n < 0) {
        const e = this.loop.libc.errno();
        if (e === C.EAGAIN || e === C.EINTR) break;
        return this.failSend(e);
      }
      this.outBytes -= n;
      if (n < b.byteLength) {
        q[0] = b.subarray(n);
        break;
      }
      q.shift();
    }
    if (q.length === 0) this.outq = undefined;
    this.queueMoved();
  }

  /** outq as one buffer, leaving outq empty (writes made before its answer queue behind it). */
  private takeQueue(): Buffer {
    const q = this.outq!;
    this.outq = undefined;
    return q.length === 1 ? q[0]! : Buffer.concat(q);
  }

  private failSend(errno: number): void {
    this.outq = undefined;
    this.arenaOff = -1;
    this.arenaLen = 0;
    this.sending = undefined;
    this.outBytes = 0;
    if (this.inWrite) queueMicrotask(() => this.destroy(errorOf("write", errno)));
    else this.destroy(errorOf("write", errno));
  }

  /** After bytes went out: the FIN or close that waited for them, and EPOLLOUT while any remain (a refused write's drain comes from it). */
  private queueMoved(): void {
    if (this.closing) return;
    if (!this.queued()) {
      if (this.closeAfterSend) return this.destroy();
      if (this.finPending) {
        this.finPending = false;
        if (this.eof) return this.destroy();
        this.loop.libc.sys.shutdown(this.fd, C.SHUT_WR);
      }
    }
    this.updateOut();
  }

  /** EPOLLOUT while bytes wait for room or a caller waits for drain. */
  private updateOut(): void {
    const want = this.wantDrain || (this.outq !== undefined && !this.collected);
    this.setInterest(want ? this.interest | C.EPOLLOUT : this.interest & ~C.EPOLLOUT);
  }

  end(): void {
    if (this.closed || this.dropping) return;
    this.dropping = true;
    this.shutdown();
    // read on (dropping) until the peer's FIN: a paused socket would never learn of it
    if (this.paused) this.resume();
  }

  shutdown(): void {
    if (this.closed || this.shut) return;
    this.shut = true;
    if (this.queued()) {
      this.finPending = true;
      return;
    }
    if (this.eof) return this.destroy();
    this.loop.libc.sys.shutdown(this.fd, C.SHUT_WR);
  }

  /** Close now with a reset (SO_LINGER 0), as Bun's terminate: a FIN would queue behind unsent bytes a stalled peer never reads. */
  terminate(): void {
    if (this.closed) return;
    // what write() took goes first, as it did when writes were immediate (a cut response's head)
    this.closing = true;
    if (this.sending || this.sendingArena) this.afterSend();
    this.spill();
    if (this.outq && !this.closed) this.sendQueued();
    if (this.closed) return;
    this.loop.libc.sys.setsockopt(this.fd, C.SOL_SOCKET, C.SO_LINGER, addr(lingerNow), 8);
    this.destroy();
  }

  pause(): void {
    if (this.paused || this.closed || this.dropping) return;
    this.paused = true;
    this.setInterest(this.interest & ~IN);
  }

  resume(): void {
    if (!this.paused || this.closed) return;
    this.paused = false;
    if (this.stash !== undefined) queueMicrotask(() => this.deliverStashReported());
    if (this.parked) {
      this.parked = false;
      if (!this.eof) this.interest |= IN;
      return this.loop.add(this.fd, this.interest, this);
    }
    if (!this.eof) this.setInterest(this.interest | IN);
  }

  setNoDelay(on = true): boolean {
    return this.loop.libc.sys.setsockopt(this.fd, C.IPPROTO_TCP, C.TCP_NODELAY, addr(on ? one : zero), 4) === 0;
  }

  timeout(seconds: number): void {
    this.idleSeconds = seconds;
    this.lastRead = performance.now();
    // A socket stays in `timed` from its first timeout to its close (the sweeper skips it while it has
    // none): a pooled upstream connection's timeout goes off and on with every request, and a Set that
    // loses and regains members that often made every young collection cost ~1.6× as much (1.06 → 0.68 ms
    // at c=64, docs/benchmarks-proxy.md, eleventh session).
    if (seconds > 0) {
      timed.add(this);
      startSweeper();
    }
  }

  /** Sweeper: `seconds` passed without a read. */
  timedOut(): void {
    this.idleSeconds = 0;
    if (this.handlers.timeout) this.handlers.timeout(this);
    else this.destroy();
  }

  private setInterest(i: number): void {
    if (i === this.interest || this.closed) return;
    this.interest = i;
    if (!this.parked) this.loop.modify(this.fd, i);
  }

  /** The socket's pending error, ECONNRESET when none is left to read. */
  private pendingError(): Error {
    return errorOf("read", soError(this.loop.libc.sys, this.fd) || 104);
  }

  /** Bytes waiting in the receive queue (FIONREAD). */
  private unread(): number {
    return this.loop.libc.sys.ioctl(this.fd, C.FIONREAD, queuedPtr) === 0 ? queued[0]! : 0;
  }

  private park(): void {
    this.parked = true;
    this.loop.remove(this.fd);
  }

  /** Close the descriptor and tell the owner (once). */
  destroy(err?: Error): void {
    if (this.closed) return;
    // bytes write() took go out before the close, as they would have with a direct write (best effort:
    // one try, no waiting for room); a ring answer not yet applied first, so its remainder leads
    this.closing = true;
    if (this.sending || this.sendingArena) this.afterSend();
    this.spill();
    if (this.outq && !this.closed) this.sendQueued();
    if (this.closed) return;
    this.closed = true;
    timed.delete(this);
    if (!this.parked) this.loop.remove(this.fd);
    this.loop.libc.sys.close(this.fd);
    this.handlers.close(this, err);
  }
}

// idle timeouts: one sweep a second over the sockets that have had one (pooled upstream connections; they stay until closed)
const timed = new Set<NativeSocket<unknown>>();
let sweeper: Timer | undefined;
function startSweeper(): void {
  if (sweeper) return;
  sweeper = setInterval(() => {
    const now = performance.now();
    for (const s of timed) if (s.idleSeconds > 0 && now - s.lastRead >= s.idleSeconds * 1000) s.timedOut();
    if (timed.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }, 1000);
  sweeper.unref?.();
}

export interface NativeListenOptions<T> {
  host: string;
  port: number;
  backlog?: number;
  /** Called for each accepted connection before it is watched: set `data` here. */
  open(s: NativeSocket<T>): void;
  handlers: NativeHandlers<T>;
  allowHalfOpen?: boolean;
}

/** A listening TCP socket on the NestedLoop (SO_REUSEPORT, as every securely listener). */
export class NativeTcpListener<T> implements Watcher {
  readonly fd: number;
  readonly port: number;
  private closed = false;
  private readonly sa = new Uint8Array(28);
  private readonly saLen = new Uint32Array(1);
  private readonly saPtr;
  private readonly saLenPtr;

  constructor(
    private readonly loop: NestedLoop,
    private readonly o: NativeListenOptions<T>,
  ) {
    const l = openListener(loop.libc, "tcp", o.host, o.port, o.backlog ?? 511);
    this.fd = l.fd;
    this.port = l.port;
    this.saPtr = addr(this.sa);
    this.saLenPtr = addr(this.saLen);
    loop.add(this.fd, C.EPOLLIN, this);
  }

  onEvents(): void {
    const sys = this.loop.libc.sys;
    // a bounded batch: a flood of connects must not starve the connections already open
    for (let i = 0; i < 64 && !this.closed; i++) {
      this.saLen[0] = 28;
      const fd = sys.accept4(this.fd, this.saPtr, this.saLenPtr, C.SOCK_NONBLOCK | C.SOCK_CLOEXEC);
      if (fd < 0) {
        const e = this.loop.libc.errno();
        if (e === C.EMFILE || e === C.ENFILE) this.backOff();
        return;
      }
      const s = new NativeSocket<T>(this.loop, fd, this.o.handlers, this.o.allowHalfOpen ?? false);
      const peer = peerOf(this.sa, 0);
      s.remoteAddress = peer.address;
      s.remotePort = peer.port;
      s.localPort = this.port;
      try {
        this.o.open(s);
        s.watch();
      } catch (e) {
        console.error(`securely: accepting a connection on ${this.o.host}:${this.port} failed: ${(e as Error)?.message ?? e}`);
        try {
          s.destroy(e as Error);
        } catch {
          // the owner's close handler on a socket its open() did not finish: the descriptor is closed
        }
      }
    }
  }

  /** Out of descriptors: stop accepting for 100 ms (the pending connections wait in the backlog). */
  private backOff(): void {
    this.loop.remove(this.fd);
    setTimeout(() => {
      if (!this.closed) this.loop.add(this.fd, C.EPOLLIN, this);
    }, 100);
  }

  /** Stop accepting (open connections are their owners' to close). */
  stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.loop.remove(this.fd);
    this.loop.libc.sys.close(this.fd);
  }
}

export interface NativeConnectOptions {
  host?: string;
  port?: number;
  /** A Unix stream socket path instead of host:port. */
  unix?: string;
  /** Local address to bind before connecting (client_bind_to_ipv4/6). */
  localAddress?: string;
  timeoutMs: number;
  allowHalfOpen?: boolean;
}

/**
 * Whether `connectNative` can take these options: IP literals (names need Bun's resolver; an IPv6
 * zone, its interface index) or a Unix path (not an abstract one).
 */
export function nativeConnectable(o: { host?: string; unix?: string; localAddress?: string }): boolean {
  if (o.unix !== undefined) return o.unix.length > 0 && !o.unix.startsWith("\0") && Buffer.byteLength(o.unix) < 108 && o.localAddress === undefined;
  const ip = (a: string) => isIPv4(a) || (isIPv6(a) && !a.includes("%"));
  return o.host !== undefined && ip(o.host) && (o.localAddress === undefined || ip(o.localAddress));
}

/**
 * A connected socket, or a rejection with `code` (ECONNREFUSED, ETIMEDOUT…). On `timeoutMs` the
 * attempt is abandoned and its descriptor closed.
 */
export function connectNative<T>(loop: NestedLoop, o: NativeConnectOptions, handlers: NativeHandlers<T>, data: T): Promise<NativeSocket<T>> {
  const sys = loop.libc.sys;
  const where = o.unix ?? `${o.host}:${o.port}`;
  let sa: Uint8Array;
  let family: number;
  let local: Uint8Array | undefined;
  try {
    if (o.unix !== undefined) {
      sa = sockaddrUnix(o.unix);
      family = C.AF_UNIX;
    } else {
      sa = sockaddr(o.host!, o.port!);
      family = sa.length === 28 ? C.AF_INET6 : C.AF_INET;
    }
    if (o.localAddress !== undefined) local = sockaddr(o.localAddress, 0);
  } catch (e) {
    return Promise.reject(e);
  }
  const fd = sys.socket(family, C.SOCK_STREAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0);
  if (fd < 0) return Promise.reject(errorOf("socket", loop.libc.errno(), where));
  if (local) {
    if (sys.bind(fd, addr(local), local.length) !== 0) {
      const e = errorOf("bind", loop.libc.errno(), o.localAddress);
      sys.close(fd);
      return Promise.reject(e);
    }
  }
  const s = new NativeSocket<T>(loop, fd, handlers, o.allowHalfOpen ?? false);
  s.data = data;
  if (o.unix === undefined) {
    s.remoteAddress = o.host!;
    s.remotePort = o.port!;
  }
  const r = sys.connect(fd, addr(sa), sa.length);
  if (r === 0) {
    try {
      s.watch();
    } catch (e) {
      sys.close(fd);
      return Promise.reject(e);
    }
    return Promise.resolve(s);
  }
  const errno = loop.libc.errno();
  // only EINPROGRESS is pending (TCP); a Unix socket says EAGAIN when the listener's backlog is full: refused
  if (errno !== C.EINPROGRESS) {
    sys.close(fd);
    return Promise.reject(errorOf("connect", errno, `${where}${errno === C.EAGAIN ? " (backlog full)" : ""}`));
  }
  return new Promise((resolve, reject) => {
    let timer: Timer | undefined;
    const pending: Watcher = {
      onEvents: () => {
        clearTimeout(timer);
        loop.remove(fd);
        const err = soError(sys, fd);
        if (err !== 0) {
          sys.close(fd);
          return reject(errorOf("connect", err, where));
        }
        try {
          s.watch();
        } catch (e) {
          sys.close(fd);
          return reject(e);
        }
        resolve(s);
      },
    };
    try {
      loop.add(fd, C.EPOLLOUT, pending);
    } catch (e) {
      sys.close(fd);
      return reject(e);
    }
    timer = setTimeout(() => {
      loop.remove(fd);
      sys.close(fd);
      reject(Object.assign(new Error(`connect timed out after ${o.timeoutMs} ms ${where}`), { code: "ETIMEDOUT", deadline: true }));
    }, o.timeoutMs);
  });
}

