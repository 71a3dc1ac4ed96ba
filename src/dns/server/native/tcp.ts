/**
 * TCP on the DNS I/O thread (RFC 7766), the same rules as ../tcp.ts: two-byte length prefix,
 * pipelining (answers in any order: a delegated one may come after later local ones), an idle
 * timeout, a cap on connections and on message size. A client that stops reading is not read
 * either until its answers drain, so it cannot make the server buffer without bound.
 */
import { addr, C, type Libc } from "../../../core/native/libc.ts";
import { peerOf } from "../../../core/native/sockets.ts";
import type { Answer } from "../handler.ts";
import { NativeClient } from "./client.ts";
import type { OnQuery } from "./udp.ts";

const READ_BUF = 64 * 1024;
const READING = C.EPOLLIN | C.EPOLLRDHUP;

interface Conn {
  fd: number;
  id: number;
  address: string;
  port: number;
  /** Bytes of a message split across reads. */
  partial?: Uint8Array;
  /** Bytes the kernel did not take yet; while set, the connection is not read. */
  out?: Uint8Array;
  /** Answers the main thread still owes this connection. */
  pending: number;
  lastActive: number;
  /** The client closed its side: close once nothing is owed. */
  eof: boolean;
}

export interface TcpLimits {
  idleTimeoutMs: number;
  maxConnections: number;
  maxMessage: number;
  /** TCP_NODELAY on every connection (dns.tcp_nodelay); false: Nagle on, one write per answer. */
  nodelay: boolean;
}

export class TcpConns {
  private sys: Libc["sys"];
  private conns = new Map<number, Conn>();
  private byId = new Map<number, Conn>();
  private nextId = 1;
  private readBuf = new Uint8Array(READ_BUF);
  private writeBuf = new Uint8Array(READ_BUF + 2);
  private peer = new Uint8Array(32);
  private peerLen = new Uint32Array(1);
  private one = new Int32Array([1]);
  private zero = new Int32Array([0]);
  private client = new NativeClient(new Uint8Array(0));

  /** `ctl(op, fd, events)`: the reactor's epoll_ctl; false when the kernel refused. */
  constructor(
    private libc: Libc,
    private limits: TcpLimits,
    private ctl: (op: number, fd: number, events: number) => boolean,
    private onQuery: OnQuery,
  ) {
    this.sys = libc.sys;
  }

  get size(): number {
    return this.conns.size;
  }

  has(fd: number): boolean {
    return this.conns.has(fd);
  }

  /** Accept what is waiting; returns an errno that means "stop polling this listener for now", else 0. */
  accept(lfd: number): number {
    for (;;) {
      this.peerLen[0] = this.peer.length;
      const fd = this.sys.accept4(lfd, addr(this.peer), addr(this.peerLen), C.SOCK_NONBLOCK | C.SOCK_CLOEXEC);
      if (fd < 0) {
        const e = this.libc.errno();
        // out of descriptors: the listener stays readable, so polling it now would spin
        return e === C.EMFILE || e === C.ENFILE ? e : 0;
      }
      if (this.conns.size >= this.limits.maxConnections) {
        this.sys.close(fd);
        continue;
      }
      // answers leave at once: Nagle would hold a second answer behind the client's delayed ACK
      if (this.limits.nodelay) this.noDelay(fd, true);
      const p = peerOf(this.peer, 0);
      const c: Conn = { fd, id: this.nextId++, address: p.address, port: p.port, pending: 0, lastActive: performance.now(), eof: false };
      this.conns.set(fd, c);
      this.byId.set(c.id, c);
      if (!this.ctl(C.EPOLL_CTL_ADD, fd, READING)) this.close(c);
    }
  }

  /** An epoll event on connection `fd`; returns the number of queries answered. */
  event(fd: number, events: number): number {
    const c = this.conns.get(fd);
    if (!c) return 0;
    if (events & C.EPOLLOUT) this.flush(c);
    if (events & (C.EPOLLIN | C.EPOLLHUP | C.EPOLLERR | C.EPOLLRDHUP) && !c.out && this.conns.get(fd) === c) return this.read(c);
    return 0;
  }

  private read(c: Conn): number {
    const n = this.sys.read(c.fd, addr(this.readBuf), READ_BUF);
    if (n < 0) {
      if (this.libc.errno() !== C.EAGAIN) this.close(c);
      return 0;
    }
    if (n === 0) {
      c.eof = true;
      if (c.pending === 0 && !c.out) this.close(c);
      else this.ctl(C.EPOLL_CTL_MOD, c.fd, c.out ? C.EPOLLOUT : 0);
      return 0;
    }
    c.lastActive = performance.now();
    let buf = this.readBuf.subarray(0, n);
    if (c.partial) {
      const joined = new Uint8Array(c.partial.length + n);
      joined.set(c.partial);
      joined.set(buf, c.partial.length);
      buf = joined;
      c.partial = undefined;
    }
    // the answers, one entry per query (an AXFR's messages stay together)
    const ready: (Uint8Array | Uint8Array[])[] = [];
    let off = 0;
    let answered = 0;
    while (buf.length - off >= 2) {
      const len = (buf[off]! << 8) | buf[off + 1]!;
      if (len === 0 || len > this.limits.maxMessage) {
        this.close(c);
        return answered;
      }
      if (buf.length - off < 2 + len) break;
      const msg = buf.subarray(off + 2, off + 2 + len);
      off += 2 + len;
      this.client.tcp(c.id, c.address, c.port);
      answered++;
      let a: Answer | Promise<Answer>;
      try {
        a = this.onQuery(msg, this.client);
      } catch {
        continue;
      }
      if (a === undefined || a instanceof Promise) continue;
      ready.push(a);
    }
    if (off < buf.length) c.partial = buf.slice(off);
    if (ready.length) this.sendReady(c, ready);
    return answered;
  }

