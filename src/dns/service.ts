/**
 * The DNS service (kind "listening"): builds the zone catalog, binds UDP and TCP on every
 * `dns.listen` address, follows the store's "dns" change feed to serve CLI edits without a
 * restart, and drains TCP on a graceful stop. `threads` > 1 runs this in several processes
 * sharing the ports (SO_REUSEPORT; needs `udp_socket: dgram`).
 */
import { lookup } from "node:dns/promises";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { App } from "../core/app.ts";
import { formatHostPort, sharedPort, splitHostPort, type ReloadResult, type Service, type StartResult, type StopOptions } from "../core/server/index.ts";
import { dnsOptions, type DnsOptions } from "./config.ts";
import { Forwarder } from "./resolver/forwarder.ts";
import { parseUpstream, type Upstream } from "./resolver/upstream.ts";
import { Handler } from "./server/handler.ts";
import type { QueryLog } from "./server/query-log.ts";
import { DnsStats } from "./server/stats.ts";
import { listenTcp, type TcpListener } from "./server/tcp.ts";
import { listenUdp, type UdpListener } from "./server/udp.ts";
import { NativeIo } from "./server/native/engine.ts";
import { handlerParts, handlerSettings } from "./server/handler-settings.ts";
import { loadLibc, type Libc } from "../core/native/libc.ts";
import { canonical } from "./wire/names.ts";
import type { Catalog } from "./zone/catalog.ts";
import { buildCatalog, loadConfigZones, type ConfigZone } from "./zone/load.ts";
import { CHANGE_TOPIC } from "./zone/store-zones.ts";
import type { Rr } from "./wire/types.ts";

/** Attempts at finding a port free for both UDP and TCP when listening on port 0. */
const SHARED_PORT_TRIES = 20;
/** The dns keys a reload applies without a restart. */
const LIVE_KEYS = new Set(["zones", "local_domains"]);

export class DnsService implements Service {
  readonly name = "dns";
  readonly kind = "listening" as const;
  private opts: DnsOptions;
  private handler?: Handler;
  private forwarder?: Forwarder;
  private queryLog?: QueryLog;
  private udp: UdpListener[] = [];
  private tcp: TcpListener[] = [];
  /** The native I/O thread, when `dns.io` chose it (then `udp`/`tcp` stay empty). */
  private native?: NativeIo;
  private unwatch?: () => void;
  private flushTimer?: ReturnType<typeof setInterval>;
  private configZones = new Map<string, Rr[]>();
  private listening: string[] = [];
  readonly stats = new DnsStats();

  /** Provision + validate (Caddy-style): zone files and inline records are parsed here, so `-t` and
   *  a reload catch a broken zone before anything is bound. Throws ZoneFileError naming file:line. */
  constructor(private app: App) {
    this.opts = dnsOptions(app);
    this.configZones = loadConfigZones(this.zoneInputs(this.opts));
  }

  /** Resolve config zone file paths against the config folder. */
  private zoneInputs(opts: DnsOptions): Record<string, ConfigZone> {
    const out: Record<string, ConfigZone> = {};
    for (const [name, z] of Object.entries(opts.zones)) out[canonical(name)] = { ...z, file: z.file ? this.app.resolvePath(z.file) : undefined };
    return out;
  }

  private build(): Catalog {
    return buildCatalog(
      {
        zones: this.zoneInputs(this.opts),
        localDomains: this.opts.local_domains,
        store: this.app.store(),
        onBadRecord: (where, reason) => this.app.log.warn(`dns: skipping ${where}: ${reason}`),
      },
      this.configZones,
    );
  }

