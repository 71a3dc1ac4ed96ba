/**
 * The listening service "proxy": Bun.serve listeners (TCP v4/v6, Unix, TLS with SNI) in front of
 * the ProxyHandler. start() binds and returns the real addresses (port 0 → the port the kernel
 * chose); stop({graceful}) stops accepting, lets in-flight requests finish within the grace period,
 * then closes what is left and the upstream pool.
 */
import type { Server } from "bun";
import { readFileSync } from "node:fs";
import type { App } from "../core/app.ts";
import { SecurelyError } from "../core/errors.ts";
import type { Service } from "../core/server/service.ts";
import { formatHostPort, splitHostPort } from "../core/server/metrics-service.ts";
import { sharedPort } from "../core/server/ports.ts";
import { ProxyHandler } from "./handler.ts";
import type { ListenerConfig, ProxyConfig } from "./types.ts";
import type { ListenerInfo } from "./handler.ts";
import { RawFront } from "./listen/raw-front.ts";
import { ConnectionPool } from "./upstream/pool.ts";
import { serverSettings, Upstream } from "./upstream/upstream.ts";
import { websocketHandlers } from "./websocket.ts";
import { listenHttp2, type TlsEntry } from "./listen/http2.ts";
import type { StopOptions } from "../core/server/service.ts";
import { HealthChecker, healthService } from "./health/service.ts";
import { HttpDrain } from "../core/server/http-drain.ts";
import { isDeepStrictEqual } from "node:util";
import { certificateFor } from "../tls/index.ts";
import { cacheLimiter } from "./filters/shared-rate-limit.ts";
import { NestedLoop } from "../core/native/nested-loop.ts";

/**
 * What the proxy's services share: the upstream groups (with health state), the keepalive pool and
 * the current handler. A reload swaps `upstreams` and `handler`; the pool stays, since its
 * connections are keyed by peer identity and remain valid for any config.
 */
export class ProxyRuntime {
  upstreams = new Map<string, Upstream>();
  readonly pool: ConnectionPool;
  handler?: ProxyHandler;
  cfg: ProxyConfig;

  constructor(readonly app: App, cfg: ProxyConfig) {
    this.cfg = cfg;
    this.pool = new ConnectionPool(serverSettings(app).upstream_keepalive_pool_size, nativeLoop(app, cfg));
    this.upstreams = buildUpstreams(app, cfg);
  }
}

/** The loop for `proxy.io` (undefined: Bun's sockets); `native` where it cannot run is an error, and so is `io_uring: always`. */
function nativeLoop(app: App, cfg: ProxyConfig): NestedLoop | undefined {
  const io = cfg.io ?? "auto";
  const loop = io === "eventloop" ? undefined : NestedLoop.get();
  if (!loop && io === "native") throw new SecurelyError(`proxy.io: native I/O cannot run here: ${NestedLoop.unavailable()}`, { hint: "use io: auto (falls back to Bun's sockets) or eventloop" });
  if (!loop) {
    const why = io === "eventloop" ? "proxy.io is eventloop (Bun's sockets)" : NestedLoop.unavailable();
    if (cfg.io_uring === "always") throw new SecurelyError(`proxy.io_uring: always needs native I/O: ${why}`, { hint: "use io_uring: auto or off, or io: auto|native" });
    if (cfg.busy_poll_us > 0) app.log.warn(`proxy.busy_poll_us is ignored: it needs native I/O (${why})`);
    return undefined;
  }
  loop.setBusyPoll(cfg.busy_poll_us ?? 0);
  const why = loop.setBatching(cfg.io_uring ?? "auto");
  if (why && cfg.io_uring === "always") throw new SecurelyError(`proxy.io_uring: io_uring cannot run here: ${why}`, { hint: "use io_uring: auto (falls back to one syscall per read and write) or off" });
  if (why) app.log.debug(`proxy: io_uring is not used (${why}); reads and writes are one syscall each`);
  return loop;
}

function buildUpstreams(app: App, cfg: ProxyConfig, previous?: Map<string, Upstream>): Map<string, Upstream> {
  const settings = serverSettings(app);
  const out = new Map<string, Upstream>();
  for (const [name, u] of Object.entries(cfg.upstreams)) {
    const up = new Upstream(name, u, settings, (p) => app.resolvePath(p));
    up.onHealthChange = (peer, healthy, reason) => app.log[healthy ? "info" : "warn"](`proxy: upstream ${name} server ${peer.addr} is ${healthy ? "UP" : "DOWN"} (${reason})`);
    // a reload keeps what is known about servers that are still configured
    for (const p of up.peers) {
      const old = previous?.get(name)?.peers.find((q) => q.addr === p.addr);
      if (old) Object.assign(p, { healthy: old.healthy, fails: old.fails, downUntil: old.downUntil, okStreak: old.okStreak, failStreak: old.failStreak });
    }
    out.set(name, up);
  }
  return out;
}

