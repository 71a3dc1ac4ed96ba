/**
 * A bounded HTTP/1.1 load generator over raw TCP sockets, for measuring what clients see during
 * an upgrade: every refused connection, reset and request without a complete response is counted,
 * nothing is retried or hidden by a client library. Two kinds of client run side by side:
 * keep-alive clients (one connection, many requests; they reconnect only when the server says
 * `Connection: close` or closed the idle connection before a request was sent) and fresh clients
 * (a new connection per request).
 */
import { connect, type Socket } from "node:net";

export interface LoadOptions {
  port: number;
  host?: string;
  keepAliveClients: number;
  freshClients: number;
  /** Pause between a client's requests. */
  thinkMs?: number;
  /** Hard bounds: stop after this many requests in total or this long, whichever comes first. */
  maxRequests: number;
  maxMs: number;
  path?: string;
}

export interface LoadStats {
  ok: number;
  failed: number;
  refused: number;
  reset: number;
  incomplete: number;
  reconnects: number;
  byPid: Record<string, number>;
  errors: string[];
  elapsedMs: number;
}

interface Response {
  status: number;
  pid: string;
  close: boolean;
}

/** One connection that sends requests one at a time and parses Content-Length responses. */
class Conn {
  private buf = Buffer.alloc(0);
  private waiting?: { resolve: (r: Response) => void; reject: (e: Error) => void };
  closed = false;
  private constructor(readonly sock: Socket) {
    sock.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
    });
    const fail = (e: Error) => {
      this.closed = true;
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(e);
    };
    sock.on("error", (e) => fail(e));
    sock.on("close", () => fail(Object.assign(new Error("connection closed before the response"), { code: "INCOMPLETE" })));
  }

  static open(host: string, port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port, noDelay: true });
      s.once("connect", () => resolve(new Conn(s)));
      s.once("error", reject);
    });
  }

  private parse(): void {
    const end = this.buf.indexOf("\r\n\r\n");
    if (end < 0 || !this.waiting) return;
    const head = this.buf.subarray(0, end).toString("latin1");
    const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buf.length < end + 4 + len) return;
    this.buf = this.buf.subarray(end + 4 + len);
    const w = this.waiting;
    this.waiting = undefined;
    w.resolve({ status: Number(head.split(" ")[1]), pid: /x-pid:\s*(\d+)/i.exec(head)?.[1] ?? "?", close: /connection:\s*close/i.test(head) });
  }

  request(path: string, close: boolean): Promise<Response> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.sock.write(`GET ${path} HTTP/1.1\r\nHost: load\r\n${close ? "Connection: close\r\n" : ""}\r\n`);
    });
  }

  end(): void {
    this.closed = true;
    this.sock.destroy();
  }
}

export function runLoad(o: LoadOptions): { stop(): Promise<LoadStats>; done: Promise<LoadStats>; stats: LoadStats } {
  const host = o.host ?? "127.0.0.1";
  const path = o.path ?? "/";
  const stats: LoadStats = { ok: 0, failed: 0, refused: 0, reset: 0, incomplete: 0, reconnects: 0, byPid: {}, errors: [], elapsedMs: 0 };
  const t0 = Date.now();
  let stopped = false;
  let sent = 0;
  const more = () => !stopped && sent < o.maxRequests && Date.now() - t0 < o.maxMs;
  const record = (err: unknown, kind: "keep-alive" | "fresh") => {
    stats.failed++;
    const code = (err as NodeJS.ErrnoException).code ?? "";
    if (code === "ECONNREFUSED") stats.refused++;
    else if (code === "ECONNRESET" || code === "EPIPE") stats.reset++;
    else stats.incomplete++;
    if (stats.errors.length < 10) stats.errors.push(`${kind}: ${code} ${(err as Error).message}`);
  };
  const ok = (r: Response, kind: "keep-alive" | "fresh") => {
    if (r.status === 200) stats.ok++;
    else record(Object.assign(new Error(`status ${r.status}`), { code: "STATUS" }), kind);
    stats.byPid[r.pid] = (stats.byPid[r.pid] ?? 0) + 1;
  };
  const think = () => (o.thinkMs ? Bun.sleep(o.thinkMs) : Promise.resolve());

  const keepAlive = async () => {
    let conn: Conn | undefined;
    while (more()) {
      try {
        if (!conn || conn.closed) {
          if (conn) stats.reconnects++;
          conn = await Conn.open(host, o.port);
        }
        sent++;
        const r = await conn.request(path, false);
        ok(r, "keep-alive");
        if (r.close) conn.end();
      } catch (err) {
        record(err, "keep-alive");
        conn?.end();
      }
      await think();
    }
    conn?.end();
  };
  const fresh = async () => {
    while (more()) {
      let conn: Conn | undefined;
      try {
        conn = await Conn.open(host, o.port);
        sent++;
        ok(await conn.request(path, true), "fresh");
      } catch (err) {
        record(err, "fresh");
      } finally {
        conn?.end();
      }
      await think();
    }
  };
  const done = Promise.all([...Array.from({ length: o.keepAliveClients }, keepAlive), ...Array.from({ length: o.freshClients }, fresh)]).then(() => {
    stats.elapsedMs = Date.now() - t0;
    return stats;
  });
  return {
    stats,
    done,
    stop() {
      stopped = true;
      return done;
    },
  };
}
