/**
 * UDP listener. Two socket APIs, chosen by `dns.udp_socket`: `node:dgram` with SO_REUSEPORT
 * (several worker processes can share one port — the `threads` setting), and `Bun.udpSocket`,
 * which cannot share a port in Bun 1.4.5 (EADDRINUSE, reusePort ignored). See docs/dns.md for
 * the measured difference.
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

export async function listenUdp(api: UdpApi, host: string, port: number, onPacket: OnPacket): Promise<UdpListener> {
  return api === "bun" ? listenBun(host, port, onPacket) : listenDgram(host, port, onPacket);
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
      // dgram's send() resolves the address through an async lookup per datagram; the Bun socket
      // underneath sends synchronously (measured ~20% less CPU per query). When it reports a full
      // buffer (false), dgram's own queue takes the datagram.
      const raw = rawSocket(sock);
      const onMessage = (msg: Buffer, address: string, rport: number) => {
        let answer: Answer | Promise<Answer>;
        try {
          answer = onPacket(msg, { address, port: rport, proto: "udp" });
        } catch {
          return; // a bug on one packet must not take the listener down
        }
        deliver(answer, (b) => {
          if (!raw?.send(b, rport, address)) sock.send(b, rport, address);
        });
      };
      sock.on("message", (msg, rinfo) => onMessage(msg, rinfo.address, rinfo.port));
      resolve({ port: sock.address().port, close: () => sock.close() });
    });
  });
}

/** node:dgram's internal state (Bun 1.4): its handle and the Bun socket under it. */
function stateOf(sock: Socket): any {
  const sym = Object.getOwnPropertySymbols(sock).find((s) => String(s) === "Symbol(state symbol)");
  return sym ? (sock as any)[sym] : undefined;
}

/** The Bun UDP socket under a node:dgram socket (Bun 1.4 internals), when reachable. */
function rawSocket(sock: Socket): any {
  const raw = stateOf(sock)?.handle?.socket;
  return raw && typeof raw.send === "function" ? raw : undefined;
}

async function listenBun(host: string, port: number, onPacket: OnPacket): Promise<UdpListener> {
  // Replies are batched: queued while a burst of datagrams is handled, then written with one
  // sendMany (sendmmsg) from setImmediate. send() returning false means the kernel buffer is full;
  // what is left waits for `drain` instead of being dropped.
  let pending: Array<Buffer | number | string> = [];
  let scheduled = false;
  let blocked = false;
  let sock: Awaited<ReturnType<typeof Bun.udpSocket>>;
  const flush = () => {
    scheduled = false;
    if (blocked || pending.length === 0) return;
    const sent = sock.sendMany(pending);
    if (sent * 3 < pending.length) {
      pending = pending.slice(sent * 3);
      blocked = true;
    } else pending = [];
  };
  const queue = (b: Buffer, rport: number, raddr: string) => {
    if (pending.length >= 3 * 10_000) return; // bounded: shed load rather than grow without limit
    pending.push(b, rport, raddr);
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
  };
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
        deliver(answer, (b) => { if (!sock.send(b, rport, raddr)) queue(b, rport, raddr); });
      },
      drain() {
        blocked = false;
        flush();
      },
    },
  });
  return { port: sock.port, close: () => sock.close() };
}
