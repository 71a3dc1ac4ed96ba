/**
 * Zero-reset handover without `tcp_migrate_req`. During an upgrade both instances' listening
 * sockets sit in one SO_REUSEPORT group per address. With the kernel default
 * `net.ipv4.tcp_migrate_req=0`, a connection still queued on the old instance's socket when it
 * closes is reset. So before the old instance stops accepting, it attaches a classic BPF program
 * to the group (SO_ATTACH_REUSEPORT_CBPF: any member may, no privilege needed) that sends every
 * new connection to one of the new instance's sockets; the old sockets' queues then empty while
 * the old instance still accepts (the HttpDrain linger), and closing them resets nothing.
 *
 * The program returns an index into the group's socket array. Sockets are indexed in the order
 * they joined, so the old instance's O sockets are 0..O-1 and the new instance's N are O..O+N-1.
 * When a socket leaves, the kernel moves the LAST socket into its slot — so while old sockets
 * close one by one, the new sockets at the end move down into freed slots. After k closes
 * (k < O), indices O..O+N-k-1 are still the untouched new sockets; the program therefore picks
 * among O..N (N-O+1 of them, at least index O), which stay new sockets for every k < O, and an
 * index past the end falls back to the kernel's hash — today's behaviour, never worse. Once the
 * old instance is gone the new one detaches the program (SO_DETACH_REUSEPORT_BPF) so the hash
 * spreads connections evenly again.
 *
 * Linux only, through bun:ffi (libc setsockopt). Bun.serve does not expose its fd, so the fd is
 * found through /proc/self/fd (socket:[inode]) matched against /proc/net/tcp{,6} LISTEN rows.
 * Anything missing logs one warning and the upgrade goes on as before.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

const SOL_SOCKET = 1;
const SO_ATTACH_REUSEPORT_CBPF = 51;
const SO_DETACH_REUSEPORT_BPF = 68;
/** SKF_AD_OFF (-0x1000) + SKF_AD_RANDOM (56), as the unsigned k of a BPF_LD|BPF_W|BPF_ABS. */
const AD_RANDOM = 0xfffff000 + 56;

/** One reuseport group (address + port) and where the new instance's sockets sit in it. */
export interface SteerPlan {
  /** "tcp" or "tcp6" row address as in /proc/net, and the port. */
  table: "tcp" | "tcp6";
  addr: string;
  port: number;
  /** Inodes of the old instance's sockets in the group: whoever holds one attaches the program. */
  oldInodes: string[];
  /** Index of the first new socket, and how many indices from there are always new sockets. */
  first: number;
  count: number;
}

interface Row {
  table: "tcp" | "tcp6";
  addr: string;
  port: number;
  inode: string;
}

function listenRows(): Row[] {
  const out: Row[] = [];
  for (const table of ["tcp", "tcp6"] as const) {
    let text: string;
    try {
      text = readFileSync(`/proc/net/${table}`, "utf8");
    } catch {
      continue;
    }
    // rows are listed in hash-bucket order, not join order: only counts are used from them
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "0A" || f[9] === "0") continue;
      const [addr, port] = f[1]!.split(":");
      out.push({ table, addr: addr!, port: parseInt(port!, 16), inode: f[9]! });
    }
  }
  return out;
}

