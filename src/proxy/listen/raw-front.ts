/**
 * The raw HTTP/1.1 front: a TCP listener (on the NestedLoop under proxy.io native, else Bun.listen)
 * that parses request heads itself (request-head.ts) and runs the same pipeline as Bun.serve
 * (ProxyHandler.prepare/process), but without Bun's Request, Headers and Response objects — those
 * cost about 5 µs per proxied request (docs/benchmarks-proxy.md). Responses are written as one head string plus the body.
 *
 * It serves "simple" requests: no body or one Content-Length, on a route without hooks, basic
 * auth, shared rate limiter or compression; an HTTP Upgrade (WebSocket or any protocol) on such a
 * route becomes a byte tunnel to the upstream after its 101. Anything else (chunked uploads,
 * Expect, CONNECT, unusual targets, those routes) is passed, as bytes, to an internal Bun.serve on
 * 127.0.0.1:0 running the same handler: the head bytes already read, then the rest of the
 * connection both ways. A passed-through connection stays passed through. The internal server
 * learns the real client from the tunnel's local port (`clientOf`).
 */
import type { TCPSocketListenOptions } from "bun";
import { isIP } from "node:net";
import type { NestedLoop } from "../../core/native/nested-loop.ts";
import { NativeTcpListener, type NativeHandlers } from "../../core/native/tcp.ts";
import type { StopOptions } from "../../core/server/service.ts";
import type { DrainTarget, HttpDrain } from "../../core/server/http-drain.ts";
import type { ListenerInfo, ProxyHandler } from "../handler.ts";
import { proxyMetrics } from "../metrics.ts";
import type { ProxyConfig } from "../types.ts";
import { RawConn } from "./raw-conn.ts";

export interface RawFrontOptions {
  host: string;
  port: number;
  /** Where the current handler is (a reload swaps it; the next request takes the new one). */
  rt: { handler?: ProxyHandler; cfg: ProxyConfig };
  drain: HttpDrain;
  /** The internal Bun.serve for passed-through connections. */
  internalPort: number;
  /** Address → client, shared with the internal server's ListenerInfo.clientOf. */
  clients: Map<number, { address: string; port: number }>;
  /** Listen on this loop (proxy.io); host names still go to Bun.listen. */
  native?: NestedLoop;
}

const nativeHandlers: NativeHandlers<RawConn> = {
  data: (s, d) => s.data.onData(d),
  lent: (s, b, at, n) => s.data.onLent(b, at, n),
  drain: (s) => s.data.onDrain(),
  end: (s) => s.data.onEnd(),
  close: (s) => s.data.onClose(),
};

export class RawFront implements DrainTarget {
  readonly conns = new Set<RawConn>();
  readonly listener: { readonly port: number; stop(closeActive?: boolean): void };
  readonly info: ListenerInfo = { tls: false };
  /**
   * client_timeout, checked by one ticker: Bun's socket timeout is not re-armed by traffic (measured:
   * a connection busy every 300 ms was cut at 4 s with a 1 s timeout), and re-arming it per read
   * would cost a native call per request. Connections note the tick of their last progress.
   */
  tick = 0;
  private ticker: Timer;

  constructor(readonly o: RawFrontOptions) {
    this.ticker = setInterval(() => {
      this.tick++;
      const limit = Math.max(1, Math.round(this.cfg.client_timeout));
      for (const c of this.conns) c.checkIdle(this.tick, limit);
    }, 1000);
    this.ticker.unref?.();
    if (o.native && isIP(o.host)) {
      this.listener = new NativeTcpListener<RawConn>(o.native, {
        host: o.host,
        port: o.port,
        allowHalfOpen: true,
        handlers: nativeHandlers,
        open: (s) => this.opened((s.data = new RawConn(this, s))),
      });
      return;
    }
    // reusePort works on Bun.listen (measured) though bun-types lists it for Bun.connect only
    const opts: TCPSocketListenOptions<RawConn> & { reusePort: boolean } = {
      hostname: o.host,
      port: o.port,
      reusePort: true,
      // a client that half-closes after its request still gets the answer (onEnd)
      allowHalfOpen: true,
      data: undefined as unknown as RawConn,
      socket: {
        open: (s) => this.opened((s.data = new RawConn(this, s))),
        data: (s, d) => s.data.onData(d as Buffer),
        drain: (s) => s.data.onDrain(),
        end: (s) => s.data.onEnd(),
        close: (s) => s.data?.onClose(),
        error: (s) => s.data?.onClose(),
      },
    };
    this.listener = Bun.listen<RawConn>(opts);
  }

  private opened(c: RawConn): void {
    this.conns.add(c);
    proxyMetrics.connections.inc();
  }

  get port(): number {
    return this.listener.port;
  }

  /** The current config (a reload's limits apply to the next request). */
  get cfg(): ProxyConfig {
    return this.o.rt.cfg;
  }

  get draining(): boolean {
    return this.o.drain.isDraining;
  }

  /**
   * HttpDrain's sequence over this front (keep serving with Connection: close for the linger, stop
   * accepting, close idle connections, let in-flight responses finish until the deadline, then cut
   * the rest). `internal` is the pass-through server's stop (run alongside, with the same drain).
   */
  async stop(opts: StopOptions, internal: Promise<void>): Promise<void> {
    clearInterval(this.ticker);
    await this.o.drain.stopTarget(this, opts);
    await internal;
  }

  /** Stop accepting; idle connections close now, busy ones after their response. Resolves when none is left. */
  close(): Promise<void> {
    this.listener.stop(false);
    for (const c of this.conns) c.closeIfIdle();
    if (this.conns.size === 0) return Promise.resolve();
    // one promise for every waiter: a second graceful stop must not replace the first one's
    this.emptied ??= Promise.withResolvers<void>();
    return this.emptied.promise;
  }

  private emptied?: PromiseWithResolvers<void>;

  /** Cut every connection now. */
  cut(): void {
    this.listener.stop(true);
    for (const c of this.conns) c.kill();
  }

  /** A connection closed (RawConn.onClose). */
  forget(c: RawConn): void {
    this.conns.delete(c);
    if (this.conns.size === 0 && this.emptied) {
      this.emptied.resolve();
      this.emptied = undefined;
    }
  }
}
