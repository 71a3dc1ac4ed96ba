/**
 * SyscallBatch: queued recv/send calls run by one io_uring_enter on a real loopback TCP pair, each
 * result under its tag; nothing waits (an empty socket answers EAGAIN, a full one takes what fits).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { ptr } from "bun:ffi";
import { addr, C, loadLibc } from "../../../src/core/native/libc.ts";
import { openListener, sockaddr } from "../../../src/core/native/sockets.ts";
import { SyscallBatch } from "../../../src/core/native/uring.ts";

const libc = loadLibc();
const opened = libc ? SyscallBatch.open(libc, 8) : "no libc";
const ring = typeof opened === "string" ? undefined : opened;
const maybe = ring ? describe : describe.skip;
if (!ring) console.warn(`io_uring unavailable here (${opened}): SyscallBatch is not tested`);

const fds: number[] = [];
afterEach(() => {
  for (const fd of fds.splice(0)) libc!.sys.close(fd);
});

/** A connected TCP pair on loopback: [client, accepted], both non-blocking. */
function pair(): [number, number] {
  const { sys } = libc!;
  const l = openListener(libc!, "tcp", "127.0.0.1", 0);
  fds.push(l.fd);
  const c = sys.socket(C.AF_INET, C.SOCK_STREAM | C.SOCK_NONBLOCK, 0);
  fds.push(c);
  const sa = sockaddr("127.0.0.1", l.port);
  sys.connect(c, addr(sa), sa.length); // EINPROGRESS: loopback completes it before accept
  let s = -1;
  for (let i = 0; i < 100 && s < 0; i++) s = sys.accept4(l.fd, null, null, C.SOCK_NONBLOCK);
  expect(s).toBeGreaterThanOrEqual(0);
  fds.push(s);
  return [c, s];
}

function run(): Map<number, number> {
  const out = new Map<number, number>();
  ring!.run((tag, res) => out.set(tag, res));
  return out;
}

maybe("SyscallBatch", () => {
  test("sends and receives in one enter, each result under its tag; an empty socket answers EAGAIN instead of waiting", () => {
    const [c, s] = pair();
    const msg = Buffer.from("hello through the ring");
    const into = new Uint8Array(64);
    ring!.send(c, ptr(msg), msg.length, 1);
    ring!.recv(s, ptr(into), into.length, 2);
    ring!.recv(s, ptr(into), into.length, 3);
    expect(ring!.queued).toBe(3);
    const t0 = performance.now();
    const res = run();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(ring!.queued).toBe(0);
    expect(res.get(1)).toBe(msg.length);
    expect(res.get(2)).toBe(msg.length);
    expect(Buffer.from(into.subarray(0, msg.length)).toString()).toBe("hello through the ring");
    expect(res.get(3)).toBe(-C.EAGAIN);
  });

  test("the peer's FIN reads as 0 and a send to a reset connection as -errno", () => {
    const [c, s] = pair();
    libc!.sys.shutdown(c, C.SHUT_WR);
    const into = new Uint8Array(16);
    ring!.recv(s, ptr(into), 16, 7);
    expect(run().get(7)).toBe(0);
    // close with SO_LINGER 0: a reset; writing on then fails
    libc!.sys.setsockopt(c, C.SOL_SOCKET, C.SO_LINGER, addr(new Int32Array([1, 0])), 8);
    libc!.sys.close(c);
    fds.splice(fds.indexOf(c), 1);
    const msg = Buffer.from("x");
    ring!.send(s, ptr(msg), 1, 8);
    ring!.send(s, ptr(msg), 1, 9);
    const res = run();
    expect([res.get(8), res.get(9)].some((r) => r === -104 || r === -32)).toBe(true); // ECONNRESET or EPIPE
  });

  test("a send the kernel has no room for takes what fits, or answers EAGAIN", () => {
    const [c] = pair();
    const big = Buffer.alloc(64 << 20, 1);
    let total = 0;
    let last = 0;
    for (let i = 0; i < 64 && last !== -C.EAGAIN; i++) {
      ring!.send(c, ptr(big), big.length, i);
      last = run().get(i)!;
      if (last > 0) total += last;
      expect(last === -C.EAGAIN || (last > 0 && last <= big.length)).toBe(true);
    }
    expect(last).toBe(-C.EAGAIN);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThan(big.length * 64);
  });
});