/** The proxy's services when the config enables it (`force`: proxy:serve runs it regardless). */
export function proxyServices(app: App, force = false): Service[] {
  const cfg = app.config.get<ProxyConfig>("proxy");
  if (!cfg || (!cfg.enabled && !force)) return [];
  const rt = new ProxyRuntime(app, cfg);
  // with worker processes each worker checks health itself (its upstream state is its own)
  const inWorkers = (app.config.get<number>("threads") ?? 1) > 1;
  const services: Service[] = [proxyService(rt, inWorkers)];
  if (!inWorkers) services.push(healthService(rt));
  return services;
}

export function proxyService(rt: ProxyRuntime, ownHealthChecks = false): Service {
  const { app } = rt;
  const servers: Listener[] = [];
  const drain = new HttpDrain();
  const checker = ownHealthChecks ? new HealthChecker(() => [...rt.upstreams.values()], app.log) : undefined;
  const makeHandler = async (cfg: ProxyConfig, a: App) => {
    const h = await ProxyHandler.create(cfg, rt.upstreams, rt.pool, a.log, (p) => a.resolvePath(p), { limiterFor: (store, where) => cacheLimiter(a, store, where) });
    h.drain = drain;
    return h;
  };
  return {
    name: "proxy",
    kind: "listening",
    async start() {
      rt.handler = await makeHandler(rt.cfg, app);
      const listening: string[] = [];
      try {
        for (const [i, l] of rt.cfg.listen.entries()) {
          const listener = await listen(l, i, rt.cfg, rt, app, drain);
          servers.push(listener);
          listening.push(listener.addr);
        }
      } catch (e) {
        for (const s of servers.splice(0)) await s.stop({ graceful: false, timeoutMs: 0 });
        throw e;
      }
      await checker?.start();
      return { listening };
    },
    async stop(opts) {
      // graceful: keep serving briefly with Connection: close, close the listeners, wait for
      // in-flight requests up to the grace period, then cut what is left (core HttpDrain)
      await Promise.all(servers.map((s) => s.stop(opts)));
      servers.length = 0;
      await checker?.stop();
      rt.pool.closeAll();
      await rt.handler?.close();
    },
    /**
     * SIGHUP: routes, upstreams, filters, hooks and logs are swapped in live; requests in flight
     * finish on the old ones. Listener changes need a restart (graceful upgrade).
     */
    async reload(next) {
      const cfg = next.config.get<ProxyConfig>("proxy");
      const prev = rt.cfg;
      if (isDeepStrictEqual(cfg, prev)) return { applied: [], needsRestart: [] };
      const upstreams = buildUpstreams(next, cfg, rt.upstreams);
      const saved = rt.upstreams;
      rt.upstreams = upstreams;
      let handler: ProxyHandler;
      try {
        handler = await makeHandler(cfg, next);
      } catch (e) {
        rt.upstreams = saved;
        throw e;
      }
      const old = rt.handler;
      rt.handler = handler;
      rt.cfg = { ...cfg, listen: prev.listen, io: prev.io };
      void old?.idle().then(() => old.close());
      if (checker) await checker.restart();
      const restartKeys: (keyof ProxyConfig)[] = ["listen", "io"];
      const applied = (Object.keys(cfg) as (keyof ProxyConfig)[]).filter((k) => !restartKeys.includes(k) && !isDeepStrictEqual(cfg[k], prev[k])).map((k) => `proxy.${k}`);
      const needsRestart = restartKeys.filter((k) => !isDeepStrictEqual(cfg[k], prev[k])).map((k) => `proxy.${k}`);
      return { applied, needsRestart };
    },
    status: () => ({ ready: servers.length > 0, active: rt.handler?.active ?? 0, pooled: rt.pool.size, upstreams: [...rt.upstreams.values()].map((u) => u.describe()) }),
  };
}

interface Listener {
  addr: string;
  stop(opts: StopOptions): Promise<void>;
}

