/**
 * Listening sockets made with libc directly (non-blocking, close-on-exec, SO_REUSEPORT so
 * `threads` processes and an upgrading instance share the port), and sockaddr encoding.
 */
import { isIPv4, isIPv6 } from "node:net";
import { bytesToIp, ipToBytes } from "../net/ip.ts";
import { addr, C, errnoName, type Libc } from "./libc.ts";

/** struct sockaddr_in / sockaddr_in6 for host:port. */
export function sockaddr(host: string, port: number): Uint8Array {
  const v6 = isIPv6(host);
  if (!v6 && !isIPv4(host)) throw new Error(`"${host}" is not an IP address (resolve names before binding)`);
  const sa = new Uint8Array(v6 ? 28 : 16);
  const dv = new DataView(sa.buffer);
  dv.setUint16(0, v6 ? C.AF_INET6 : C.AF_INET, true);
  dv.setUint16(2, port, false);
  sa.set(ipToBytes(host)!, v6 ? 8 : 4);
  return sa;
}

/** struct sockaddr_un for a filesystem path: sun_family, the path, its NUL (the length to pass is the array's). */
export function sockaddrUnix(path: string): Uint8Array {
  const sa = new Uint8Array(2 + Buffer.byteLength(path) + 1);
  new DataView(sa.buffer).setUint16(0, C.AF_UNIX, true);
  Buffer.from(sa.buffer, 2).write(path, "utf8");
  return sa;
}

/** Textual address and port of the sockaddr at `off` in `buf`. */
export function peerOf(buf: Uint8Array, off: number): { address: string; port: number } {
  const family = buf[off]! | (buf[off + 1]! << 8);
  const port = (buf[off + 2]! << 8) | buf[off + 3]!;
  if (family === C.AF_INET) return { address: `${buf[off + 4]}.${buf[off + 5]}.${buf[off + 6]}.${buf[off + 7]}`, port };
  return { address: formatIpv6(buf, off + 8), port };
}

/** IPv6 text of the 16 bytes at `off`; IPv4-mapped as ::ffff:a.b.c.d, the form node:dgram reports. */
function formatIpv6(b: Uint8Array, off: number): string {
  let mapped = b[off + 10] === 0xff && b[off + 11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = b[off + i] === 0;
  if (mapped) return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  return bytesToIp(b.subarray(off, off + 16));
}

export interface NativeListener {
  fd: number;
  /** The bound port (the kernel's pick when asked for 0). */
  port: number;
}

/** A bound (and for TCP listening) non-blocking socket; throws "EADDRINUSE …" style errors. */
export function openListener(libc: Libc, proto: "udp" | "tcp", host: string, port: number, backlog = 511): NativeListener {
  const { sys } = libc;
  const sa = sockaddr(host, port);
  const family = sa.length === 28 ? C.AF_INET6 : C.AF_INET;
  const type = (proto === "udp" ? C.SOCK_DGRAM : C.SOCK_STREAM) | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC;
  const fd = sys.socket(family, type, 0);
  if (fd < 0) throw new Error(`socket(): ${errnoName(libc.errno())}`);
  const fail = (what: string): never => {
    const e = errnoName(libc.errno());
    sys.close(fd);
    throw new Error(`${what}: ${e}${e === "EADDRINUSE" ? " (address already in use)" : e === "EACCES" ? " (permission denied: ports below 1024 need privileges)" : ""}`);
  };
  const one = new Int32Array([1]);
  if (sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, addr(one), 4) !== 0) fail("SO_REUSEADDR");
  if (sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEPORT, addr(one), 4) !== 0) fail("SO_REUSEPORT");
  if (sys.bind(fd, addr(sa), sa.length) !== 0) fail(`bind ${proto} ${host}:${port}`);
  if (proto === "tcp" && sys.listen(fd, backlog) !== 0) fail(`listen ${host}:${port}`);
  const out = new Uint8Array(28);
  const len = new Uint32Array([28]);
  if (sys.getsockname(fd, addr(out), addr(len)) !== 0) fail("getsockname");
  return { fd, port: (out[2]! << 8) | out[3]! };
}
