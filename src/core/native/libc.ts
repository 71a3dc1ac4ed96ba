/**
 * The few Linux syscalls securely calls itself through bun:ffi: sockets, epoll, eventfd, timerfd,
 * the batched recvmmsg/sendmmsg, io_uring (through syscall and mmap), execve and sched_setscheduler. Used where Bun's own
 * socket layer costs more per packet than the work (the DNS I/O thread, the proxy's native TCP:
 * docs/architecture.md). Loaded lazily; `loadLibc()` returns undefined
 * off Linux or when libc cannot be opened, and callers fall back to Bun's sockets.
 */
import { dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";

const { i32, u32, i64, u64, ptr: P } = FFIType;

const SYMBOLS = {
  socket: { args: [i32, i32, i32], returns: i32 },
  setsockopt: { args: [i32, i32, i32, P, u32], returns: i32 },
  bind: { args: [i32, P, u32], returns: i32 },
  listen: { args: [i32, i32], returns: i32 },
  getsockname: { args: [i32, P, P], returns: i32 },
  accept4: { args: [i32, P, P, i32], returns: i32 },
  connect: { args: [i32, P, u32], returns: i32 },
  shutdown: { args: [i32, i32], returns: i32 },
  getsockopt: { args: [i32, i32, i32, P, P], returns: i32 },
  // variadic in C; the one use passes an int* (FIONREAD), which both ABIs pass like a fixed argument
  ioctl: { args: [i32, u64, P], returns: i32 },
  recvmmsg: { args: [i32, P, u32, i32, P], returns: i32 },
  sendmmsg: { args: [i32, P, u32, i32], returns: i32 },
  sendto: { args: [i32, P, u64, i32, P, u32], returns: i32 },
  // ssize_t returned as i32: every buffer here is < 2 GiB, and a number avoids a BigInt per call
  read: { args: [i32, P, u64], returns: i32 },
  write: { args: [i32, P, u64], returns: i32 },
  close: { args: [i32], returns: i32 },
  epoll_create1: { args: [i32], returns: i32 },
  epoll_ctl: { args: [i32, i32, i32, P], returns: i32 },
  epoll_wait: { args: [i32, P, i32, i32], returns: i32 },
  eventfd: { args: [u32, i32], returns: i32 },
  timerfd_create: { args: [i32, i32], returns: i32 },
  timerfd_settime: { args: [i32, i32, P, P], returns: i32 },
  usleep: { args: [u32], returns: i32 },
  // io_uring_setup / io_uring_enter have no libc wrapper; every use returns an int
  syscall: { args: [i64, i64, i64, i64, i64, i64, i64], returns: i32 },
  mmap: { args: [P, u64, i32, i32, i32, i64], returns: P },
  execve: { args: [P, P, P], returns: i32 },
  // pid is a thread id here: Linux applies a scheduling policy per thread
  sched_setscheduler: { args: [i32, i32, P], returns: i32 },
  sched_yield: { args: [], returns: i32 },
  __errno_location: { args: [], returns: P },
} as const;

type LibcSymbols = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

export interface Libc {
  sys: LibcSymbols;
  /** errno of the last failed call on this thread; read it right after the call. */
  errno(): number;
}

/** Linux constants (identical on x86-64 and arm64). */
export const C = {
  AF_INET: 2,
  AF_INET6: 10,
  AF_UNIX: 1,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,
  SOL_SOCKET: 1,
  SO_REUSEADDR: 2,
  SO_REUSEPORT: 15,
  IPPROTO_TCP: 6,
  TCP_NODELAY: 1,
  SO_ERROR: 4,
  SO_LINGER: 13,
  SHUT_WR: 1,
  MSG_NOSIGNAL: 0x4000,
  CLOCK_MONOTONIC: 1,
  TFD_NONBLOCK: 0o4000,
  TFD_CLOEXEC: 0o2000000,
  EINTR: 4,
  EINVAL: 22,
  EINPROGRESS: 115,
  FIONREAD: 0x541b,
  MSG_DONTWAIT: 0x40,
  MSG_TRUNC: 0x20,
  EPOLLIN: 0x1,
  EPOLLOUT: 0x4,
  EPOLLERR: 0x8,
  EPOLLHUP: 0x10,
  EPOLLRDHUP: 0x2000,
  EPOLL_CLOEXEC: 0o2000000,
  EPOLL_CTL_ADD: 1,
  EPOLL_CTL_DEL: 2,
  EPOLL_CTL_MOD: 3,
  EFD_NONBLOCK: 0o4000,
  EFD_CLOEXEC: 0o2000000,
  EAGAIN: 11,
  ENFILE: 23,
  EMFILE: 24,
  ENOBUFS: 105,
  SCHED_IDLE: 5,
} as const;

/** struct epoll_event is packed on x86-64 (12 bytes) and naturally aligned elsewhere (16). */
export const EPOLL_EVENT_SIZE = process.arch === "x64" ? 12 : 16;
export const EPOLL_DATA_OFFSET = process.arch === "x64" ? 4 : 8;

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM", 4: "EINTR", 9: "EBADF", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 22: "EINVAL", 23: "ENFILE", 24: "EMFILE",
  32: "EPIPE", 97: "EAFNOSUPPORT", 98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 101: "ENETUNREACH", 104: "ECONNRESET",
  110: "ETIMEDOUT", 111: "ECONNREFUSED", 113: "EHOSTUNREACH", 2: "ENOENT",
};

export function errnoName(n: number): string {
  return ERRNO_NAMES[n] ?? `errno ${n}`;
}

let cached: Libc | null | undefined;

export function loadLibc(): Libc | undefined {
  if (cached !== undefined) return cached ?? undefined;
  cached = null;
  if (process.platform !== "linux" || (process.arch !== "x64" && process.arch !== "arm64")) return undefined;
  for (const name of ["libc.so.6", "libc.so"]) {
    try {
      const { symbols } = dlopen(name, SYMBOLS);
      cached = { sys: symbols, errno: () => read.i32(symbols.__errno_location() as Pointer, 0) };
      break;
    } catch {
      // musl or a stripped system: try the next name, else fall back to Bun's sockets
    }
  }
  return cached ?? undefined;
}

/** `p` plus `bytes` (an element inside an array of structs). */
export function offset(p: Pointer, bytes: number): Pointer {
  return ((p as unknown as number) + bytes) as unknown as Pointer;
}

/** The address of a typed array's first byte (keep the array referenced while the kernel uses it). */
export function addr(view: ArrayBufferView): Pointer {
  return ptr(view as Uint8Array);
}
