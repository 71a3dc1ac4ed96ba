/**
 * io_uring used as a batched syscall: the loop queues the recv and send calls of one event batch
 * and runs them all with one io_uring_enter, instead of one read or sendto each. Every op is
 * non-blocking (MSG_DONTWAIT: a socket with nothing to read or no room answers EAGAIN instead of
 * being polled), so each completes inside that enter and nothing is in flight between batches —
 * the descriptors' lifetimes stay the loop's business, as with plain syscalls.
 *
 * Measured (docs/benchmarks-proxy.md): a byte pipe on bun:ffi, 64 connections, 59k requests/s
 * with read/sendto per event, 64k with the batch's calls in one enter; nginx's epoll loop pays one
 * syscall per call like the first.
 */
import { ptr, toArrayBuffer, type Pointer } from "bun:ffi";
import { C, errnoName, type Libc } from "./libc.ts";

const SYS_IO_URING_SETUP = 425; // the same number on x86-64 and arm64
const SYS_IO_URING_ENTER = 426;
const SETUP_SUBMIT_ALL = 1 << 7;
const SETUP_SINGLE_ISSUER = 1 << 12;
const SETUP_DEFER_TASKRUN = 1 << 13;
const ENTER_GETEVENTS = 1;
const OFF_SQES = 0x10000000;
const OP_SEND = 26;
const OP_RECV = 27;
const PROT_RW = 3;
const MAP_SHARED_POPULATE = 0x01 | 0x8000;
/** struct io_uring_params as u32s: sq_entries, cq_entries, flags, …, features at 5; sq_off at 10, cq_off at 20. */
const P_SQ_ENTRIES = 0;
const P_CQ_ENTRIES = 1;
const P_FLAGS = 2;
const P_FEATURES = 5;
const SQ_OFF = 10; // head, tail, ring_mask, ring_entries, flags, dropped, array
const CQ_OFF = 20; // head, tail, ring_mask, ring_entries, overflow, cqes
const FEAT_SINGLE_MMAP = 1;
/** 5.7+: implies IORING_OP_SEND/RECV (5.6), which older kernels answer with EINVAL per op. */
const FEAT_FAST_POLL = 1 << 5;

export class SyscallBatch {
  private readonly sqes: Uint32Array;
  private readonly ring: Uint32Array;
  private readonly cq: Int32Array;
  private readonly sqTail: number;
  private readonly sqMask: number;
  private readonly cqHead: number;
  private readonly cqTail: number;
  private readonly cqMask: number;
  private readonly cqes: number;
  private tail: number;
  /** Ops queued since the last run: run() submits exactly these. */
  queued = 0;
  readonly capacity: number;

  private readonly sys: Libc["sys"];

  private constructor(
    private readonly libc: Libc,
    private readonly fd: number,
    params: Uint32Array,
    ringPtr: Pointer,
    ringSize: number,
    sqesPtr: Pointer,
  ) {
    this.sys = libc.sys;
    const sqOff = params.subarray(SQ_OFF, SQ_OFF + 10);
    const cqOff = params.subarray(CQ_OFF, CQ_OFF + 10);
    this.capacity = params[P_SQ_ENTRIES]!;
    this.ring = new Uint32Array(toArrayBuffer(ringPtr, 0, ringSize));
    this.cq = new Int32Array(this.ring.buffer);
    this.sqes = new Uint32Array(toArrayBuffer(sqesPtr, 0, this.capacity * 64));
    this.sqTail = sqOff[1]! / 4;
    this.sqMask = this.ring[sqOff[2]! / 4]!;
    const array = sqOff[6]! / 4;
    for (let i = 0; i < this.capacity; i++) this.ring[array + i] = i;
    this.cqHead = cqOff[0]! / 4;
    this.cqTail = cqOff[1]! / 4;
    this.cqMask = this.ring[cqOff[2]! / 4]!;
    this.cqes = cqOff[5]! / 4;
    this.tail = this.ring[this.sqTail]!;
  }