  /**
   * The answers one read produced. TCP_NODELAY: one write. Nagle on: one write per query's answer —
   * the kernel holds what follows an unacknowledged answer and sends it when the client's next query
   * acknowledges that one, inside the client's send (answers coalesced into one write are never held,
   * so they never leave that way) — until the kernel stops taking them: the rest go in one write.
   */
  private sendReady(c: Conn, ready: (Uint8Array | Uint8Array[])[]): void {
    let i = 0;
    if (!this.limits.nodelay) {
      for (; i < ready.length && !c.out && this.conns.get(c.fd) === c; i++) {
        const a = ready[i]!;
        this.send(c, Array.isArray(a) ? a : [a]);
      }
      if (i === ready.length || this.conns.get(c.fd) !== c) return;
    }
    const rest = i === 0 ? ready : ready.slice(i);
    this.send(c, rest.some(Array.isArray) ? rest.flat() : (rest as Uint8Array[]));
  }

  /** A query on connection `connId` was delegated: the main thread will answer it. */
  owe(connId: number): void {
    const c = this.byId.get(connId);
    if (c) c.pending++;
  }

  /** The main thread's answer for connection `connId` (gone already: dropped). */
  reply(connId: number, msgs: Uint8Array[]): void {
    const c = this.byId.get(connId);
    if (!c) return;
    c.pending = Math.max(0, c.pending - 1);
    if (!msgs.length) {
      if (c.eof && c.pending === 0 && !c.out) this.close(c);
      return;
    }
    // a forwarded answer comes late, when the client may be waiting for it alone: with Nagle on,
    // TCP_NODELAY is set around the write, which sends it (and anything held) at once
    if (!this.limits.nodelay) this.noDelay(c.fd, true);
    this.send(c, msgs);
    if (!this.limits.nodelay && this.byId.get(connId) === c) this.noDelay(c.fd, false);
  }

  /** TCP_NODELAY on or off (on also sends what Nagle holds). */
  private noDelay(fd: number, on: boolean): void {
    this.sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, addr(on ? this.one : this.zero), 4);
  }

  /** Frame and write answers; what the kernel does not take waits for EPOLLOUT. */
  private send(c: Conn, msgs: Uint8Array[]): void {
    let total = c.out?.length ?? 0;
    for (const m of msgs) total += 2 + m.length;
    const frame = !c.out && total <= this.writeBuf.length ? this.writeBuf : new Uint8Array(total);
    let off = 0;
    if (c.out) {
      frame.set(c.out);
      off = c.out.length;
    }
    for (const m of msgs) {
      frame[off] = m.length >> 8;
      frame[off + 1] = m.length & 0xff;
      frame.set(m, off + 2);
      off += 2 + m.length;
    }
    const waiting = c.out !== undefined;
    c.out = undefined;
    this.write(c, frame.subarray(0, off), waiting);
  }

  private flush(c: Conn): void {
    if (!c.out) return;
    const out = c.out;
    c.out = undefined;
    this.write(c, out, true);
  }

  /** `waiting`: the connection is registered for EPOLLOUT (and not for reading). */
  private write(c: Conn, bytes: Uint8Array, waiting: boolean): void {
    const n = this.sys.write(c.fd, addr(bytes), bytes.length);
    if (n < 0 && this.libc.errno() !== C.EAGAIN) {
      this.close(c);
      return;
    }
    if (n > 0) c.lastActive = performance.now(); // a slow reader of a long transfer is not idle
    const wrote = Math.max(n, 0);
    if (wrote < bytes.length) {
      c.out = bytes.slice(wrote); // a copy: `bytes` may be the shared write buffer
      if (!waiting) this.ctl(C.EPOLL_CTL_MOD, c.fd, C.EPOLLOUT);
      return;
    }
    if (c.eof && c.pending === 0) this.close(c);
    else if (waiting) this.ctl(C.EPOLL_CTL_MOD, c.fd, c.eof ? 0 : READING);
  }

  private close(c: Conn): void {
    if (this.conns.get(c.fd) !== c) return;
    this.conns.delete(c.fd);
    this.byId.delete(c.id);
    this.sys.close(c.fd); // also leaves the epoll set
  }

  /**
   * Close idle connections (nothing owed by the main thread, no progress either way for the idle
   * timeout — a client that stopped reading included). Stopping: close those with
   * nothing owed, and all of them once `deadline` passed. Returns the connections left.
   */
  sweep(now: number, stopping: boolean, deadline: number): number {
    for (const c of this.conns.values()) {
      const done = c.pending === 0 && !c.out;
      if (stopping ? done || now >= deadline : c.pending === 0 && now - c.lastActive >= this.limits.idleTimeoutMs) this.close(c);
    }
    return this.conns.size;
  }
}