  async start(): Promise<StartResult> {
    const o = this.opts;
    const catalog = this.build();
    this.forwarder = this.makeForwarder(o);
    const libc = this.nativeLibc(o);
    const settings = handlerSettings(o, (p) => this.app.resolvePath(p));
    // with the I/O thread, rate limiting happens there, before a query is ever delegated here
    const parts = handlerParts(libc ? { ...settings, rrl: undefined } : settings);
    this.queryLog = parts.queryLog;
    this.handler = new Handler({ ...parts, catalog, forwarder: this.forwarder, stats: this.stats });
    const handler = this.handler;
    const onPacket: Handler["answer"] = (buf, client) => handler.answer(buf, client);
    try {
      if (libc) {
        this.native = new NativeIo(libc, handler, this.stats, (level, msg) => this.app.log[level](msg));
        for (const addr of o.listen) await this.bindNative(addr);
        await this.native.start({
          ...this.catalogInputs(),
          storePath: this.app.storePath,
          handler: settings,
          forwarding: this.forwarder !== undefined,
          maxDelegated: o.forward.max_inflight * 10,
          tcp: { idleTimeoutMs: o.tcp_idle_timeout * 1000, maxConnections: o.tcp_max_connections, maxMessage: o.max_tcp_message, nodelay: o.tcp_nodelay },
          batchWindowUs: o.batch_window_us,
        });
      } else for (const addr of o.listen) await this.bind(addr, onPacket);
    } catch (e) {
      await this.stop({ graceful: false, timeoutMs: 0 });
      throw e;
    }
    this.unwatch = this.app.store().changes.watch(CHANGE_TOPIC, () => this.refresh(), Math.max(10, o.reload_interval * 1000));
    this.flushTimer = setInterval(() => this.stats.flush(), 1000);
    (this.flushTimer as any).unref?.();
    this.app.log.info(`dns: ${catalog.size} zone(s): ${catalog.list().map((z) => `${z.origin || "."} (serial ${z.serial})`).join(", ") || "none"}${this.forwarder ? "; forwarding" : ""}; ${this.native ? "native I/O thread" : "event-loop I/O"}`);
    return { listening: this.listening };
  }

  /** `dns.io`: libc for the native path, unless told otherwise or unavailable here (then Bun's sockets). */
  private nativeLibc(o: DnsOptions): Libc | undefined {
    if (o.io === "eventloop" || (o.udp && o.udp_socket === "bun" && o.io === "auto")) return undefined;
    const libc = loadLibc();
    // the I/O thread opens the store itself; an in-memory store exists only in this thread
    const why = !libc ? "this platform has no bun:ffi access to libc (Linux only)" : this.app.storePath === ":memory:" ? "the store is in memory" : "";
    if (!why) return libc;
    if (o.io === "native") throw new Error(`dns.io is native, but ${why}; set dns.io: eventloop`);
    return undefined;
  }

  private catalogInputs() {
    return { zones: this.zoneInputs(this.opts), localDomains: this.opts.local_domains };
  }

