/**
 * The DNS I/O thread (thread "dns.io"): owns the listening sockets the main thread opened and
 * answers everything it can synchronously — zones, local-dev domains, refusals, errors — with
 * its own Handler over its own catalog (read from the same config and store). Queries that
 * must be forwarded go to the main thread, which owns the forwarder and its cache, and whose
 * answers come back through `port` (the eventfd wakes the loop to read them).
 */
import { receiveMessageOnPort, parentPort, type MessagePort } from "node:worker_threads";
import { Store } from "../../../core/store/store.ts";
import { loadLibc } from "../../../core/native/libc.ts";
import { buildCatalog, loadConfigZones, type ConfigZone } from "../../zone/load.ts";
import type { Catalog } from "../../zone/catalog.ts";
import { Handler } from "../handler.ts";
import { handlerParts, type HandlerSettings } from "../handler-settings.ts";
import { DnsStats, type StatsSnapshot } from "../stats.ts";
import type { NativeClient } from "./client.ts";
import { Reactor } from "./reactor.ts";
import type { TcpLimits } from "./tcp.ts";

export interface ZoneInputs {
  zones: Record<string, ConfigZone>;
  localDomains: Record<string, string>;
}

export interface IoThreadData extends ZoneInputs {
  port: MessagePort;
  wakeFd: number;
  udpFds: number[];
  tcpFds: number[];
  /** A file (an in-memory store cannot be shared: the event-loop path serves that case). */
  storePath: string;
  handler: HandlerSettings;
  /** The main thread forwards: delegate what is not ours instead of refusing it. */
  forwarding: boolean;
  /** Delegated queries waiting for the main thread at once; beyond, SERVFAIL (backpressure). */
  maxDelegated: number;
  tcp: TcpLimits;
  batchWindowUs: number;
}

/** main → I/O thread, through `port` (then the eventfd is rung). */
export type ToIo =
  | { t: "reply"; proto: "udp"; fd: number; sockaddr: Uint8Array; msgs: Uint8Array[] }
  | { t: "reply"; proto: "tcp"; conn: number; msgs: Uint8Array[] }
  /** Rebuild the catalog: store changed; with `inputs`, the config zones changed too (re-read them). */
  | { t: "zones"; inputs?: ZoneInputs }
  | { t: "stop"; graceful: boolean; timeoutMs: number };

/** I/O thread → main, through parentPort. */
export type FromIo =
  | { t: "ready" }
  | { t: "fatal"; message: string }
  | { t: "log"; level: "warn" | "error"; message: string }
  | { t: "forward"; proto: "udp"; fd: number; sockaddr: Uint8Array; address: string; port: number; query: Uint8Array }
  | { t: "forward"; proto: "tcp"; conn: number; address: string; port: number; query: Uint8Array }
  | { t: "stats"; stats: StatsSnapshot; connections: number }
  | { t: "released"; fds: number[] }
  | { t: "stopped" };

const STATS_EVERY_MS = 1000;

export function runIoThread(d: IoThreadData): void {
  const post = (m: FromIo) => parentPort!.postMessage(m);
  try {
    serve(d, post);
  } catch (e) {
    post({ t: "fatal", message: (e as Error).message });
  }
}

function serve(d: IoThreadData, post: (m: FromIo) => void): void {
  const libc = loadLibc();
  if (!libc) throw new Error("bun:ffi cannot open libc in the DNS I/O thread");
  const store = new Store({ path: d.storePath, migrations: [] });
  // config zone files are parsed once per config (re)load, not on every store change
  let inputs: ZoneInputs = { zones: d.zones, localDomains: d.localDomains };
  let parsed = loadConfigZones(inputs.zones);
  const build = (): Catalog => buildCatalog({ zones: inputs.zones, localDomains: inputs.localDomains, store }, parsed);
  const stats = new DnsStats();
  const parts = handlerParts(d.handler);
  const queryLog = parts.queryLog;
  let reactor: Reactor;
  let delegated = 0;
  const handler = new Handler({
    ...parts,
    catalog: build(),
    stats,
    delegate: d.forwarding
      ? (query, c) => {
          if (delegated >= d.maxDelegated) return false;
          delegated++;
          const client = c as NativeClient;
          if (client.proto === "udp") {
            post({ t: "forward", proto: "udp", fd: client.fd, sockaddr: client.sockaddr(), address: client.address, port: client.port, query: query.slice() });
          } else {
            reactor.tcp.owe(client.conn);
            post({ t: "forward", proto: "tcp", conn: client.conn, address: client.address, port: client.port, query: query.slice() });
          }
          return true;
        }
      : undefined,
  });
  let lastStats = 0;
  reactor = new Reactor({
    libc,
    udpFds: d.udpFds,
    tcpFds: d.tcpFds,
    wakeFd: d.wakeFd,
    tcp: d.tcp,
    batchWindowUs: d.batchWindowUs,
    answer: (q, c) => handler.answer(q, c),
    onDrop: (reason) => stats.drop(reason),
    onReleased: (fds) => post({ t: "released", fds }),
    onWake() {
      for (let m = receiveMessageOnPort(d.port); m; m = receiveMessageOnPort(d.port)) {
        const msg = m.message as ToIo;
        if (msg.t === "reply") {
          delegated--;
          if (msg.proto === "udp") for (const b of msg.msgs) reactor.sendUdp(msg.fd, msg.sockaddr, b);
          else reactor.tcp.reply(msg.conn, msg.msgs);
        } else if (msg.t === "zones") {
          try {
            if (msg.inputs) {
              parsed = loadConfigZones(msg.inputs.zones);
              inputs = msg.inputs;
            }
            handler.setCatalog(build());
          } catch (e) {
            post({ t: "log", level: "error", message: `dns I/O thread: reload failed, still serving the previous zones: ${(e as Error).message}` });
          }
        } else if (msg.t === "stop") reactor.stop(msg.graceful, msg.timeoutMs);
      }
    },
    onTick(now) {
      queryLog?.flush();
      if (now - lastStats >= STATS_EVERY_MS) {
        lastStats = now;
        post({ t: "stats", stats: stats.snapshot(), connections: reactor.tcp.size });
      }
    },
  });
  post({ t: "ready" });
  reactor.run();
  post({ t: "stats", stats: stats.snapshot(), connections: 0 });
  queryLog?.close();
  store.close();
  post({ t: "stopped" });
}
