/**
 * Main-thread side of the native DNS I/O path (`dns.io: native`, the default on Linux): opens
 * the listening sockets with libc (so a bad address fails `start()` with the usual message),
 * starts the I/O thread (./thread.ts) on them, answers the queries it delegates (forwarding
 * lives here, with its cache and upstream sockets on Bun's event loop), and relays zone
 * reloads, stats and stop.
 */
import { MessageChannel, type MessagePort, type Worker } from "node:worker_threads";
import { addr, C, errnoName, type Libc } from "../../../core/native/libc.ts";
import { openListener } from "../../../core/native/sockets.ts";
import { startThread } from "../../../core/server/index.ts";
import type { Answer, Client, Handler } from "../handler.ts";
import type { DnsStats } from "../stats.ts";
import type { FromIo, IoThreadData, ToIo, ZoneInputs } from "./thread.ts";

/** Time the thread gets to start (it loads the bundle and builds its catalog). */
const START_TIMEOUT_MS = 30_000;

export type NativeThreadOptions = Omit<IoThreadData, "port" | "wakeFd" | "udpFds" | "tcpFds">;

export class NativeIo {
  private udpFds: number[] = [];
  private tcpFds: number[] = [];
  private worker?: Worker;
  private port?: MessagePort;
  private wakeFd = -1;
  private one = new BigUint64Array([1n]);
  private stopped?: Promise<void>;
  private connections = 0;
  private running = false;
  private stopping = false;

  constructor(private libc: Libc, private handler: Handler, private stats: DnsStats, private log: (level: "warn" | "error", msg: string) => void) {}

  /** Bind UDP and/or TCP on host:port (port 0: one free port for both); returns the port. */
  open(host: string, port: number, udp: boolean, tcp: boolean): number {
    const u = udp ? openListener(this.libc, "udp", host, port) : undefined;
    try {
      const t = tcp ? openListener(this.libc, "tcp", host, u ? u.port : port) : undefined;
      if (u) this.udpFds.push(u.fd);
      if (t) this.tcpFds.push(t.fd);
      return u?.port ?? t?.port ?? port;
    } catch (e) {
      if (u) this.libc.sys.close(u.fd);
      throw e;
    }
  }

  async start(opts: NativeThreadOptions): Promise<void> {
    const { sys } = this.libc;
    this.wakeFd = sys.eventfd(0, C.EFD_NONBLOCK | C.EFD_CLOEXEC);
    if (this.wakeFd < 0) throw new Error(`eventfd: ${errnoName(this.libc.errno())}`);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const data: IoThreadData = { ...opts, port: port2, wakeFd: this.wakeFd, udpFds: this.udpFds, tcpFds: this.tcpFds };
    const worker = startThread("dns.io", data, [port2]);
    this.worker = worker;
    let resolveStopped!: () => void;
    this.stopped = new Promise((r) => (resolveStopped = r));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the DNS I/O thread did not start within 30 s")), START_TIMEOUT_MS);
      worker.on("message", (m: FromIo) => {
        switch (m.t) {
          case "ready":
            clearTimeout(timer);
            this.running = true;
            resolve();
            break;
          case "fatal":
            clearTimeout(timer);
            if (this.running) this.died(m.message);
            else reject(new Error(`DNS I/O thread: ${m.message}`));
            break;
          case "forward":
            this.forward(m);
            break;
          case "stats":
            this.stats.merge(m.stats);
            this.connections = m.connections;
            break;
          case "log":
            this.log(m.level, m.message);
            break;
          case "released":
            this.closeListeners(m.fds);
            break;
          case "stopped":
            resolveStopped();
            break;
        }
      });
      worker.on("error", (e) => {
        clearTimeout(timer);
        if (this.running) this.died((e as Error).message);
        else reject(e);
        resolveStopped();
      });
      worker.on("exit", (code) => {
        if (this.running && !this.stopping) this.died(`exited with code ${code}`);
        resolveStopped();
      });
    });
  }

  /** The thread is gone while it should be serving: nothing answers DNS on these sockets now. */
  private died(why: string): void {
    this.running = false;
    this.log("error", `dns: the I/O thread stopped unexpectedly (${why}); DNS is not answered until securely restarts`);
  }

  /** The thread is up and serving. */
  get serving(): boolean {
    return this.running;
  }

  tcpConnections(): number {
    return this.connections;
  }

  /** Rebuild the thread's catalog from the store; with `inputs`, re-read the config zones too. */
  reloadZones(inputs?: ZoneInputs): void {
    this.send({ t: "zones", inputs });
  }

  /** Stop reading and accepting; with `graceful`, TCP answers owed are written first (bounded). */
  async stop(graceful: boolean, timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (this.worker) {
      this.send({ t: "stop", graceful, timeoutMs });
      const limit = new Promise<void>((r) => setTimeout(r, (graceful ? timeoutMs : 0) + 2000).unref?.());
      await Promise.race([this.stopped, limit]);
      await this.worker.terminate();
      this.worker = undefined;
    }
    this.running = false;
    // what the thread did not release yet: closed only now that it is gone, so no fd is reused under it
    this.closeListeners([...this.udpFds, ...this.tcpFds]);
    if (this.wakeFd >= 0) this.libc.sys.close(this.wakeFd);
    this.wakeFd = -1;
    this.port?.close();
  }

  /** The listeners are ours; the thread says when it no longer touches them. */
  private closeListeners(fds: number[]): void {
    for (const fd of fds) {
      if (!this.udpFds.includes(fd) && !this.tcpFds.includes(fd)) continue;
      this.libc.sys.close(fd);
      this.udpFds = this.udpFds.filter((x) => x !== fd);
      this.tcpFds = this.tcpFds.filter((x) => x !== fd);
    }
  }

  private send(m: ToIo): void {
    if (!this.port || this.wakeFd < 0) return;
    this.port.postMessage(m);
    this.libc.sys.write(this.wakeFd, addr(this.one), 8);
  }

  private forward(m: Extract<FromIo, { t: "forward" }>): void {
    const client: Client = { address: m.address, port: m.port, proto: m.proto };
    const reply = (a: Answer) => {
      const msgs = a === undefined ? [] : Array.isArray(a) ? a : [a];
      // even empty: the thread counts what it is owed
      if (m.proto === "udp") this.send({ t: "reply", proto: "udp", fd: m.fd, sockaddr: m.sockaddr, msgs });
      else this.send({ t: "reply", proto: "tcp", conn: m.conn, msgs });
    };
    let a: Answer | Promise<Answer>;
    try {
      a = this.handler.answerForwarded(Buffer.from(m.query.buffer, m.query.byteOffset, m.query.length), client);
    } catch {
      a = undefined;
    }
    if (a instanceof Promise) a.then(reply, () => reply(undefined));
    else reply(a);
  }
}
