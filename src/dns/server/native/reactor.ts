/**
 * The DNS I/O thread's event loop: one epoll set over the UDP sockets, the TCP listeners and
 * connections, and an eventfd the main thread rings. UDP is read and answered in batches with
 * recvmmsg/sendmmsg; TCP follows RFC 7766 like ../tcp.ts (length-prefixed, pipelined, idle
 * timeout, connection cap, message cap). It runs synchronously and never yields to the JS event
 * loop — that is the point: a wake-up costs one epoll_wait, not Bun's whole socket layer
 * (docs/benchmarks-dns.md has the numbers).
 */
import { addr, C, EPOLL_DATA_OFFSET, EPOLL_EVENT_SIZE, type Libc } from "../../../core/native/libc.ts";
import { peerOf } from "../../../core/native/sockets.ts";
import type { Answer, Client } from "../handler.ts";
import type { Proto } from "../stats.ts";

/** Datagrams per recvmmsg/sendmmsg call. */
const BATCH = 64;
/** Receive slot per datagram; a larger query is truncated by the kernel and dropped. */
const SLOT = 4096;
/** Room for a sockaddr_in6. */
const NAME = 32;
const MAX_EVENTS = 256;
const READ_BUF = 64 * 1024;
const TICK_MS = 200;
/** A round that answered this many queries is batch enough: waiting would only add latency. */
const FULL_ROUND = 16;

/** A query's sender. `address` is decoded only when something reads it (ACL, RRL, query log). */
export class NativeClient implements Client {
  proto: Proto = "udp";
  port = 0;
  /** UDP: the socket and the sender's sockaddr bytes (valid during the answer call). TCP: the connection. */
  fd = -1;
  conn = 0;
  private text: string | undefined;
  constructor(private names: Uint8Array, private at: number) {}

  get address(): string {
    this.text ??= peerOf(this.names, this.at).address;
    return this.text;
  }
  set address(v: string) {
    this.text = v;
  }
  /** The sender's sockaddr (UDP), copied. */
  sockaddr(): Uint8Array {
    const len = this.names[this.at] === C.AF_INET6 ? 28 : 16;
    return this.names.slice(this.at, this.at + len);
  }
  reset(at: number, proto: Proto, fd: number, conn: number): void {
    this.at = at;
    this.proto = proto;
    this.fd = fd;
    this.conn = conn;
    this.text = undefined;
    this.port = proto === "udp" ? (this.names[at + 2]! << 8) | this.names[at + 3]! : 0;
  }
}

interface Conn {
  fd: number;
  id: number;
  address: string;
  port: number;
  /** Unparsed bytes of a message split across reads. */
  partial?: Uint8Array;
  /** Bytes the kernel did not take yet. */
  out?: Uint8Array;
  /** Answers the main thread still owes this connection. */
  pending: number;
  lastActive: number;
  /** The client closed its side; close once nothing is owed. */
  eof: boolean;
}

export interface ReactorOptions {
  libc: Libc;
  udpFds: number[];
  tcpFds: number[];
  /** Readable when the main thread has posted something (see ../native/thread.ts). */
  wakeFd: number;
  tcp: { idleTimeoutMs: number; maxConnections: number; maxMessage: number };
  /**
   * Adaptive batching, µs (0 = off): while queries arrive closer together than this, wait this
   * long after a round of work before the next epoll_wait, so one wake-up serves several
   * queries. An isolated query is never delayed.
   */
  batchWindowUs: number;
  answer(query: Uint8Array, client: NativeClient): Answer | Promise<Answer>;
  onWake(): void;
  /** About every 200 ms, and before the loop ends. */
  onTick(now: number): void;
}

