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
import { ProxyHandler } from "./handler.ts";
import type { ListenerConfig, ProxyConfig } from "./types.ts";
import { ConnectionPool } from "./upstream/pool.ts";
import { serverSettings, Upstream } from "./upstream/upstream.ts";
import { websocketHandlers } from "./websocket.ts";
import { healthService } from "./health/service.ts";

/** What both proxy services share: the upstream groups (with health state) and the pool. */
export class ProxyRuntime {
  readonly upstreams = new Map<string, Upstream>();
  readonly pool: ConnectionPool;
  handler?: ProxyHandler;

  constructor(readonly app: App, readonly cfg: ProxyConfig) {
    const settings = serverSettings(app);
    this.pool = new ConnectionPool(settings.upstream_keepalive_pool_size);
    for (const [name, u] of Object.entries(cfg.upstreams)) {
      const up = new Upstream(name, u, settings, (p) => app.resolvePath(p));
      up.onHealthChange = (peer, healthy, reason) => app.log[healthy ? "info" : "warn"](`proxy: upstream ${name} server ${peer.addr} is ${healthy ? "UP" : "DOWN"} (${reason})`);
      this.upstreams.set(name, up);
    }
  }
}

/** The proxy's services when the config enables it (`force`: proxy:serve runs it regardless). */
export function proxyServices(app: App, force = false): Service[] {
  const cfg = app.config.get<ProxyConfig>("proxy");
  if (!cfg || (!cfg.enabled && !force)) return [];
  const rt = new ProxyRuntime(app, cfg);
  const services: Service[] = [proxyService(rt)];
  if ([...rt.upstreams.values()].some((u) => u.cfg.health.active.enabled)) services.push(healthService([...rt.upstreams.values()], app.log));
  return services;
}

export function proxyService(rt: ProxyRuntime): Service {
  const { app, cfg } = rt;
  const servers: Server<any>[] = [];
  return {
    name: "proxy",
    kind: "listening",
    async start() {
      const handler = await ProxyHandler.create(cfg, rt.upstreams, rt.pool, app.log, (p) => app.resolvePath(p));
      rt.handler = handler;
      const listening: string[] = [];
      try {
        for (const l of cfg.listen) {
          const { server, addr } = await listen(l, cfg, handler, app);
          servers.push(server);
          listening.push(addr);
        }
      } catch (e) {
        for (const s of servers.splice(0)) s.stop(true);
        throw e;
      }
      return { listening };
    },
    async stop({ graceful, timeoutMs }) {
      const stops = servers.map((s) => s.stop(!graceful));
      if (graceful && rt.handler) {
        await Promise.race([Promise.all([rt.handler.idle(), ...stops]), Bun.sleep(timeoutMs)]);
      }
      for (const s of servers) s.stop(true);
      servers.length = 0;
      rt.pool.closeAll();
      rt.handler?.close();
    },
    status: () => ({ ready: servers.length > 0, active: rt.handler?.active ?? 0, pooled: rt.pool.size }),
  };
}

async function listen(l: ListenerConfig, cfg: ProxyConfig, handler: ProxyHandler, app: App): Promise<{ server: Server<any>; addr: string }> {
  const tls = l.tls.enabled ? await tlsOptions(l, app) : undefined;
  const info = { tls: tls !== undefined };
  const common = {
    fetch: (req: Request, server: Server<any>) => handler.handle(req, server, info),
    websocket: websocketHandlers,
    maxRequestBodySize: cfg.max_body_size > 0 ? cfg.max_body_size : Number.MAX_SAFE_INTEGER,
    idleTimeout: Math.min(255, Math.max(1, Math.round(cfg.client_timeout))),
    error: (e: Error) => {
      app.log.error(`proxy: ${e.message}`);
      return new Response("internal proxy error\n", { status: 500 });
    },
    tls,
  };
  const isUnix = l.addr.startsWith("unix:") || l.addr.startsWith("/");
  try {
    if (isUnix) {
      const path = l.addr.replace(/^unix:/, "");
      const server = Bun.serve({ ...common, unix: path } as any) as Server<any>;
      return { server, addr: `unix ${path}` };
    }
    const [host, port] = splitHostPort(l.addr);
    const server = Bun.serve({ ...common, hostname: host, port, reusePort: true } as any) as Server<any>;
    return { server, addr: `${tls ? "https" : "http"} ${formatHostPort(server.hostname ?? host, server.port!)}` };
  } catch (e) {
    throw new SecurelyError(`proxy.listen ${l.addr}: cannot listen: ${(e as Error).message}`, { hint: "is another process using the address?" });
  }
}

async function tlsOptions(l: ListenerConfig, app: App): Promise<unknown> {
  if (l.tls.auto) {
    throw new SecurelyError(`proxy.listen ${l.addr}: tls.auto needs the tls module's certificate issuer, which this build does not have yet`, { hint: "list cert/key files under tls.certs for now" });
  }
  if (l.tls.certs.length === 0) throw new SecurelyError(`proxy.listen ${l.addr}: tls.enabled needs at least one entry in tls.certs`);
  const read = (what: string, p: string | undefined) => {
    if (!p) throw new SecurelyError(`proxy.listen ${l.addr}: a tls.certs entry lacks ${what}`);
    try {
      return readFileSync(app.resolvePath(p), "utf8");
    } catch (e) {
      throw new SecurelyError(`proxy.listen ${l.addr}: cannot read ${what} ${p}: ${(e as Error).message}`);
    }
  };
  const ca = l.tls.client_ca ? read("client_ca", l.tls.client_ca) : undefined;
  const entries = l.tls.certs.map((c) => ({
    cert: read("cert", c.cert),
    key: read("key", c.key),
    serverName: c.server_name,
    ...(ca ? { ca, requestCert: true, rejectUnauthorized: true } : {}),
  }));
  // Bun picks by serverName among array entries; the first entry (no serverName) is the default
  return entries.length === 1 ? entries[0] : entries;
}
