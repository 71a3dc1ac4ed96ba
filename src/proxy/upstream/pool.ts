/**
 * Keepalive pool of idle upstream connections, keyed by peer identity (Peer.key) and capped in
 * total by `upstream_keepalive_pool_size`, as Pingora's ConnectionPool. Most recently used first,
 * so a burst leaves the extra connections to expire by idle_timeout.
 */
import type { NestedLoop } from "../../core/native/nested-loop.ts";
import { H1Conn } from "./connection.ts";

export class ConnectionPool {
  private idle = new Map<string, H1Conn[]>();
  private total = 0;

  /** `native`: plain connections to IP literals and Unix paths open on this loop (proxy.io), else on Bun's sockets. */
  constructor(
    private readonly max: number,
    readonly native?: NestedLoop,
  ) {}

  get size(): number {
    return this.total;
  }

  /** A live idle connection for this key, or undefined. */
  take(key: string): H1Conn | undefined {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const c = list.pop()!;
      this.total--;
      c.idleIn = undefined;
      if (c.alive && c.phase === "idle") return c;
    }
    return undefined;
  }

  /** Return a connection after a complete response; closes it when the pool is full. */
  put(c: H1Conn): void {
    if (this.max === 0 || this.total >= this.max || !c.alive) {
      c.destroy();
      return;
    }
    let list = this.idle.get(c.peer.key);
    if (!list) this.idle.set(c.peer.key, (list = []));
    list.push(c);
    this.total++;
    c.sock.timeout(Math.max(1, Math.ceil(c.peer.options.idleTimeoutMs / 1000)));
    c.idleIn = this;
  }

  /** An idle connection closed (upstream hung up, or idle_timeout): forget it. */
  remove(c: H1Conn): void {
    const list = this.idle.get(c.peer.key);
    const i = list ? list.indexOf(c) : -1;
    if (i >= 0) {
      list!.splice(i, 1);
      this.total--;
    }
    c.idleIn = undefined;
  }

  closeAll(): void {
    for (const list of this.idle.values()) for (const c of list.splice(0)) {
      c.idleIn = undefined;
      c.destroy();
    }
    this.total = 0;
  }
}
