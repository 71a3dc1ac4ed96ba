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
    sock.on("message", (msg, rinfo) => {
      let answer: Answer | Promise<Answer>;
      try {
        answer = onPacket(msg, { address: rinfo.address, port: rinfo.port, proto: "udp" });
      } catch {
        return; // a bug on one packet must not take the listener down
      }
      deliver(answer, (b) => sock.send(b, rinfo.port, rinfo.address));
    });
    sock.bind(port, host, () => {
      sock.off("error", reject);
      sock.on("error", () => {});
      resolve({ port: sock.address().port, close: () => sock.close() });
    });
  });
}

async function listenBun(host: string, port: number, onPacket: OnPacket): Promise<UdpListener> {
  const sock = await Bun.udpSocket({
    hostname: host,
    port,
    socket: {
      data(s, buf, rport, raddr) {
        let answer: Answer | Promise<Answer>;
        try {
          answer = onPacket(buf, { address: raddr, port: rport, proto: "udp" });
        } catch {
          return;
        }
        deliver(answer, (b) => s.send(b, rport, raddr));
      },
    },
  });
  return { port: sock.port, close: () => sock.close() };
}
