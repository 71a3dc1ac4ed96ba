/**
 * TCP listener (RFC 7766): two-byte length-prefixed messages, several queries per connection
 * (pipelined; answers go out as they are ready, in any order), an idle timeout, a cap on open
 * connections and on message size. A length prefix above `maxMessage` closes the connection.
 */
import type { Socket, TCPSocketListener } from "bun";
import type { Answer } from "./handler.ts";
import type { OnPacket } from "./udp.ts";

export interface TcpOptions {
  idleTimeoutSeconds: number;
  maxConnections: number;
  /** Largest query accepted, bytes. */
  maxMessage: number;
  /** TCP_NODELAY (dns.tcp_nodelay); false: Nagle on, one write per answer (see ./native/tcp.ts). */
  nodelay: boolean;
}

interface Conn {
  buf: Buffer;
  out: Buffer[];
  pending: number;
  closed: boolean;
}

export interface TcpListener {
  port: number;
  /** Connections open now. */
  connections(): number;
  /** Stop accepting; with `graceful`, wait (bounded) for answers in flight. */
  close(graceful: boolean, timeoutMs: number): Promise<void>;
}

const EMPTY = Buffer.alloc(0);

/** Prefix a message with its two-byte length (RFC 1035 §4.2.2). */
function frame(msg: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(msg.length + 2);
  framed.writeUInt16BE(msg.length, 0);
  msg.copy(framed, 2);
  return framed;
}

export function listenTcp(host: string, port: number, opts: TcpOptions, onPacket: OnPacket): TcpListener {
  const conns = new Set<Socket<Conn>>();
  const flush = (s: Socket<Conn>) => {
    const c = s.data;
    while (c.out.length) {
      const b = c.out[0]!;
      const n = s.write(b);
      if (n === b.length) c.out.shift();
      else {
        c.out[0] = b.subarray(Math.max(n, 0));
        return;
      }
    }
  };
  const send = (s: Socket<Conn>, msg: Buffer) => {
    if (s.data.closed) return;
    s.data.out.push(frame(msg));
    flush(s);
  };
  const deliver = (s: Socket<Conn>, a: Answer) => {
    if (a === undefined) return;
    // a forwarded answer comes late: with Nagle on, it is pushed at once (see ./native/tcp.ts)
    if (!opts.nodelay) s.setNoDelay(true);
    if (Array.isArray(a)) a.forEach((m) => send(s, m));
    else send(s, a);
    if (!opts.nodelay && !s.data.closed) s.setNoDelay(false);
  };
  const listener: TCPSocketListener<Conn> = Bun.listen<Conn>({
    hostname: host,
    port,
    exclusive: false,
    reusePort: true,
    socket: {
      open(s: Socket<Conn>) {
        s.data = { buf: EMPTY, out: [], pending: 0, closed: false };
        if (conns.size >= opts.maxConnections) {
          s.end();
          return;
        }
        conns.add(s);
        if (!opts.nodelay) s.setNoDelay(false); // Bun's sockets start with TCP_NODELAY on
        s.timeout(opts.idleTimeoutSeconds);
      },
      data(s: Socket<Conn>, chunk: Buffer) {
        const c = s.data;
        // the chunk is only valid during this call: keep a copy of just the unparsed tail
        let buf: Buffer = c.buf.length ? Buffer.concat([c.buf, chunk]) : (chunk as Buffer);
        let off = 0;
        // answers ready now go out in one write per data event, not one per query
        const ready: Buffer[] = [];
        while (buf.length - off >= 2) {
          const len = buf.readUInt16BE(off);
          if (len > opts.maxMessage || len === 0) {
            s.end();
            return;
          }
          if (buf.length - off < 2 + len) break;
          const msg = buf.subarray(off + 2, off + 2 + len);
          off += 2 + len;
          let a: Answer | Promise<Answer>;
          try {
            a = onPacket(msg, { address: s.remoteAddress, port: (s as any).remotePort ?? 0, proto: "tcp" });
          } catch {
            continue;
          }
          if (a instanceof Promise) {
            c.pending++;
            a.then((x) => deliver(s, x), () => {}).finally(() => c.pending--);
          } else if (Array.isArray(a)) ready.push(...a.map(frame));
          else if (a !== undefined) ready.push(frame(a));
        }
        c.buf = off < buf.length ? Buffer.from(buf.subarray(off)) : EMPTY;
        if (ready.length) {
          if (opts.nodelay) c.out.push(ready.length === 1 ? ready[0]! : Buffer.concat(ready));
          else c.out.push(...ready);
          flush(s);
        }
        s.timeout(opts.idleTimeoutSeconds);
      },
      drain(s: Socket<Conn>) {
        flush(s);
      },
      timeout(s: Socket<Conn>) {
        s.end();
      },
      close(s: Socket<Conn>) {
        s.data.closed = true;
        conns.delete(s);
      },
      error(s: Socket<Conn>) {
        s.data.closed = true;
        conns.delete(s);
      },
    },
  } as any);
  return {
    port: listener.port,
    connections: () => conns.size,
    async close(graceful, timeoutMs) {
      listener.stop(false);
      if (graceful) {
        const end = Date.now() + timeoutMs;
        while (Date.now() < end && [...conns].some((s) => s.data.pending > 0 || s.data.out.length > 0)) await Bun.sleep(20);
      }
      for (const s of conns) s.end();
      listener.stop(true);
    },
  };
}