  /** A ring of `entries` ops, or why there is none (an old kernel, io_uring disabled by sysctl or seccomp). */
  static open(libc: Libc, entries: number): SyscallBatch | string {
    const { sys } = libc;
    const params = new Uint32Array(30); // struct io_uring_params, 120 bytes
    let fd = -1;
    // DEFER_TASKRUN (6.1+) runs completions only when this thread enters; older kernels get a plainer ring
    for (const flags of [SETUP_SUBMIT_ALL | SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN, SETUP_SUBMIT_ALL, 0]) {
      params.fill(0);
      params[P_FLAGS] = flags;
      fd = sys.syscall(SYS_IO_URING_SETUP, entries, ptr(params), 0, 0, 0, 0);
      if (fd >= 0) break;
      const e = libc.errno();
      if (e !== C.EINVAL) return `io_uring_setup: ${errnoName(e)}`; // flags this kernel lacks: try fewer
    }
    if (fd < 0) return "io_uring_setup: EINVAL";
    if (!(params[P_FEATURES]! & FEAT_SINGLE_MMAP) || !(params[P_FEATURES]! & FEAT_FAST_POLL)) {
      sys.close(fd);
      return "io_uring: kernel older than 5.7 (send/recv ops or a single mmap missing)";
    }
    const sqEntries = params[P_SQ_ENTRIES]!;
    const cqEntries = params[P_CQ_ENTRIES]!;
    // one mapping holds both rings: up to the end of the SQ index array or of the CQEs, whichever is further
    const ringSize = Math.max(params[SQ_OFF + 6]! + sqEntries * 4, params[CQ_OFF + 5]! + cqEntries * 16);
    const ringPtr = sys.mmap(null, ringSize, PROT_RW, MAP_SHARED_POPULATE, fd, 0) as Pointer | null;
    const sqesPtr = sys.mmap(null, sqEntries * 64, PROT_RW, MAP_SHARED_POPULATE, fd, OFF_SQES) as Pointer | null;
    if (mapFailed(ringPtr) || mapFailed(sqesPtr)) {
      sys.close(fd);
      return `io_uring mmap: ${errnoName(libc.errno())}`;
    }
    return new SyscallBatch(libc, fd, params, ringPtr!, ringSize, sqesPtr!);
  }

  /** Queue recv(fd, at, len, MSG_DONTWAIT); its result comes back under `tag`. */
  recv(fd: number, at: number, len: number, tag: number): void {
    this.push(OP_RECV, fd, at, len, C.MSG_DONTWAIT, tag);
  }

  /** Queue send(fd, at, len, MSG_DONTWAIT | MSG_NOSIGNAL); the bytes at `at` must stay put until `run`. */
  send(fd: number, at: number, len: number, tag: number): void {
    this.push(OP_SEND, fd, at, len, C.MSG_DONTWAIT | C.MSG_NOSIGNAL, tag);
  }

  private push(op: number, fd: number, at: number, len: number, flags: number, tag: number): void {
    const b = (this.tail & this.sqMask) * 16;
    const q = this.sqes;
    q[b] = op; // opcode, flags 0, ioprio 0
    q[b + 1] = fd;
    q[b + 2] = 0;
    q[b + 3] = 0;
    q[b + 4] = at >>> 0;
    q[b + 5] = Math.floor(at / 4294967296);
    q[b + 6] = len;
    q[b + 7] = flags;
    q[b + 8] = tag;
    q.fill(0, b + 9, b + 16);
    this.tail = (this.tail + 1) >>> 0;
    this.queued++;
  }

  /**
   * Run the queued ops and hand each result (bytes, or -errno) to `done` with its tag. Throws when
   * the kernel refuses an enter (nothing of that call ran); the ops that did run have been answered
   * by then, the others never will be, and the ring should not be used again.
   */
  run(done: (tag: number, res: number) => void): void {
    let left = this.queued;
    if (left === 0) return;
    this.ring[this.sqTail] = this.tail;
    let toSubmit = left;
    this.queued = 0;
    while (left > 0) {
      const r = this.sys.syscall(SYS_IO_URING_ENTER, this.fd, toSubmit, left, ENTER_GETEVENTS, 0, 0);
      if (r < 0) {
        const e = this.libc.errno();
        if (e !== C.EINTR) {
          this.reap(done);
          throw new Error(`io_uring_enter: ${errnoName(e)}`);
        }
      } else toSubmit -= r;
      left -= this.reap(done);
    }
  }

  /** Give the ring back to the kernel (its mappings stay: views on them may outlive this). */
  close(): void {
    this.sys.close(this.fd);
  }

  private reap(done: (tag: number, res: number) => void): number {
    const ring = this.ring;
    let h = ring[this.cqHead]!;
    const t = ring[this.cqTail]!;
    let n = 0;
    while (h !== t) {
      const at = this.cqes + (h & this.cqMask) * 4;
      done(this.cq[at]!, this.cq[at + 2]!);
      h = (h + 1) >>> 0;
      n++;
    }
    ring[this.cqHead] = h;
    return n;
  }
}

/** mmap's MAP_FAILED is (void*)-1; a null means the call did not happen. */
function mapFailed(p: Pointer | null): boolean {
  return !p || (p as unknown as number) >= 2 ** 63 || (p as unknown as number) < 0;
}
