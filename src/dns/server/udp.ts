/**
 * UDP listener. Two socket APIs, chosen by `dns.udp_socket`: `node:dgram` with SO_REUSEPORT
 * (several worker processes can share one port — the `threads` setting), and `Bun.udpSocket`,
 * which cannot share a port in Bun 1.4.5 (EADDRINUSE, reusePort ignored).
 *
 * Answers are not sent one by one: they are queued while a burst of datagrams is handled and
 * written with one `sendMany` (sendmmsg) from setImmediate, i.e. after the event loop has
 * delivered everything it read in this turn. Measured here: ~25% less CPU per query than a
 * send per answer, and dgram's own send() is avoided entirely (it does an async address lookup
 * per datagram). See docs/benchmarks-dns.md.
 */
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { Answer, Client } from "./handler.ts";

export type UdpApi = "dgram" | "bun";

export interface UdpListener {
  port: number;
  close(): void;
}

export type OnPacket = (buf: Uint8Array, client: Client) => Answer | Promise<Answer>;

/** Answers waiting for the next flush, per socket; beyond this, shed load instead of growing. */
const MAX_PENDING = 20_000;

export async function listenUdp(api: UdpApi, host: string, port: number, onPacket: OnPacket): Promise<UdpListener> {
  return api === "bun" ? listenBun(host, port, onPacket) : listenDgram(host, port, onPacket);
}

interface RawSocket {
  send(data: Buffer, port: number, address: string): boolean;
  sendMany(list: Array<Buffer | number | string>): number;
}

/**
 * Batches answers for one socket. `fallback` takes what sendMany could not (kernel buffer full):
 * dgram's queued send, or a retry on the Bun socket's `drain`.
 */
class SendQueue {
  private pending: Array<Buffer | number | string> = [];
  private scheduled = false;

  constructor(private raw: RawSocket, private fallback: (b: Buffer, port: number, address: string) => void) {}

  push(b: Buffer, port: number, address: string): void {
    if (this.pending.length >= MAX_PENDING * 3) return;
    this.pending.push(b, port, address);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  flush = (): void => {
    this.scheduled = false;
    const list = this.pending;
    if (list.length === 0) return;
    this.pending = [];
    let sent = 0;
    try {
      sent = this.raw.sendMany(list);
    } catch {
      sent = 0;
    }
    for (let i = sent * 3; i < list.length; i += 3) this.fallback(list[i] as Buffer, list[i + 1] as number, list[i + 2] as string);
  };
}

function deliver(answer: Answer | Promise<Answer>, send: (b: Buffer) => void): void {
  if (answer === undefined) return;
  if (answer instanceof Promise) {
    answer.then((a) => a !== undefined && deliver(a, send), () => {});
    return;
  }
  if (Array.isArray(answer)) answer.forEach(send);
  else send(answer);
}

function listenDgram(host: string, port: number, onPacket: OnPacket): Promise<UdpListener> {
  return new Promise((resolve, reject) => {
    const sock: Socket = createSocket({ type: isIPv6(host) ? "udp6" : "udp4", reuseAddr: true, reusePort: true } as any);
    sock.once("error", reject);
    sock.bind(port, host, () => {
      sock.off("error", reject);
      sock.on("error", () => {});
      const raw = rawSocket(sock);
      const queue = raw ? new SendQueue(raw, (b, p, a) => sock.send(b, p, a)) : undefined;
      sock.on("message", (msg, rinfo) => {
        let answer: Answer | Promise<Answer>;
        try {
          answer = onPacket(msg, { address: rinfo.address, port: rinfo.port, proto: "udp" });
        } catch {
          return; // a bug on one packet must not take the listener down
        }
        if (queue && answer instanceof Buffer) queue.push(answer, rinfo.port, rinfo.address); // the common case, no closure
        else deliver(answer, queue ? (b) => queue.push(b, rinfo.port, rinfo.address) : (b) => sock.send(b, rinfo.port, rinfo.address));
      });
      resolve({ port: sock.address().port, close: () => sock.close() });
    });
  });
}

/** The Bun UDP socket under a node:dgram socket (Bun 1.4 internals: state symbol → handle.socket). */
function rawSocket(sock: Socket): RawSocket | undefined {
  const sym = Object.getOwnPropertySymbols(sock).find((s) => String(s) === "Symbol(state symbol)");
  const raw = sym ? (sock as any)[sym]?.handle?.socket : undefined;
  return raw && typeof raw.send === "function" && typeof raw.sendMany === "function" ? raw : undefined;
}

async function listenBun(host: string, port: number, onPacket: OnPacket): Promise<UdpListener> {
  // sendMany stops at a full kernel buffer; the rest waits for `drain`
  let waiting: Array<[Buffer, number, string]> = [];
  let sock: Awaited<ReturnType<typeof Bun.udpSocket>>;
  let queue: SendQueue;
  sock = await Bun.udpSocket({
    hostname: host,
    port,
    socket: {
      data(_s, buf, rport, raddr) {
        let answer: Answer | Promise<Answer>;
        try {
          answer = onPacket(buf, { address: raddr, port: rport, proto: "udp" });
        } catch {
          return;
        }
        deliver(answer, (b) => queue.push(b, rport, raddr));
      },
      drain() {
        const retry = waiting;
        waiting = [];
        for (const [b, p, a] of retry) queue.push(b, p, a);
      },
    },
  });
  queue = new SendQueue(sock as unknown as RawSocket, (b, p, a) => {
    if (waiting.length < MAX_PENDING) waiting.push([b, p, a]);
  });
  return { port: sock.port, close: () => sock.close() };
}
