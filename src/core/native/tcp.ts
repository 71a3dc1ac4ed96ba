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
import { addr, C, errnoName, type Libc } from "./libc.ts";
import type { NestedLoop, Watcher } from "./nested-loop.ts";
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
  drain(s: NativeSocket<T>): void;
  /** The peer sent its FIN. */
  end?(s: NativeSocket<T>): void;
  /** Once, whatever closed it; `err` when the kernel reported one. */
  close(s: NativeSocket<T>, err?: Error): void;
  timeout?(s: NativeSocket<T>): void;
}

const READ_SIZE = 256 * 1024;
const IN = C.EPOLLIN | C.EPOLLRDHUP;
let readBuf: Uint8Array | undefined;
let readPtr: ReturnType<typeof ptr>;
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

export class NativeSocket<T> implements ByteSocket, Watcher {
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

  onEvents(ev: number): void {
    if (ev & C.EPOLLOUT && this.wantDrain) {
      this.wantDrain = false;
      this.setInterest(this.interest & ~C.EPOLLOUT);
      this.handlers.drain(this);
      if (this.closed) return;
    }
    if (ev & (C.EPOLLIN | C.EPOLLRDHUP | C.EPOLLHUP | C.EPOLLERR)) {
      if (this.paused) {
        // A reset ends it now, and so does a hang-up with nothing left to read (a write that failed
        // consumed the reset: only EPOLLHUP follows), so the owner learns its peer left. A hang-up
        // with bytes still unread (a Unix peer that wrote and closed) waits for resume.
        if (ev & C.EPOLLERR) this.destroy(this.pendingError());
        else if (ev & C.EPOLLHUP) {
          if (this.unread() > 0) this.park();
          else this.destroy(this.pendingError());
        }
        return;
      }
      this.readOnce();
    }
  }

  private readOnce(): void {
    if (!readBuf) {
      readBuf = new Uint8Array(READ_SIZE);
      readPtr = ptr(readBuf);
    }
    const n = this.loop.libc.sys.read(this.fd, readPtr, READ_SIZE);
    if (n > 0) {
      if (this.idleSeconds > 0) this.lastRead = performance.now();
      if (this.dropping) return; // after end(), as on Bun: dropped, until the peer's FIN closes it
      const d = Buffer.allocUnsafeSlow(n);
      d.set(readBuf.subarray(0, n));
      this.handlers.data(this, d);
      return;
    }
    if (n === 0) return this.onPeerEnd();
    const e = this.loop.libc.errno();
    if (e === C.EAGAIN || e === C.EINTR) return;
    this.destroy(errorOf("read", e));
  }

  private onPeerEnd(): void {
    if (this.eof) return this.destroy(); // read again after the FIN: a hang-up (EPOLLHUP), both ways closed
    this.eof = true;
    this.setInterest(this.interest & ~IN);
    if (this.shut) return this.destroy();
    this.handlers.end?.(this);
    if (!this.allowHalfOpen && !this.closed) this.destroy();
  }

  write(data: string | Uint8Array, byteOffset = 0, byteLength?: number): number {
    if (this.closed || this.shut) return -1;
    const b = typeof data === "string" ? Buffer.from(data) : data;
    const len = byteLength ?? b.byteLength - byteOffset;
    if (len <= 0) return 0;
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
    if (this.eof) return this.destroy();
    this.loop.libc.sys.shutdown(this.fd, C.SHUT_WR);
  }

  /** Close now with a reset (SO_LINGER 0), as Bun's terminate: a FIN would queue behind unsent bytes a stalled peer never reads. */
  terminate(): void {
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
    if (seconds > 0) timed.add(this);
    else timed.delete(this);
    if (timed.size > 0) startSweeper();
  }

  /** Sweeper: `seconds` passed without a read. */
  timedOut(): void {
    this.idleSeconds = 0;
    timed.delete(this);
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
    const n = new Int32Array(1);
    return this.loop.libc.sys.ioctl(this.fd, C.FIONREAD, addr(n)) === 0 ? n[0]! : 0;
  }

  private park(): void {
    this.parked = true;
    this.loop.remove(this.fd);
  }

  /** Close the descriptor and tell the owner (once). */
  destroy(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    timed.delete(this);
    if (!this.parked) this.loop.remove(this.fd);
    this.loop.libc.sys.close(this.fd);
    this.handlers.close(this, err);
  }
}

// idle timeouts: one sweep a second over the sockets that have one (pooled upstream connections)
const timed = new Set<NativeSocket<unknown>>();
let sweeper: Timer | undefined;
function startSweeper(): void {
  if (sweeper) return;
  sweeper = setInterval(() => {
    const now = performance.now();
    for (const s of timed) if (now - s.lastRead >= s.idleSeconds * 1000) s.timedOut();
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

