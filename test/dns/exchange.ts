/** Raw DNS exchanges with a server under test: UDP datagrams, and TCP bytes with answers decoded. */
import { createSocket } from "node:dgram";
import packet from "dns-packet";
import { eventually } from "../harness.ts";

export async function udpExchange(port: number, messages: Buffer[], waitMs = 1000): Promise<Buffer[]> {
  const sock = createSocket("udp4");
  const replies: Buffer[] = [];
  sock.on("message", (m) => replies.push(m));
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
  for (const m of messages) sock.send(m, port, "127.0.0.1");
  await eventually(() => replies.length >= messages.length, waitMs, 10).catch(() => {});
  sock.close();
  return replies;
}

export async function tcpExchange(port: number, bytes: Buffer, expect: number): Promise<any[]> {
  const out: any[] = [];
  let buf = Buffer.alloc(0);
  let closed = false;
  const s = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          out.push(packet.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
          buf = buf.subarray(2 + buf.readUInt16BE(0));
        }
      },
      close() {
        closed = true;
      },
    },
  });
  s.write(bytes);
  if (expect > 0) await eventually(() => out.length >= expect, 3000, 10);
  else {
    s.end();
    await eventually(() => closed, 3000, 10).catch(() => {});
  }
  s.end();
  return out;
}