  private async bindNative(addr: string): Promise<void> {
    const [name, asked] = splitHostPort(addr);
    const port = sharedPort(this.name, asked, this.listening.length);
    // libc binds addresses: a name ("localhost") is resolved here, IPv4 first as node:dgram's udp4 socket would
    const host = isIP(name) ? name : await lookup(name, { family: 4 }).catch(() => lookup(name)).then((r) => r.address, (e) => {
      throw new Error(`dns cannot listen on ${addr}: cannot resolve "${name}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    });
    await this.onPort(addr, port, () => {
      const got = this.native!.open(host, port, this.opts.udp, this.opts.tcp);
      if (this.opts.udp) this.listening.push(`udp ${formatHostPort(name, got)}`);
      if (this.opts.tcp) this.listening.push(`tcp ${formatHostPort(name, got)}`);
    });
  }

  private async bind(addr: string, onPacket: Handler["answer"]): Promise<void> {
    const [host, asked] = splitHostPort(addr);
    // port 0 with `threads` or after an upgrade: bind the port the first worker / old instance got
    const port = sharedPort(this.name, asked, this.listening.length);
    const o = this.opts;
    const tcpOpts = { idleTimeoutSeconds: o.tcp_idle_timeout, maxConnections: o.tcp_max_connections, maxMessage: o.max_tcp_message, nodelay: o.tcp_nodelay };
    await this.onPort(addr, port, async () => {
      const udp = o.udp ? await listenUdp(o.udp_socket, host, port, onPacket) : undefined;
      try {
        const tcp = o.tcp ? listenTcp(host, udp ? udp.port : port, tcpOpts, onPacket) : undefined;
        if (udp) {
          this.udp.push(udp);
          this.listening.push(`udp ${formatHostPort(host, udp.port)}`);
        }
        if (tcp) {
          this.tcp.push(tcp);
          this.listening.push(`tcp ${formatHostPort(host, tcp.port)}`);
        }
      } catch (e) {
        udp?.close();
        throw e;
      }
    });
  }

  /** Run `open`; with port 0 the port UDP got may be taken for TCP, so try again (bounded). */
  private async onPort(addr: string, port: number, open: () => void | Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await open();
      } catch (e) {
        if (port !== 0 || attempt >= SHARED_PORT_TRIES) throw new Error(`dns cannot listen on ${addr}: ${(e as Error).message}`);
      }
    }
  }

  private makeForwarder(o: DnsOptions): Forwarder | undefined {
    const f = o.forward;
    if (f.upstreams.length === 0 && Object.keys(f.zones).length === 0) return undefined;
    const ownAddrs = new Set(o.listen);
    const expand = (list: string[]): Upstream[] =>
      list.flatMap((u) => (u === "system" ? systemResolvers() : [parseUpstream(u)])).filter((u) => !ownAddrs.has(`${u.host}:${u.port}`));
    return new Forwarder({
      upstreams: expand(f.upstreams),
      routes: Object.entries(f.zones).map(([suffix, ups]) => ({ suffix: canonical(suffix), upstreams: expand(ups) })),
      timeoutMs: f.timeout * 1000,
      maxInflight: f.max_inflight,
      cache: { size: f.cache.size, maxTtl: f.cache.max_ttl, minTtl: f.cache.min_ttl, negativeMaxTtl: f.cache.negative_max_ttl },
      onCache: (hit) => this.stats.forwardCache(hit),
      onUpstreamError: (msg) => {
        this.stats.upstreamError();
        this.app.log.debug(`dns: ${msg}`);
      },
    });
  }

  /** Rebuild zones after a store change (or, `configChanged`, a reload); a failure keeps the previous zones. */
  private refresh(configChanged = false): void {
    if (!this.handler) return;
    try {
      const c = this.build();
      this.handler.setCatalog(c);
      this.native?.reloadZones(configChanged ? this.catalogInputs() : undefined);
      this.app.log.info(`dns: zones reloaded from the store (${c.list().map((z) => `${z.origin} serial ${z.serial}`).join(", ")})`);
    } catch (e) {
      this.app.log.error(`dns: reload failed, still serving the previous zones: ${(e as Error).message}`);
    }
  }

  async reload(next: App): Promise<ReloadResult> {
    const o = dnsOptions(next);
    const zones = loadConfigZones(this.zoneInputs(o)); // throws on a bad file: keep the old config
    // zones and local domains are applied live; any other key that changed is read at start only
    const needsRestart = Object.keys(o).filter((k) => !LIVE_KEYS.has(k) && JSON.stringify((o as any)[k]) !== JSON.stringify((this.opts as any)[k]));
    this.app = next;
    this.opts = { ...this.opts, zones: o.zones, local_domains: o.local_domains };
    this.configZones = zones;
    this.refresh(true);
    return { applied: [...LIVE_KEYS].map((k) => `dns.${k}`), needsRestart: needsRestart.map((k) => `dns.${k}`) };
  }

  async stop({ graceful, timeoutMs }: StopOptions): Promise<void> {
    this.unwatch?.();
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (graceful && this.handler) {
      // answers still waiting for an upstream go out before the UDP sockets close (bounded)
      const end = Date.now() + Math.min(timeoutMs, 10_000);
      while (this.handler.inflight > 0 && Date.now() < end) await Bun.sleep(10);
    }
    for (const u of this.udp) u.close();
    await Promise.all([...this.tcp.map((t) => t.close(graceful, timeoutMs)), this.native?.stop(graceful, timeoutMs)]);
    this.native = undefined;
    this.udp = [];
    this.tcp = [];
    this.forwarder?.close();
    this.queryLog?.close();
    this.stats.flush();
  }

  status() {
    const zones = this.handler?.zones.list() ?? [];
    return {
      ready: this.handler !== undefined && this.listening.length > 0 && (this.native?.serving ?? true),
      listening: this.listening,
      zones: zones.map((z) => ({ name: z.origin, serial: z.serial, records: z.recordCount, sources: z.sources })),
      queries: this.stats.total,
      tcp_connections: this.tcp.reduce((n, t) => n + t.connections(), 0) + (this.native?.tcpConnections() ?? 0),
      io: this.native ? "native" : "eventloop",
      forward_cache_entries: this.forwarder?.cache?.size ?? 0,
    };
  }
}

/** Nameservers in /etc/resolv.conf (the "system" upstream). */
export function systemResolvers(path = "/etc/resolv.conf"): Upstream[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => ({ host: m[1]!.split("%")[0]!, port: 53 }));
}

/** The services `securely serve` runs for this config. */
export function dnsServices(app: App): Service[] {
  return dnsOptions(app).enabled ? [new DnsService(app)] : [];
}
