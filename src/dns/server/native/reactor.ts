/**
 * The DNS I/O thread's event loop: one epoll set over the UDP sockets (./udp.ts), the TCP
 * listeners and connections (./tcp.ts), and an eventfd the main thread rings. It runs
 * synchronously and never yields to the JS event loop — that is the point: a wake-up costs one
 * epoll_wait, not Bun's whole socket layer (docs/benchmarks-dns.md has the numbers).
 *
 * The listening sockets belong to the main thread, which closes them after this thread ended;
 * stopping only takes them out of the epoll set.
 */
import { addr, C, EPOLL_DATA_OFFSET, EPOLL_EVENT_SIZE, errnoName, type Libc } from "../../../core/native/libc.ts";
import { HoldGovernor } from "./hold-governor.ts";
import { TcpConns, type TcpLimits } from "./tcp.ts";
import { UdpBatch, type OnQuery } from "./udp.ts";

const MAX_EVENTS = 256;
const TICK_MS = 200;
/** A round that answered this many queries is batch enough: waiting would only add latency. */
const FULL_ROUND = 16;

export interface ReactorOptions {
  libc: Libc;
  udpFds: number[];
  tcpFds: number[];
  /** Readable when the main thread has posted something (see ./thread.ts). */
  wakeFd: number;
  tcp: TcpLimits;
  /**
   * Adaptive batching, µs (0 = off): while rounds of several queries arrive closer together than
   * two windows, wait one window before the next epoll_wait so one wake-up serves more queries.
   * A client that sends one query at a time is never held.
   */
  batchWindowUs: number;
  answer: OnQuery;
  onWake(): void;
  /** A datagram not answered: oversize, port-0, send-buffer… */
  onDrop(reason: string): void;
  /** About every 200 ms, and once more before run() returns. */
  onTick(now: number): void;
  /** Stopping: these listeners are out of the epoll set and never touched again (the owner may close them). */
  onReleased(fds: number[]): void;
}

type Kind = "udp" | "listen" | "wake";

export class Reactor {
  readonly udp: UdpBatch;
  readonly tcp: TcpConns;
  private sys: Libc["sys"];
  private ep: number;
  private events = new Uint8Array(MAX_EVENTS * EPOLL_EVENT_SIZE);
  private eventsView = new DataView(this.events.buffer);
  private ev = new Uint8Array(16);
  private evView = new DataView(this.ev.buffer);
  private kinds = new Map<number, Kind>();
  /** Listeners out of the epoll set until the next tick (accept ran out of descriptors). */
  private paused: number[] = [];
  private lastTick = 0;
  private stopping = false;
  private deadline = Infinity;
  private running = true;

  constructor(private o: ReactorOptions) {
    this.sys = o.libc.sys;
    this.ep = this.sys.epoll_create1(C.EPOLL_CLOEXEC);
    if (this.ep < 0) throw new Error(`epoll_create1: ${errnoName(o.libc.errno())}`);
    this.udp = new UdpBatch(o.libc, o.answer, o.onDrop);
    this.tcp = new TcpConns(o.libc, o.tcp, (op, fd, events) => this.ctl(op, fd, events), o.answer);
    for (const fd of o.udpFds) this.add(fd, "udp");
    for (const fd of o.tcpFds) this.add(fd, "listen");
    this.add(o.wakeFd, "wake");
  }

  private add(fd: number, kind: Kind): void {
    if (!this.ctl(C.EPOLL_CTL_ADD, fd, C.EPOLLIN)) throw new Error(`epoll_ctl(ADD ${kind} fd ${fd}): ${errnoName(this.o.libc.errno())}`);
    this.kinds.set(fd, kind);
  }

  private ctl(op: number, fd: number, events: number): boolean {
    this.evView.setUint32(0, events, true);
    this.evView.setUint32(EPOLL_DATA_OFFSET, fd, true);
    return this.sys.epoll_ctl(this.ep, op, fd, addr(this.ev)) === 0;
  }

  /** Run until stopped and every connection is done. */
  run(): void {
    const evp = addr(this.events);
    const windowMs = this.o.batchWindowUs / 1000;
    let lastWork = -Infinity;
    let hold = false;
    const governor = new HoldGovernor(performance.now());
    while (this.running) {
      if (hold) this.sys.usleep(this.o.batchWindowUs);
      const n = this.sys.epoll_wait(this.ep, evp, MAX_EVENTS, TICK_MS);
      const now = performance.now();
      const close = n > 0 && now - lastWork < 2 * windowMs;
      if (n > 0) lastWork = now;
      let answered = 0;
      for (let i = 0; i < n; i++) {
        const at = i * EPOLL_EVENT_SIZE;
        const events = this.eventsView.getUint32(at, true);
        const fd = this.eventsView.getUint32(at + EPOLL_DATA_OFFSET, true);
        const kind = this.kinds.get(fd);
        if (kind === "udp") answered += this.udp.read(fd);
        else if (kind === "listen") this.accept(fd);
        else if (kind === "wake") this.wake(fd);
        else answered += this.tcp.event(fd, events);
      }
      // several queries per round, rounds close together: batch (one query per round is a
      // client waiting for each answer — holding it would only slow it down; so would holding
      // clients that wait in lockstep, which the governor detects)
      governor.record(now, answered);
      hold = windowMs > 0 && close && answered >= 2 && answered < FULL_ROUND && governor.allowed;
      if (now - this.lastTick >= TICK_MS) {
        this.lastTick = now;
        this.tick(now);
      }
    }
    this.o.onTick(performance.now());
    this.sys.close(this.ep);
  }

  private tick(now: number): void {
    for (const fd of this.paused.splice(0)) if (!this.stopping) this.add(fd, "listen");
    if (this.tcp.sweep(now, this.stopping, this.deadline) === 0 && this.stopping) this.running = false;
    this.o.onTick(now);
  }

  private accept(lfd: number): void {
    if (this.tcp.accept(lfd) === 0) return;
    this.ctl(C.EPOLL_CTL_DEL, lfd, 0);
    this.kinds.delete(lfd);
    this.paused.push(lfd);
  }

  /**
   * Stop reading UDP and accepting TCP. With `graceful`, connections are served until the
   * answers they are owed are written (or `timeoutMs`); then run() returns.
   */
  stop(graceful: boolean, timeoutMs: number): void {
    if (this.stopping) return;
    this.stopping = true;
    const released = [...this.paused];
    for (const [fd, kind] of this.kinds) if (kind !== "wake") {
      this.ctl(C.EPOLL_CTL_DEL, fd, 0);
      this.kinds.delete(fd);
      released.push(fd);
    }
    this.paused = [];
    // closed at once by the owner: a UDP socket left open but unread would swallow its share of
    // the port's queries while TCP drains (during an upgrade the new instance shares the port)
    this.o.onReleased(released);
    this.deadline = graceful ? performance.now() + timeoutMs : 0;
    if (this.tcp.sweep(performance.now(), true, this.deadline) === 0) this.running = false;
  }

  /** Send a delegated UDP answer, unless that socket is no longer served (stopping). */
  sendUdp(fd: number, sockaddr: Uint8Array, msg: Uint8Array): void {
    if (this.kinds.get(fd) === "udp") this.udp.sendTo(fd, sockaddr, msg);
  }

  private wake(fd: number): void {
    this.sys.read(fd, addr(this.ev), 8); // reset the eventfd counter
    this.o.onWake();
  }
}