export class Reactor {
  private sys: Libc["sys"];
  private ep: number;
  private events = new Uint8Array(MAX_EVENTS * EPOLL_EVENT_SIZE);
  private eventsView = new DataView(this.events.buffer);
  private ev = new Uint8Array(16);
  private evView = new DataView(this.ev.buffer);
  // UDP batch buffers, shared by every UDP socket (handled one at a time)
  private rData = new Uint8Array(BATCH * SLOT);
  private names = new Uint8Array(BATCH * NAME);
  private rIov = new BigUint64Array(BATCH * 2);
  private rHdr = new Uint8Array(BATCH * 64);
  private rHdrView = new DataView(this.rHdr.buffer);
  private sData = new Uint8Array(BATCH * SLOT);
  private sIov = new BigUint64Array(BATCH * 2);
  private sIov32 = new Uint32Array(this.sIov.buffer);
  private sHdr = new Uint8Array(BATCH * 64);
  private sHdrView = new DataView(this.sHdr.buffer);
  private nameAddr: bigint[] = [];
  private client: NativeClient;
  private readBuf = new Uint8Array(READ_BUF);
  private writeBuf = new Uint8Array(READ_BUF + 2);
  private kinds = new Map<number, "udp" | "listen" | "wake">();
  private conns = new Map<number, Conn>();
  private byId = new Map<number, Conn>();
  private nextId = 1;
  private lastTick = 0;
  private stopping = false;
  private deadline = Infinity;
  private running = true;
  /** Queries answered in the current round (one epoll_wait's events). */
  private answered = 0;

  constructor(private o: ReactorOptions) {
    this.sys = o.libc.sys;
    this.ep = this.sys.epoll_create1(C.EPOLL_CLOEXEC);
    if (this.ep < 0) throw new Error(`epoll_create1 failed (errno ${o.libc.errno()})`);
    this.client = new NativeClient(this.names, 0);
    const rData = BigInt(addr(this.rData)), sData = BigInt(addr(this.sData)), names = BigInt(addr(this.names));
    const rIov = BigInt(addr(this.rIov)), sIov = BigInt(addr(this.sIov));
    for (let i = 0; i < BATCH; i++) {
      this.rIov[i * 2] = rData + BigInt(i * SLOT);
      this.rIov[i * 2 + 1] = BigInt(SLOT);
      this.sIov[i * 2] = sData + BigInt(i * SLOT);
      this.nameAddr.push(names + BigInt(i * NAME));
      const o = i * 64;
      this.rHdrView.setBigUint64(o, this.nameAddr[i]!, true);
      this.rHdrView.setUint32(o + 8, NAME, true);
      this.rHdrView.setBigUint64(o + 16, rIov + BigInt(i * 16), true);
      this.rHdrView.setBigUint64(o + 24, 1n, true);
      this.sHdrView.setBigUint64(o + 16, sIov + BigInt(i * 16), true);
      this.sHdrView.setBigUint64(o + 24, 1n, true);
    }
    for (const fd of o.udpFds) this.add(fd, "udp");
    for (const fd of o.tcpFds) this.add(fd, "listen");
    this.add(o.wakeFd, "wake");
  }

  private add(fd: number, kind: "udp" | "listen" | "wake"): void {
    this.kinds.set(fd, kind);
    this.ctl(C.EPOLL_CTL_ADD, fd, C.EPOLLIN);
  }

  private ctl(op: number, fd: number, events: number): void {
    this.evView.setUint32(0, events, true);
    this.evView.setUint32(EPOLL_DATA_OFFSET, fd, true);
    this.sys.epoll_ctl(this.ep, op, fd, addr(this.ev));
  }

  /** Run until stopped; returns when every socket is closed. */
  run(): void {
    const evp = addr(this.events);
    const windowMs = this.o.batchWindowUs / 1000;
    let lastWork = -Infinity;
    let underLoad = false;
    while (this.running) {
      // under load (work kept arriving within the window), let the next round accumulate
      if (underLoad) this.sys.usleep(this.o.batchWindowUs);
      const n = this.sys.epoll_wait(this.ep, evp, MAX_EVENTS, TICK_MS);
      const woke = performance.now();
      const busy = n > 0 && woke - lastWork < 2 * windowMs;
      if (n > 0) lastWork = woke;
      this.answered = 0;
      for (let i = 0; i < n; i++) {
        const at = i * EPOLL_EVENT_SIZE;
        const events = this.eventsView.getUint32(at, true);
        const fd = this.eventsView.getUint32(at + EPOLL_DATA_OFFSET, true);
        const kind = this.kinds.get(fd);
        if (kind === "udp") this.readUdp(fd);
        else if (kind === "listen") this.accept(fd);
        else if (kind === "wake") this.wake(fd);
        else {
          const c = this.conns.get(fd);
          if (!c) continue;
          if (events & C.EPOLLOUT) this.flush(c);
          if (events & (C.EPOLLIN | C.EPOLLHUP | C.EPOLLERR | C.EPOLLRDHUP) && this.conns.get(fd) === c) this.readTcp(c);
        }
      }
      // small rounds arriving close together: wait before the next one (see batchWindowUs)
      underLoad = windowMs > 0 && busy && this.answered < FULL_ROUND;
      const now = woke;
      if (now - this.lastTick >= TICK_MS) {
        this.lastTick = now;
        this.sweep(now);
        this.o.onTick(now);
      }
    }
    this.o.onTick(performance.now());
    this.sys.close(this.ep);
  }

