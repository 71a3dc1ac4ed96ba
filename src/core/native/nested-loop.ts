/**
 * An epoll loop of our own on the main thread, nested inside Bun's. Bun's socket layer costs
 * about 1 µs per wake-up and per callback on top of the syscalls (docs/benchmarks-proxy.md): the
 * proxy's plain-TCP connections are watched here instead, and their callbacks are plain JS calls.
 *
 * While it has descriptors, the loop owns the thread: it blocks in its own epoll_wait, whose set
 * also holds Bun's epoll descriptor (readable when Bun has I/O: its sockets, its cross-thread
 * wake-ups, signals) and a timerfd ticking every YIELD_MS (Bun's timers, which it cannot see).
 * Either one makes it yield: it returns to Bun through setImmediate, Bun runs one turn (its
 * epoll_wait does not block with an immediate pending), then the loop resumes. Promise jobs
 * queued by callbacks run after each batch (drainMicrotasks), not at the next yield. A busy batch's
 * reads and writes can go through io_uring instead of one syscall each (setBatching, uring.ts).
 *
 * Main thread only (a Worker has its own Bun loop, and finding it is not worth it: nothing needs it).
 */
import type { TCPSocketListener } from "bun";
import { drainMicrotasks } from "bun:jsc";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { isMainThread } from "node:worker_threads";
import { idleBackgroundThreads } from "./background-threads.ts";
import { addr, C, EPOLL_DATA_OFFSET, EPOLL_EVENT_SIZE, errnoName, loadLibc, type Libc } from "./libc.ts";
import { SyscallBatch } from "./uring.ts";

/**
 * Bun's timers run at most this late while the loop owns the thread. (A slower tick when idle was
 * tried: short sleeps and polling loops elsewhere in the process then crawled at its pace.)
 */
const YIELD_MS = 5;
const MAX_EVENTS = 256;
/** Bytes read ahead per ready socket in a ring batch (a socket with more stays readable: the next batch reads on). */
const READ_REGION = 32 * 1024;
/** Bytes a batch's collected writes may copy into the loop's arena (more go into Buffers of their own). */
const ARENA_SIZE = 1024 * 1024;
/** A batch with at least this many ready descriptors runs its reads and writes through io_uring (`auto`). */
const AUTO_MIN = 4;
/** No read was done ahead for the event being handled. */
export const NOT_READ = -0x7fffffff;

/**
 * `proxy.io_uring`: a batch's recv/send calls go through one io_uring_enter (uring.ts) — `auto` when
 * the batch has AUTO_MIN ready descriptors or more (one at a time gains nothing), `always` for every
 * batch, `off` never.
 */
export type BatchMode = "auto" | "always" | "off";

export interface Watcher {
  /** epoll event bits. Must not throw (a throw is reported and the loop goes on). */
  onEvents(events: number): void;
  /** For a ring batch: whether to read this descriptor ahead, before the batch's callbacks run. */
  readAhead?(events: number): boolean;
}

/** A socket whose writes of a ring batch wait for the batch's end. */
export interface BatchedWriter {
  /** Queue the collected bytes on the ring (`tag` names the result). */
  queueSend(ring: SyscallBatch, tag: number): void;
  /** The kernel's answer to the queued send (bytes, or -errno); record it only. */
  sendResult(res: number): void;
  /** Act on the recorded answer (the remainder waits for EPOLLOUT, an error closes). */
  afterSend(): void;
}

