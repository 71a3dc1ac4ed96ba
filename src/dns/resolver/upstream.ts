/**
 * One exchange with one upstream resolver: UDP first, and TCP when the reply is truncated
 * (RFC 7766 §5), with a deadline. Replies are matched on source address, ID and question,
 * so a stray or spoofed datagram is ignored rather than trusted.
 */
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { FLAG } from "../wire/constants.ts";
import { answersQuestion, decodeMessage } from "../wire/decode.ts";
import { encodeMessage } from "../wire/encode.ts";
import type { Message, Question } from "../wire/types.ts";

export interface Upstream {
  host: string;
  port: number;
}

export function parseUpstream(text: string): Upstream {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(text);
  if (!m) throw new Error(`expected host or host:port, got "${text}"`);
  const port = m[3] ? Number(m[3]) : 53;
  if (port < 1 || port > 65535) throw new Error(`port must be 1-65535, got ${m[3]} in "${text}"`);
  return { host: m[1] ?? m[2]!, port };
}

export function formatUpstream(u: Upstream): string {
  return isIPv6(u.host) ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
}

export class UpstreamError extends Error {}

/**
 * Upstream exchanges. Every UDP query goes out from its own socket, so it gets a fresh random
 * source port from the kernel, and carries a random ID from the CSPRNG: a blind spoofer has to
 * guess both (~32 bits), not just the ID (the Kaminsky attack on a fixed-port forwarder).
 */
export class UpstreamClient {
  private open = new Set<Socket>();

  /** Ask `upstream`; rejects with UpstreamError on timeout or connection failure. */
  async query(upstream: Upstream, question: Question, opts: { timeoutMs: number; dnssecOk: boolean; cd: boolean }): Promise<Message> {
    const id = randomId();
    const msg: Message = {
      id, flags: FLAG.RD | (opts.cd ? FLAG.CD : 0), rcode: 0, question, answers: [], authorities: [], additionals: [],
      edns: { udpSize: 1232, version: 0, dnssecOk: opts.dnssecOk },
    };
    const bytes = encodeMessage(msg).bytes;
    const udp = await new Promise<Message>((resolve, reject) => {
      const sock = createSocket(isIPv6(upstream.host) ? "udp6" : "udp4");
      this.open.add(sock);
      const done = () => {
        clearTimeout(timer);
        this.open.delete(sock);
        try {
          sock.close();
        } catch {}
      };
      const timer = setTimeout(() => {
        done();
        reject(new UpstreamError(`${formatUpstream(upstream)} did not answer within ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
      sock.on("error", () => {});
      sock.on("message", (buf, rinfo) => {
        // only the upstream's address and port, our ID, and our question count as the answer
        if (buf.length < 12 || buf.readUInt16BE(0) !== id || rinfo.port !== upstream.port || normalizeAddr(rinfo.address) !== normalizeAddr(upstream.host)) return;
        let m: Message;
        try {
          m = decodeMessage(buf);
        } catch {
          return;
        }
        if (!(m.flags & FLAG.QR) || !answersQuestion(m, question.name, question.type, question.class)) return;
        done();
        resolve(m);
      });
      sock.send(bytes, upstream.port, upstream.host, (err) => {
        if (!err) return;
        done();
        reject(new UpstreamError(`cannot send to ${formatUpstream(upstream)}: ${err.message}`));
      });
    });
    if (!(udp.flags & FLAG.TC)) return udp;
    return queryTcp(upstream, bytes, question, opts.timeoutMs);
  }

  close(): void {
    for (const s of this.open) {
      try {
        s.close();
      } catch {}
    }
    this.open.clear();
  }
}

/** A query ID from the CSPRNG (RFC 5452 §9.2). */
function randomId(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0]!;
}

function normalizeAddr(a: string): string {
  return a.startsWith("::ffff:") ? a.slice(7) : a.toLowerCase();
}

/** One query over a fresh TCP connection (length-prefixed, RFC 1035 §4.2.2). */
export function queryTcp(upstream: Upstream, query: Buffer, question: Question, timeoutMs: number): Promise<Message> {
  return new Promise<Message>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let done = false;
    let sock: any;
    const finish = (err?: Error, m?: Message) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        sock?.end();
      } catch {}
      err ? reject(err) : resolve(m!);
    };
    const timer = setTimeout(() => finish(new UpstreamError(`${formatUpstream(upstream)} did not answer over TCP within ${timeoutMs} ms`)), timeoutMs);
    const framed = Buffer.alloc(query.length + 2);
    framed.writeUInt16BE(query.length);
    query.copy(framed, 2);
    Bun.connect({
      hostname: upstream.host,
      port: upstream.port,
      socket: {
        open(s) {
          sock = s;
          s.write(framed);
        },
        data(_s, chunk) {
          buf = Buffer.concat([buf, chunk]);
          if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
          try {
            const m = decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0)));
            if (!answersQuestion(m, question.name, question.type, question.class)) throw new Error("reply for another question");
            finish(undefined, m);
          } catch (e) {
            finish(new UpstreamError(`${formatUpstream(upstream)} sent a bad TCP reply: ${(e as Error).message}`));
          }
        },
        close() {
          finish(new UpstreamError(`${formatUpstream(upstream)} closed the TCP connection without a reply`));
        },
        connectError(_s, err) {
          finish(new UpstreamError(`cannot connect to ${formatUpstream(upstream)} over TCP: ${err.message}`));
        },
        error(_s, err) {
          finish(new UpstreamError(`${formatUpstream(upstream)} TCP error: ${err.message}`));
        },
      },
    }).catch((err) => finish(new UpstreamError(`cannot connect to ${formatUpstream(upstream)} over TCP: ${err.message}`)));
  });
}
