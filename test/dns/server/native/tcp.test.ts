/**
 * The native thread's TCP connections (src/dns/server/native/tcp.ts) over a recording libc: which
 * socket options and writes `dns.tcp_nodelay` leads to, which a client on loopback cannot see.
 */
import { describe, expect, test } from "bun:test";
import { toArrayBuffer, type Pointer } from "bun:ffi";
import { C, type Libc } from "../../../../src/core/native/libc.ts";
import { TcpConns } from "../../../../src/dns/server/native/tcp.ts";

const LISTENER = 3;
const FD = 7;

/** A libc whose one listener has one connection waiting (fd 7), whose reads return `inbox`, and that records the rest. */
function fakeLibc(opts: { inbox: Uint8Array[]; takes?: (len: number) => number }) {
  const calls: string[] = [];
  let errno = 0;
  let accepted = false;
  const sys = {
    accept4(_lfd: number, peer: Pointer) {
      if (accepted) return ((errno = C.EAGAIN), -1);
      accepted = true;
      // sockaddr_in 127.0.0.1:5555
      new Uint8Array(toArrayBuffer(peer, 0, 16)).set([2, 0, 0x15, 0xb3, 127, 0, 0, 1]);
      return FD;
    },
    setsockopt(fd: number, _level: number, opt: number, val: Pointer) {
      calls.push(`setsockopt ${fd} ${opt === C.TCP_NODELAY ? "TCP_NODELAY" : opt} ${new Int32Array(toArrayBuffer(val, 0, 4))[0]}`);
      return 0;
    },
    read(_fd: number, buf: Pointer, len: number) {
      const d = opts.inbox.shift();
      if (!d) return ((errno = C.EAGAIN), -1);
      new Uint8Array(toArrayBuffer(buf, 0, len)).set(d);
      return d.length;
    },
    write(fd: number, _p: Pointer, len: number) {
      const n = opts.takes ? opts.takes(len) : len;
      calls.push(`write ${fd} ${len}${n < len ? ` (took ${Math.max(n, 0)})` : ""}`);
      if (n < 0) errno = C.EAGAIN;
      return n;
    },
    close(fd: number) {
      calls.push(`close ${fd}`);
      return 0;
    },
  };
  return { libc: { sys, errno: () => errno } as unknown as Libc, calls };
}

/** A length-prefixed query whose first byte names its answer's size. */
const query = (answerSize: number) => new Uint8Array([0, 1, answerSize]);
const frames = (...sizes: number[]) => new Uint8Array(sizes.flatMap((s) => [...query(s)]));

function conns(nodelay: boolean, inbox: Uint8Array[], takes?: (len: number) => number, axfr = false) {
  const { libc, calls } = fakeLibc({ inbox, takes });
  const limits = { idleTimeoutMs: 10_000, maxConnections: 10, maxMessage: 65535, nodelay };
  // the answer to a query of one byte n is n bytes (an "AXFR" answers with three messages)
  const tcp = new TcpConns(libc, limits, () => true, (msg) => (axfr ? [Buffer.alloc(msg[0]!), Buffer.alloc(msg[0]!), Buffer.alloc(msg[0]!)] : Buffer.alloc(msg[0]!)));
  tcp.accept(LISTENER);
  return { tcp, calls };
}

describe("native TCP and dns.tcp_nodelay", () => {
  test("true (the default): TCP_NODELAY on accept, one write for the answers of one read", () => {
    const { tcp, calls } = conns(true, [frames(10, 20, 30)]);
    expect(tcp.event(FD, C.EPOLLIN)).toBe(3);
    expect(calls).toEqual([`setsockopt ${FD} TCP_NODELAY 1`, `write ${FD} 66`]);
  });

  test("false: no TCP_NODELAY, one write per answer (the kernel holds what follows an unacknowledged one)", () => {
    const { tcp, calls } = conns(false, [frames(10, 20, 30)]);
    expect(tcp.event(FD, C.EPOLLIN)).toBe(3);
    expect(calls).toEqual([`write ${FD} 12`, `write ${FD} 22`, `write ${FD} 32`]);
  });

  test("false: a query answered by several messages (AXFR) is one write", () => {
    const { tcp, calls } = conns(false, [frames(10, 20)], undefined, true);
    tcp.event(FD, C.EPOLLIN);
    expect(calls).toEqual([`write ${FD} 36`, `write ${FD} 66`]);
  });

  test("false: once the kernel takes only part, the rest of the read's answers go in one write, not one each", () => {
    let room = 30;
    const { tcp, calls } = conns(false, [frames(10, 20, 30, 40, 50)], (len) => {
      const n = Math.min(len, room);
      room -= n;
      return n === 0 ? -1 : n;
    });
    tcp.event(FD, C.EPOLLIN);
    // 12 taken, 22 partly (18), then everything left — 4 bytes of the second and three answers — at once
    expect(calls).toEqual([`write ${FD} 12`, `write ${FD} 22 (took 18)`, `write ${FD} ${4 + 32 + 42 + 52} (took 0)`]);
  });

  test("false: a forwarded answer is pushed (TCP_NODELAY set around its write); true: written as it is", () => {
    for (const nodelay of [false, true]) {
      const { tcp, calls } = conns(nodelay, []);
      calls.length = 0;
      tcp.owe(1);
      tcp.reply(1, [new Uint8Array(40)]);
      expect([nodelay, calls]).toEqual([nodelay, nodelay ? [`write ${FD} 42`] : [`setsockopt ${FD} TCP_NODELAY 1`, `write ${FD} 42`, `setsockopt ${FD} TCP_NODELAY 0`]]);
    }
  });

  test("false: a forwarded answer whose write fails closes the connection and touches its descriptor no more", () => {
    const { libc, calls } = fakeLibc({ inbox: [] });
    (libc.sys as any).write = (fd: number, _p: Pointer, len: number) => (calls.push(`write ${fd} ${len}`), -1);
    (libc as any).errno = () => 32; // EPIPE
    const tcp = new TcpConns(libc, { idleTimeoutMs: 10_000, maxConnections: 10, maxMessage: 65535, nodelay: false }, () => true, () => undefined);
    tcp.accept(LISTENER);
    tcp.owe(1);
    tcp.reply(1, [new Uint8Array(40)]);
    expect(calls).toEqual([`setsockopt ${FD} TCP_NODELAY 1`, `write ${FD} 42`, `close ${FD}`]);
    expect(tcp.size).toBe(0);
  });
});