export class NestedLoop {
  readonly libc: Libc;
  private readonly sys: Libc["sys"];
  private readonly ep: number;
  private readonly timerFd: number;
  private readonly bunEp: number;
  private readonly watchers: (Watcher | undefined)[] = [];
  /** Per descriptor: bumped on every registration, so an event queued for a closed descriptor is not delivered to its successor. */
  private readonly gens: number[] = [];
  private count = 0;
  private running = false;
  private readonly events = new Uint8Array(MAX_EVENTS * EPOLL_EVENT_SIZE);
  private readonly eventsView = new DataView(this.events.buffer);
  private readonly eventsPtr;
  private readonly ev = new Uint8Array(16);
  private readonly evView = new DataView(this.ev.buffer);
  private readonly evPtr;
  private readonly tick = new Uint8Array(8);
  private readonly tickPtr;
  private ring: SyscallBatch | undefined;
  private ringMin = Infinity;
  /** True while a ring batch's callbacks run: sockets collect their writes for the batch's end. */
  collecting = false;
  private readonly writers: BatchedWriter[] = [];
  /** Read-ahead results by event index (bytes, -errno, or NOT_READ), and the slab they were read into. */
  private readonly ahead = new Int32Array(MAX_EVENTS);
  slab: Buffer | undefined;
  /** Where in `slab` the last taken read-ahead landed (valid until the next batch). */
  aheadAt = 0;
  private slabPtr = 0;
  private current = -1;
  /**
   * This batch's collected writes, copied: a socket keeps an offset and a length here, not a Buffer
   * per write (two per proxied request were a third of its allocations). Offsets, never views: a view
   * of a shared buffer is a reference every collection visits (it doubled their pauses, measured).
   */
  arena: Buffer | undefined;
  arenaPtr = 0;
  private arenaAt = 0;
  /** proxy.busy_poll_us (0: off; see setBusyPoll), and whether the last batch served a socket. */
  busyPollUs = 0;
  private servedLast = false;

  private constructor(libc: Libc, bunEp: number) {
    this.libc = libc;
    this.sys = libc.sys;
    this.eventsPtr = addr(this.events);
    this.evPtr = addr(this.ev);
    this.tickPtr = addr(this.tick);
    this.bunEp = bunEp;
    this.ep = this.sys.epoll_create1(C.EPOLL_CLOEXEC);
    if (this.ep < 0) throw new Error(`epoll_create1: ${errnoName(libc.errno())}`);
    this.timerFd = this.sys.timerfd_create(C.CLOCK_MONOTONIC, C.TFD_NONBLOCK | C.TFD_CLOEXEC);
    if (this.timerFd < 0) throw new Error(`timerfd_create: ${errnoName(libc.errno())}`);
    const ns = BigInt(YIELD_MS) * 1_000_000n;
    const spec = new BigInt64Array([0n, ns, 0n, ns]);
    if (this.sys.timerfd_settime(this.timerFd, 0, addr(spec), null) !== 0) throw new Error(`timerfd_settime: ${errnoName(libc.errno())}`);
    trackImmediates();
    // the loop owns the thread: the runtime's own background work must not preempt it
    idleBackgroundThreads(libc);
    this.ctl(C.EPOLL_CTL_ADD, this.timerFd, C.EPOLLIN, 0);
    this.ctl(C.EPOLL_CTL_ADD, bunEp, C.EPOLLIN, 0);
  }

  private static instance: NestedLoop | null | undefined;
  private static why = "";

  /** The loop, or undefined where it cannot run (not Linux, no libc, a Worker, Bun's epoll not found): see `unavailable()`. */
  static get(): NestedLoop | undefined {
    if (NestedLoop.instance !== undefined) return NestedLoop.instance ?? undefined;
    NestedLoop.instance = null;
    const libc = loadLibc();
    if (!libc) NestedLoop.why = "bun:ffi cannot open libc here (Linux x86-64/arm64 only)";
    else if (!isMainThread) NestedLoop.why = "not on the main thread";
    else {
      const bunEp = findBunEpoll();
      if (bunEp === undefined) NestedLoop.why = "Bun's epoll descriptor was not found in /proc/self/fd";
      else NestedLoop.instance = new NestedLoop(libc, bunEp);
    }
    return NestedLoop.instance ?? undefined;
  }

  /** Why `get()` returned undefined. */
  static unavailable(): string {
    return NestedLoop.why;
  }

  /**
   * Route batches' reads and writes through io_uring (`mode`); returns why it cannot (the batches
   * then make plain syscalls, as with `off`).
   */
  setBatching(mode: BatchMode): string | undefined {
    if (mode === "off") {
      this.ringMin = Infinity;
      return undefined;
    }
    if (!this.ring) {
      const r = SyscallBatch.open(this.libc, 2 * MAX_EVENTS);
      if (typeof r === "string") {
        this.ringMin = Infinity;
        return r;
      }
      this.ring = r;
    }
    this.ringMin = mode === "always" ? 1 : AUTO_MIN;
    return undefined;
  }