/** Listener number `index`; port 0 binds the port the first worker (or the old instance) got. */
async function listen(l: ListenerConfig, index: number, cfg: ProxyConfig, rt: ProxyRuntime, app: App, drain: HttpDrain): Promise<Listener> {
  const entries = l.tls.enabled || l.tls.auto ? await tlsEntries(l, app) : undefined;
  const info = { tls: entries !== undefined };
  const isUnix = l.addr.startsWith("unix:") || l.addr.startsWith("/");
  if (l.http2) {
    if (isUnix) throw new SecurelyError(`proxy.listen ${l.addr}: http2 listeners must be TCP`);
    const [host, asked] = splitHostPort(l.addr);
    const port = sharedPort("proxy", asked, index);
    try {
      const h2 = await listenHttp2(host, port, entries, rt, info, Math.round(cfg.client_timeout * 1000));
      return {
        addr: `${entries ? "https" : "h2c"} ${formatHostPort(host, h2.port)}`,
        stop: (opts) => h2.stop(opts.graceful, opts.timeoutMs),
      };
    } catch (e) {
      throw new SecurelyError(`proxy.listen ${l.addr}: cannot listen: ${(e as Error).message}`, { hint: "is another process using the address?" });
    }
  }
  // Bun picks by serverName among array entries; the first entry (no serverName) is the default
  const tls = entries ? (entries.length === 1 ? entries[0] : entries) : undefined;
  const common = {
    // through rt so a reload's new handler takes the next request
    fetch: (req: Request, server: Server<any>) => rt.handler!.handle(req, server, info),
    websocket: websocketHandlers,
    maxRequestBodySize: cfg.max_body_size > 0 ? cfg.max_body_size : Number.MAX_SAFE_INTEGER,
    idleTimeout: Math.min(255, Math.max(1, Math.round(cfg.client_timeout))),
    error: (e: Error) => {
      app.log.error(`proxy: ${e.message}`);
      return new Response("internal proxy error\n", { status: 500 });
    },
    tls,
  };
  try {
    if (isUnix) {
      const path = l.addr.replace(/^unix:/, "");
      const server = Bun.serve({ ...common, unix: path } as any) as Server<any>;
      return { addr: `unix ${path}`, stop: (opts) => drain.stop(server, opts) };
    }
    const [host, asked] = splitHostPort(l.addr);
    if (l.raw && !tls) return listenRaw(host, sharedPort("proxy", asked, index), common, rt, drain);
    const server = Bun.serve({ ...common, hostname: host, port: sharedPort("proxy", asked, index), reusePort: true } as any) as Server<any>;
    return { addr: `${tls ? "https" : "http"} ${formatHostPort(server.hostname ?? host, server.port!)}`, stop: (opts) => drain.stop(server, opts) };
  } catch (e) {
    throw new SecurelyError(`proxy.listen ${l.addr}: cannot listen: ${(e as Error).message}`, { hint: "is another process using the address?" });
  }
}

/**
 * The raw front (listen/raw-front.ts) on host:port, with its internal Bun.serve on 127.0.0.1:0 for
 * the connections it passes through; that server learns each real client from the tunnel's port.
 */
function listenRaw(host: string, port: number, common: Record<string, unknown>, rt: ProxyRuntime, drain: HttpDrain): Listener {
  const clients = new Map<number, { address: string; port: number }>();
  const info: ListenerInfo = { tls: false, clientOf: (p) => clients.get(p) };
  const internal = Bun.serve({ ...common, fetch: (req: Request, server: Server<any>) => rt.handler!.handle(req, server, info), hostname: "127.0.0.1", port: 0 } as any) as Server<any>;
  let front: RawFront;
  try {
    front = new RawFront({ host, port, rt, drain, internalPort: internal.port!, clients, native: rt.pool.native });
  } catch (e) {
    internal.stop(true);
    throw e;
  }
  return { addr: `http ${formatHostPort(host, front.port)}`, stop: (opts) => front.stop(opts, drain.stop(internal, opts)) };
}

async function tlsEntries(l: ListenerConfig, app: App): Promise<TlsEntry[]> {
  if (l.tls.certs.length === 0 && !l.tls.auto) throw new SecurelyError(`proxy.listen ${l.addr}: tls.enabled needs at least one entry in tls.certs, or auto: true with hosts`);
  const read = (what: string, p: string | undefined) => {
    if (!p) throw new SecurelyError(`proxy.listen ${l.addr}: a tls.certs entry lacks ${what}`);
    try {
      return readFileSync(app.resolvePath(p), "utf8");
    } catch (e) {
      throw new SecurelyError(`proxy.listen ${l.addr}: cannot read ${what} ${p}: ${(e as Error).message}`);
    }
  };
  const ca = l.tls.client_ca ? read("client_ca", l.tls.client_ca) : undefined;
  const entries: TlsEntry[] = l.tls.certs.map((c) => ({
    cert: read("cert", c.cert),
    key: read("key", c.key),
    serverName: c.server_name,
    ...(ca ? { ca, requestCert: true, rejectUnauthorized: true } : {}),
  }));
  if (l.tls.auto) {
    if (l.tls.hosts.length === 0) throw new SecurelyError(`proxy.listen ${l.addr}: tls.auto needs tls.hosts (the names to issue a certificate for)`);
    // one certificate from the local CA covering every host (tls module: issued once, cached, renewed)
    let bundle;
    try {
      bundle = await certificateFor(app, l.tls.hosts);
    } catch (e) {
      throw new SecurelyError(`proxy.listen ${l.addr}: tls.auto could not issue a certificate for ${l.tls.hosts.join(", ")}: ${(e as Error).message}`);
    }
    const extra = ca ? { ca, requestCert: true, rejectUnauthorized: true } : {};
    const chain = `${bundle.cert.trim()}\n${bundle.ca.trim()}\n`;
    if (entries.length === 0) entries.push({ cert: chain, key: bundle.key, serverName: undefined, ...extra });
    for (const h of l.tls.hosts) if (!h.includes("*")) entries.push({ cert: chain, key: bundle.key, serverName: h, ...extra });
  }
  return entries;
}