  /**
   * Stop reading UDP and accepting TCP. With `graceful`, connections keep being served until the
   * answers they are owed are written (or `timeoutMs`); then everything closes and run() returns.
   */
  stop(graceful: boolean, timeoutMs: number): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const [fd, kind] of this.kinds) if (kind !== "wake") {
      this.kinds.delete(fd);
      this.sys.close(fd);
    }
    this.deadline = graceful ? performance.now() + timeoutMs : 0;
    this.sweep(performance.now());
  }

  connections(): number {
    return this.conns.size;
  }

  // ---- UDP

  private readUdp(fd: number): void {
    const sys = this.sys;
    const rh = this.rHdrView;
    for (;;) {
      const n = sys.recvmmsg(fd, addr(this.rHdr), BATCH, C.MSG_DONTWAIT, null);
      if (n <= 0) return;
      let out = 0;
      for (let i = 0; i < n; i++) {
        const o = i * 64;
        const len = rh.getUint32(o + 56, true);
        const truncated = (rh.getUint32(o + 48, true) & C.MSG_TRUNC) !== 0;
        rh.setUint32(o + 8, NAME, true); // the kernel wrote the sender's length; restore for next time
        if (truncated) continue;
        this.client.reset(i * NAME, "udp", fd, 0);
        let a: Answer | Promise<Answer>;
        try {
          this.answered++;
          a = this.o.answer(this.rData.subarray(i * SLOT, i * SLOT + len), this.client);
        } catch {
          continue; // a bug on one packet must not take the listener down
        }
        if (a === undefined || a instanceof Promise) continue;
        if (Array.isArray(a)) {
          for (const m of a) if (out < BATCH && m.length <= SLOT) this.queueUdp(out++, m, i);
        } else if (out < BATCH && a.length <= SLOT) this.queueUdp(out++, a, i);
      }
      if (out > 0) sys.sendmmsg(fd, addr(this.sHdr), out, C.MSG_DONTWAIT); // a full send buffer drops the rest, as UDP does
      if (n < BATCH) return;
    }
  }

  private queueUdp(j: number, msg: Uint8Array, from: number): void {
    this.sData.set(msg, j * SLOT);
    this.sIov32[j * 4 + 2] = msg.length;
    const o = j * 64;
    this.sHdrView.setBigUint64(o, this.nameAddr[from]!, true);
    this.sHdrView.setUint32(o + 8, this.names[from * NAME] === C.AF_INET6 ? 28 : 16, true);
  }

  /** An answer the main thread produced for a delegated UDP query. */
  sendUdp(fd: number, sockaddr: Uint8Array, msg: Uint8Array): void {
    if (this.kinds.get(fd) !== "udp") return; // closed since (stopping)
    this.sys.sendto(fd, addr(msg), msg.length, C.MSG_DONTWAIT, addr(sockaddr), sockaddr.length);
  }

  // ---- TCP

  private accept(lfd: number): void {
    const sa = this.names; // slot 0 is free between UDP batches
    const len = new Uint32Array([NAME]);
    for (;;) {
      len[0] = NAME;
      const fd = this.sys.accept4(lfd, addr(sa), addr(len), C.SOCK_NONBLOCK | C.SOCK_CLOEXEC);
      if (fd < 0) return;
      if (this.conns.size >= this.o.tcp.maxConnections) {
        this.sys.close(fd);
        continue;
      }
      const one = new Int32Array([1]);
      // answers leave at once: Nagle would hold a second answer behind the client's delayed ACK
      this.sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, addr(one), 4);
      const peer = peerOf(sa, 0);
      const c: Conn = { fd, id: this.nextId++, address: peer.address, port: peer.port, pending: 0, lastActive: performance.now(), eof: false };
      this.conns.set(fd, c);
      this.byId.set(c.id, c);
      this.ctl(C.EPOLL_CTL_ADD, fd, C.EPOLLIN | C.EPOLLRDHUP);
    }
  }

  private readTcp(c: Conn): void {
    const n = (this.sys.read(c.fd, addr(this.readBuf), READ_BUF));
    if (n < 0) {
      if (this.o.libc.errno() !== C.EAGAIN) this.close(c);
      return;
    }
    if (n === 0) {
      c.eof = true;
      if (c.pending === 0 && !c.out) this.close(c);
      else this.ctl(C.EPOLL_CTL_MOD, c.fd, c.out ? C.EPOLLOUT : 0);
      return;
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
    const ready: Uint8Array[] = [];
    let off = 0;
    while (buf.length - off >= 2) {
      const len = (buf[off]! << 8) | buf[off + 1]!;
      if (len === 0 || len > this.o.tcp.maxMessage) {
        this.close(c);
        return;
      }
      if (buf.length - off < 2 + len) break;
      const msg = buf.subarray(off + 2, off + 2 + len);
      off += 2 + len;
      this.client.reset(0, "tcp", c.fd, c.id);
      this.client.address = c.address;
      this.client.port = c.port;
      let a: Answer | Promise<Answer>;
      try {
        this.answered++;
        a = this.o.answer(msg, this.client);
      } catch {
        continue;
      }
      if (a === undefined || a instanceof Promise) continue;
      if (Array.isArray(a)) ready.push(...a);
      else ready.push(a);
    }
    if (off < buf.length) c.partial = buf.slice(off);
    if (ready.length) this.send(c, ready);
  }

  /** A delegated query on this connection: the main thread will answer it. */
  owe(connId: number): void {
    const c = this.byId.get(connId);
    if (c) c.pending++;
  }

  /** The main thread's answer for connection `connId` (gone already: dropped). */
  reply(connId: number, msgs: Uint8Array[]): void {
    const c = this.byId.get(connId);
    if (!c) return;
    c.pending = Math.max(0, c.pending - 1);
    if (msgs.length) this.send(c, msgs);
    else if (c.eof && c.pending === 0 && !c.out) this.close(c);
  }

  /** Frame and write answers; what the kernel does not take waits for EPOLLOUT. */
  private send(c: Conn, msgs: Uint8Array[]): void {
    let total = 0;
    for (const m of msgs) total += 2 + m.length;
    const frame = total <= this.writeBuf.length && !c.out ? this.writeBuf : new Uint8Array((c.out?.length ?? 0) + total);
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
    const hadOut = c.out !== undefined;
    c.out = undefined;
    this.write(c, frame.subarray(0, off), hadOut);
  }

  private flush(c: Conn): void {
    if (!c.out) return;
    const out = c.out;
    c.out = undefined;
    this.write(c, out, true);
  }

  private write(c: Conn, bytes: Uint8Array, watching: boolean): void {
    const n = (this.sys.write(c.fd, addr(bytes), bytes.length));
    if (n < 0 && this.o.libc.errno() !== C.EAGAIN) {
      this.close(c);
      return;
    }
    const wrote = Math.max(n, 0);
    if (wrote < bytes.length) {
      c.out = bytes.slice(wrote); // a copy: `bytes` may be the shared write buffer
      if (!watching) this.ctl(C.EPOLL_CTL_MOD, c.fd, (c.eof ? 0 : C.EPOLLIN | C.EPOLLRDHUP) | C.EPOLLOUT);
      return;
    }
    if (watching) this.ctl(C.EPOLL_CTL_MOD, c.fd, c.eof ? 0 : C.EPOLLIN | C.EPOLLRDHUP);
    if (c.eof && c.pending === 0) this.close(c);
  }

  private close(c: Conn): void {
    if (this.conns.get(c.fd) !== c) return;
    this.conns.delete(c.fd);
    this.byId.delete(c.id);
    this.sys.close(c.fd); // also leaves the epoll set
  }

  /** Idle connections close; a stopping reactor ends once nothing is owed or the deadline passed. */
  private sweep(now: number): void {
    const idle = this.o.tcp.idleTimeoutMs;
    for (const c of this.conns.values()) {
      const done = c.pending === 0 && !c.out;
      if (this.stopping ? done || now >= this.deadline : now - c.lastActive >= idle && c.pending === 0) this.close(c);
    }
    if (this.stopping && this.conns.size === 0) this.running = false;
  }

  private wake(fd: number): void {
    this.sys.read(fd, addr(this.ev), 8); // reset the eventfd counter
    this.o.onWake();
  }
}