  /** How batches run now ("off" also when io_uring could not start). */
  get batching(): BatchMode {
    return !this.ring || this.ringMin === Infinity ? "off" : this.ringMin === 1 ? "always" : "auto";
  }

  /** The read-ahead result for the event being handled (bytes at `aheadAt` in `slab`, or -errno), or NOT_READ; once. */
  takeAhead(): number {
    const i = this.current;
    if (i < 0) return NOT_READ;
    this.current = -1;
    this.aheadAt = i * READ_REGION;
    return this.ahead[i]!;
  }

  /** A writer with bytes for this batch's end (once per batch). */
  collect(w: BatchedWriter): void {
    this.writers.push(w);
  }

  /**
   * Copy b[at, at + n) into the arena for this batch's sends; its offset, or -1 when it does not fit
   * or (with `after` >= 0) would not directly follow the bytes that end at `after`.
   */
  arenaCopy(b: Uint8Array, at: number, n: number, after: number): number {
    const o = this.arenaAt;
    if ((after >= 0 && after !== o) || o + n > ARENA_SIZE) return -1;
    if (!this.arena) {
      this.arena = Buffer.allocUnsafeSlow(ARENA_SIZE);
      this.arenaPtr = addr(this.arena) as unknown as number;
    }
    Buffer.prototype.copy.call(b, this.arena, o, at, at + n);
    this.arenaAt = o + n;
    return o;
  }

  /** Descriptors watched now (the loop runs while there are any). */
  get watching(): number {
    return this.count;
  }

  /** Watch `fd` for `events` (EPOLLIN/EPOLLOUT/EPOLLRDHUP bits); starts the loop if it was idle. */
  add(fd: number, events: number, w: Watcher): void {
    const gen = ((this.gens[fd] ?? 0) + 1) | 0;
    this.gens[fd] = gen;
    this.ctl(C.EPOLL_CTL_ADD, fd, events, gen);
    this.watchers[fd] = w;
    this.count++;
    if (!this.running) {
      this.running = true;
      bunSetImmediate(this.run);
    }
  }

  modify(fd: number, events: number): void {
    this.ctl(C.EPOLL_CTL_MOD, fd, events, this.gens[fd]!);
  }

  /** Stop watching (before closing `fd`: a closed descriptor leaves the set by itself only once every duplicate is closed). */
  remove(fd: number): void {
    if (!this.watchers[fd]) return;
    this.sys.epoll_ctl(this.ep, C.EPOLL_CTL_DEL, fd, null);
    this.watchers[fd] = undefined;
    this.gens[fd] = ((this.gens[fd] ?? 0) + 1) | 0;
    this.count--;
  }

  /** Read every ready socket that wants it in one enter, before the callbacks; writes collect until the end. */
  private readAhead(ring: SyscallBatch, n: number): void {
    const { eventsView: v, watchers, gens, ahead } = this;
    if (!this.slab) {
      this.slab = Buffer.allocUnsafeSlow(MAX_EVENTS * READ_REGION);
      this.slabPtr = addr(this.slab) as unknown as number;
    }
    for (let i = 0; i < n; i++) {
      ahead[i] = NOT_READ;
      const at = i * EPOLL_EVENT_SIZE;
      const fd = v.getInt32(at + EPOLL_DATA_OFFSET, true);
      const w = watchers[fd];
      if (w?.readAhead && v.getInt32(at + EPOLL_DATA_OFFSET + 4, true) === gens[fd] && w.readAhead(v.getUint32(at, true))) {
        ring.recv(fd, this.slabPtr + i * READ_REGION, READ_REGION, i);
      }
    }
    if (this.runRing(ring, this.noteRead)) this.collecting = true;
  }

  /** ring.run; a refused enter turns batching off for good (unanswered reads are read as usual, unanswered sends wait for EPOLLOUT). */
  private runRing(ring: SyscallBatch, done: (tag: number, res: number) => void): boolean {
    try {
      ring.run(done);
      return true;
    } catch (e) {
      reportCallbackError("io_uring (batching is off from now on)", e);
      ring.close();
      this.ring = undefined;
      this.ringMin = Infinity;
      return false;
    }
  }