/** Socket inode → fd number for one process ("self" or a pid). */
function socketFds(pid: number | "self"): Map<string, number> {
  const out = new Map<string, number>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.set(m[1]!, Number(fd));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

function tcpPort(line: string): number | undefined {
  const parts = line.trim().split(/\s+/);
  if (parts.length > 1 && ["udp", "unix"].includes(parts[0]!.toLowerCase())) return undefined;
  const m = /:(\d+)$/.exec(parts.at(-1)!);
  return m ? Number(m[1]) : undefined;
}

/**
 * The old instance's side, once the new one reported ready: for every TCP port in `listening`,
 * the groups where the new instance (every LISTEN socket not held by `oldPids`) has joined.
 */
export function planSteering(listening: string[], oldPids: number[]): SteerPlan[] {
  const ports = new Set(listening.map(tcpPort).filter((p): p is number => p !== undefined));
  if (ports.size === 0) return [];
  const old = new Set<string>();
  for (const pid of oldPids) for (const inode of socketFds(pid).keys()) old.add(inode);
  const groups = new Map<string, Row[]>();
  for (const r of listenRows()) {
    if (!ports.has(r.port)) continue;
    const key = `${r.table} ${r.addr} ${r.port}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const plans: SteerPlan[] = [];
  for (const rows of groups.values()) {
    const oldRows = rows.filter((r) => old.has(r.inode));
    const o = oldRows.length;
    const n = rows.length - o;
    if (o === 0 || n === 0) continue;
    const { table, addr, port } = rows[0]!;
    plans.push({ table, addr, port, oldInodes: oldRows.map((r) => r.inode), first: o, count: Math.max(1, n - o + 1) });
  }
  return plans;
}

/** struct sock_filter[]: "return first + random % count" (or "return first"). */
function program(first: number, count: number): Uint8Array {
  const ins: [number, number][] =
    count <= 1
      ? [[0x06, first]] // BPF_RET|BPF_K
      : [
          [0x20, AD_RANDOM], // BPF_LD|BPF_W|BPF_ABS  A = random
          [0x94, count], // BPF_ALU|BPF_MOD|BPF_K   A %= count
          [0x04, first], // BPF_ALU|BPF_ADD|BPF_K   A += first
          [0x16, 0], // BPF_RET|BPF_A
        ];
  const buf = new Uint8Array(ins.length * 8);
  const view = new DataView(buf.buffer);
  ins.forEach(([code, k], i) => {
    view.setUint16(i * 8, code, true);
    view.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return buf;
}

interface Libc {
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  errno(): number;
  address(buf: Uint8Array): number;
}

let libc: Libc | undefined | null;

async function loadLibc(): Promise<Libc> {
  if (libc) return libc;
  if (libc === null || process.platform !== "linux") throw new Error("only on Linux");
  // struct sock_fprog is laid out for 64-bit little-endian below
  if (process.arch !== "x64" && process.arch !== "arm64") throw new Error(`not built for ${process.arch}`);
  try {
    const { dlopen, FFIType, ptr, read } = await import("bun:ffi");
    const lib = dlopen("libc.so.6", {
      setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
      __errno_location: { args: [], returns: FFIType.ptr },
    });
    libc = {
      setsockopt: (fd, level, name, value, len) => lib.symbols.setsockopt(fd, level, name, ptr(value), len),
      errno: () => read.i32(lib.symbols.__errno_location()!, 0),
      address: (buf) => ptr(buf),
    };
    return libc;
  } catch (err) {
    libc = null;
    throw new Error(`bun:ffi / libc.so.6 unavailable (${(err as Error).message})`);
  }
}

/** Attach the program for every plan with a member socket in this process. Throws on failure. */
async function attach(plans: SteerPlan[]): Promise<number> {
  const mine = socketFds("self");
  const targets = plans.map((p) => ({ p, fd: p.oldInodes.map((i) => mine.get(i)).find((fd) => fd !== undefined) })).filter((t) => t.fd !== undefined);
  if (targets.length === 0) return 0;
  const c = await loadLibc();
  for (const { p, fd } of targets) {
    const prog = program(p.first, p.count);
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; } — 16 bytes on 64-bit
    const fprog = new Uint8Array(16);
    const view = new DataView(fprog.buffer);
    view.setUint16(0, prog.length / 8, true);
    view.setBigUint64(8, BigInt(c.address(prog)), true);
    if (c.setsockopt(fd!, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog, 16) !== 0) {
      throw new Error(`setsockopt(SO_ATTACH_REUSEPORT_CBPF) on port ${p.port} failed (errno ${c.errno()})`);
    }
  }
  return targets.length;
}

/** Detach any reuseport program from the groups of this process's listeners on `listening`'s ports. */
async function detach(listening: string[]): Promise<number> {
  const ports = new Set(listening.map(tcpPort).filter((p): p is number => p !== undefined));
  const mine = socketFds("self");
  const fds = listenRows().filter((r) => ports.has(r.port) && mine.has(r.inode)).map((r) => mine.get(r.inode)!);
  if (fds.length === 0) return 0;
  const c = await loadLibc();
  const one = new Uint8Array(4);
  let done = 0;
  for (const fd of fds) {
    // ENOENT: no program attached (already detached through another member) — fine
    if (c.setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, one, 4) === 0) done++;
  }
  return done;
}

const STEER_SETTLE_MS = 100;
let warned = false;
type Warn = (msg: string) => void;

function warnOnce(warn: Warn, what: string, err: unknown): void {
  if (warned) return;
  warned = true;
  warn(`upgrade: cannot ${what} (${(err as Error).message}); falling back to plain SO_REUSEPORT overlap, where connections queued on the old instance's listeners when they close may be reset unless net.ipv4.tcp_migrate_req=1`);
}

/** Old instance: steer new connections to the new instance. Never throws; false when it could not. */
export async function steerToNew(plans: SteerPlan[], warn: Warn): Promise<boolean> {
  try {
    // then a moment for the event loop to accept what was queued before the program took
    // effect, for services that close their listener at once (HttpDrain lingers 1 s anyway)
    if ((await attach(plans)) > 0) await Bun.sleep(STEER_SETTLE_MS);
    return true;
  } catch (err) {
    warnOnce(warn, "steer new connections to the new instance", err);
    return false;
  }
}

/** New instance, once the old one is gone: back to the kernel's hash. Never throws. */
export async function stopSteering(listening: string[], warn: Warn): Promise<void> {
  try {
    await detach(listening);
  } catch (err) {
    warnOnce(warn, "detach the reuseport steering program", err);
  }
}

/** Whether steering can work here at all (Linux with /proc and bun:ffi). */
export async function steeringAvailable(): Promise<boolean> {
  try {
    readFileSync("/proc/net/tcp");
    await loadLibc();
    return true;
  } catch {
    return false;
  }
}