  private readonly noteRead = (tag: number, res: number): void => {
    this.ahead[tag] = res;
  };

  /** The batch's collected writes in one enter (in chunks the ring holds); results first, then what they cause. */
  private sendCollected(ring: SyscallBatch): void {
    const ws = this.writers;
    try {
      for (let from = 0; from < ws.length && this.ring; from += ring.capacity) {
        const to = Math.min(ws.length, from + ring.capacity);
        for (let i = from; i < to; i++) ws[i]!.queueSend(ring, i);
        this.runRing(ring, this.noteSent);
      }
      // all answers are recorded before any acts: closing one socket may make its owner write to another
      for (let i = 0; i < ws.length; i++) {
        try {
          ws[i]!.afterSend();
        } catch (e) {
          reportCallbackError("a native socket callback", e); // an owner's close handler, run by a failed send
        }
      }
    } finally {
      ws.length = 0;
      // every writer has sent its arena bytes or copied out what the kernel did not take (afterSend)
      this.arenaAt = 0;
    }
  }

  private readonly noteSent = (tag: number, res: number): void => {
    this.writers[tag]!.sendResult(res);
  };

  private ctl(op: number, fd: number, events: number, gen: number): void {
    this.evView.setUint32(0, events, true);
    this.evView.setInt32(EPOLL_DATA_OFFSET, fd, true);
    this.evView.setInt32(EPOLL_DATA_OFFSET + 4, gen, true);
    if (this.sys.epoll_ctl(this.ep, op, fd, this.evPtr) !== 0) throw new Error(`epoll_ctl(${op}, fd ${fd}): ${errnoName(this.libc.errno())}`);
  }

  private readonly run = (): void => {
    try {
      this.serve();
    } finally {
      // whatever a callback did, the loop must come back while it has sockets (or they all hang)
      if (this.count > 0) bunSetImmediate(this.run);
      else this.running = false;
    }
  };

  /**
   * `proxy.busy_poll_us`: after a batch that served sockets, poll this long before sleeping, so the
   * next event (an upstream's answer, a client's next request) is taken without a wake-up. 0: off.
   */
  setBusyPoll(us: number): void {
    this.busyPollUs = us;
  }

  /** The next events: without blocking while an immediate waits for Bun's turn; after a busy batch, polled first (setBusyPoll). */
  private wait(): number {
    const { sys } = this;
    if (pendingImmediates > 0) return sys.epoll_wait(this.ep, this.eventsPtr, MAX_EVENTS, 0);
    if (this.busyPollUs > 0 && this.servedLast) {
      const until = performance.now() + this.busyPollUs / 1000;
      do {
        const n = sys.epoll_wait(this.ep, this.eventsPtr, MAX_EVENTS, 0);
        if (n !== 0) return n;
        // whoever else is runnable here (an upstream on the same core) runs between polls
        sys.sched_yield();
      } while (performance.now() < until);
    }
    return sys.epoll_wait(this.ep, this.eventsPtr, MAX_EVENTS, -1);
  }

  /** Serve events until Bun needs a turn. */
  private serve(): void {
    const { sys, eventsView: v, watchers, gens } = this;
    for (;;) {
      const n = this.wait();
      if (n < 0) {
        const e = this.libc.errno();
        if (e === C.EINTR) break; // a signal: Bun's handler runs at the yield
        throw new Error(`epoll_wait: ${errnoName(e)}`);
      }
      let yieldNow = false;
      let served = false;
      const ring = n >= this.ringMin ? this.ring : undefined;
      if (ring) this.readAhead(ring, n);
      for (let i = 0; i < n; i++) {
        const at = i * EPOLL_EVENT_SIZE;
        const fd = v.getInt32(at + EPOLL_DATA_OFFSET, true);
        const w = watchers[fd];
        if (w === undefined || v.getInt32(at + EPOLL_DATA_OFFSET + 4, true) !== gens[fd]) {
          // the timer or Bun's epoll, or a descriptor closed earlier in this batch
          if (fd === this.timerFd) {
            sys.read(fd, this.tickPtr, 8);
            yieldNow = true;
          } else if (fd === this.bunEp) yieldNow = true;
          continue;
        }
        if (ring) this.current = i;
        served = true;
        try {
          w.onEvents(v.getUint32(at, true));
        } catch (e) {
          reportCallbackError("a native socket callback", e);
        }
        this.current = -1;
      }
      // a job that throws is an uncaught error, as anywhere in Bun (drainMicrotasks does not rethrow it)
      drainMicrotasks();
      if (ring) {
        this.collecting = false;
        this.sendCollected(ring);
        drainMicrotasks();
      }
      // a tick or Bun's turn alone (an idle proxy) does not start a busy poll
      this.servedLast = served;
      if (yieldNow || pendingImmediates > 0 || this.count === 0) return;
    }
  }
}

/**
 * setImmediate callbacks queued and not yet run or cleared. Bun's immediates run only when the
 * loop yields; a chain of them (a workflow's replay, a queue's claim loop) would otherwise advance
 * one step per YIELD_MS. While any is pending the loop polls without blocking and yields after
 * each batch. Counted by wrapping the global setImmediate/clearImmediate once the loop exists.
 * node:timers/promises' setImmediate does not go through the global (measured): it, setTimeout and
 * Bun.sleep advance at the timer's pace (at most YIELD_MS late).
 */
let pendingImmediates = 0;
const bunSetImmediate = globalThis.setImmediate;
const bunClearImmediate = globalThis.clearImmediate;
const TRACKED = Symbol("securely.nestedLoop.pending");

function trackImmediates(): void {
  type Tracked = ReturnType<typeof setImmediate> & { [TRACKED]?: boolean };
  const wrapped = (cb: (...args: any[]) => void, ...args: any[]) => {
    pendingImmediates++;
    const imm: Tracked = bunSetImmediate(() => {
      if (imm[TRACKED]) {
        imm[TRACKED] = false;
        pendingImmediates--;
      }
      cb(...args);
    });
    imm[TRACKED] = true;
    return imm;
  };
  globalThis.setImmediate = Object.assign(wrapped, bunSetImmediate) as typeof setImmediate;
  globalThis.clearImmediate = ((imm: Tracked | undefined) => {
    if (imm?.[TRACKED]) {
      imm[TRACKED] = false;
      pendingImmediates--;
    }
    bunClearImmediate(imm);
  }) as typeof clearImmediate;
}

/** A throw is reported and the loop goes on: left to propagate, it would stop the loop, and every socket on it with it. */
export function reportCallbackError(where: string, e: unknown): void {
  console.error(`securely: ${where} threw: ${(e as Error)?.stack ?? e}`);
}

/**
 * This thread's Bun loop: the epoll instance whose set holds a socket Bun just opened here. (Not
 * simply the first epoll: Bun's HTTP client thread has its own, made whenever fetch first runs,
 * and measured, it can come first.)
 */
function findBunEpoll(): number | undefined {
  let probe: TCPSocketListener | undefined;
  try {
    probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const inode = listeningInode(probe.port);
    if (inode === undefined) return undefined;
    let sockFd: number | undefined;
    const epolls: number[] = [];
    for (const fd of readdirSync("/proc/self/fd").map(Number)) {
      let link = "";
      try {
        link = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        continue;
      }
      if (link === `socket:[${inode}]`) sockFd = fd;
      else if (link === "anon_inode:[eventpoll]") epolls.push(fd);
    }
    if (sockFd === undefined) return undefined;
    const entry = new RegExp(`^tfd:\\s+${sockFd}\\s`, "m");
    return epolls.find((ep) => {
      try {
        return entry.test(readFileSync(`/proc/self/fdinfo/${ep}`, "utf8"));
      } catch {
        return false;
      }
    });
  } catch {
    return undefined;
  } finally {
    probe?.stop(true);
  }
}

/** The inode of the socket listening on 127.0.0.1:port (from /proc/net/tcp). */
function listeningInode(port: number): string | undefined {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local && f[3] === "0A") return f[9];
  }
  return undefined;
}
