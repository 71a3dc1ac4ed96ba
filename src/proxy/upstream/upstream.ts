/**
 * A named upstream at run time: its peers, its selection policy, and health state (active checks
 * and passive failure counting both flip `peer.healthy`). Selection tries primaries first, then
 * backups, skipping peers that are down or were already tried for this request.
 */
import type { App } from "../../core/app.ts";
import { readFileSync } from "node:fs";
import { SecurelyError } from "../../core/errors.ts";
import { POLICIES, type SelectContext, type Selector } from "../selection/index.ts";
import type { ServerSettings, UpstreamConfig } from "../types.ts";
import { Peer, type PeerTls } from "./peer.ts";
import { proxyMetrics } from "../metrics.ts";
import type { BoundCounter, BoundHistogram } from "../../core/metrics/index.ts";

const PRIMARY = (p: Peer) => !p.backup && p.healthy;
const BACKUP = (p: Peer) => p.backup && p.healthy;
/** Healthy peers of one tier not tried yet (a retry's predicate). */
function untried(tried: Set<Peer>, backup: boolean): (p: Peer) => boolean {
  return (p) => p.backup === backup && p.healthy && !tried.has(p);
}

export class Upstream {
  readonly peers: Peer[];
  readonly selector: Selector;
  readonly maxRetries: number;
  /** `{ upstream: name }`. */
  readonly labels: { upstream: string };
  /** Per-request series of this upstream, labels bound once (core metrics `labels()`). */
  readonly series: { reused: BoundCounter; connect: BoundHistogram };
  /** Peers marked down (by setHealth): while there are none, selecting needs no clock. */
  private down = 0;
  /** Health changes are reported here (logged and counted by the service). */
  onHealthChange?: (peer: Peer, healthy: boolean, reason: string) => void;

  constructor(readonly name: string, readonly cfg: UpstreamConfig, server: ServerSettings, resolvePath: (p: string) => string) {
    const t = cfg.tls;
    this.peers = cfg.servers.map((s, i) => {
      let tls: PeerTls | undefined;
      const host = s.addr.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
      if (t.enabled) {
        const caFile = t.ca_file ?? server.ca_file;
        tls = {
          sni: t.sni ?? host,
          verifyCert: t.verify_cert,
          verifyHostname: t.verify_hostname,
          alternativeCn: t.alternative_cn,
          caFile,
          certFile: t.cert,
          ca: caFile ? readTlsFile(name, "ca_file", resolvePath(caFile)) : undefined,
          cert: t.cert ? readTlsFile(name, "cert", resolvePath(t.cert)) : undefined,
          key: t.key ? readTlsFile(name, "key", resolvePath(t.key)) : undefined,
        };
      }
      const v6 = host.includes(":");
      const binds = v6 ? server.client_bind_to_ipv6 : server.client_bind_to_ipv4;
      const ms = (s: number) => Math.round(s * 1000);
      return new Peer(name, s.addr, s, tls, {
        connectionTimeoutMs: ms(cfg.connection_timeout),
        totalConnectionTimeoutMs: ms(cfg.total_connection_timeout),
        readTimeoutMs: ms(cfg.read_timeout),
        writeTimeoutMs: ms(cfg.write_timeout),
        idleTimeoutMs: ms(cfg.idle_timeout),
        // several bind addresses: spread peers over them (Pingora picks one at random per connection)
        bindTo: s.addr.startsWith("unix:") || s.addr.startsWith("/") ? undefined : binds[i % Math.max(binds.length, 1)],
      });
    });
    this.selector = (POLICIES as Record<string, (p: Peer[]) => Selector>)[cfg.balance]!(this.peers);
    this.maxRetries = cfg.max_retries ?? server.max_retries;
    this.labels = { upstream: name };
    this.series = { reused: proxyMetrics.reused.labels(this.labels), connect: proxyMetrics.connect.labels(this.labels) };
    for (const p of this.peers) proxyMetrics.health.set(1, { upstream: name, server: p.addr });
  }

  /** Choose a peer not in `tried`; primaries first, then backups. */
  select(ctx: SelectContext, tried: Set<Peer> | undefined, now?: number): Peer | undefined {
    // only a peer marked down needs the time (no clock read per request otherwise)
    if (this.down > 0) this.reviveExpired(now ?? Date.now());
    // a first attempt (nothing tried) uses shared predicates: no closure (nor its scope) per request
    const primary = this.selector.select(ctx, tried ? untried(tried, false) : PRIMARY);
    return primary ?? this.selector.select(ctx, tried ? untried(tried, true) : BACKUP);
  }

  /** Passive health: a live request failed on this peer. */
  recordFailure(peer: Peer, now: number, reason: string): void {
    const { max_fails, fail_duration } = this.cfg.health.passive;
    if (max_fails === 0) return;
    const windowMs = fail_duration * 1000;
    peer.fails = peer.fails.filter((t) => now - t < windowMs);
    peer.fails.push(now);
    if (peer.healthy && peer.fails.length >= max_fails) {
      peer.downUntil = now + windowMs;
      this.setHealth(peer, false, `${peer.fails.length} failure(s) within ${fail_duration}s: ${reason}`);
    }
  }

  /** Passively downed peers come back after fail_duration (unless active checks own the state). */
  private reviveExpired(now: number): void {
    if (this.cfg.health.active.enabled) return;
    for (const p of this.peers) if (!p.healthy && p.downUntil > 0 && now >= p.downUntil) {
      p.downUntil = 0;
      p.fails = [];
      this.setHealth(p, true, `fail_duration (${this.cfg.health.passive.fail_duration}s) elapsed`);
    }
  }

  setHealth(peer: Peer, healthy: boolean, reason: string): void {
    if (peer.healthy === healthy) return;
    peer.healthy = healthy;
    this.down += healthy ? -1 : 1;
    proxyMetrics.health.set(healthy ? 1 : 0, { upstream: this.name, server: peer.addr });
    proxyMetrics.healthChanges.inc({ upstream: this.name, server: peer.addr, state: healthy ? "up" : "down" });
    this.onHealthChange?.(peer, healthy, reason);
  }

  /** Status for proxy:upstreams and /health. */
  describe(): Record<string, unknown> {
    return {
      name: this.name,
      balance: this.cfg.balance,
      servers: this.peers.map((p) => ({ addr: p.addr, weight: p.weight, backup: p.backup, healthy: p.healthy, active: p.active })),
    };
  }
}

export function serverSettings(app: App): ServerSettings {
  const c = app.config;
  return {
    max_retries: c.get<number>("max_retries"),
    upstream_keepalive_pool_size: c.get<number>("upstream_keepalive_pool_size"),
    client_bind_to_ipv4: c.get<string[]>("client_bind_to_ipv4") ?? [],
    client_bind_to_ipv6: c.get<string[]>("client_bind_to_ipv6") ?? [],
    ca_file: c.get<string>("ca_file"),
  };
}

/** A missing or unreadable upstream TLS file is a config mistake: name the key and the path. */
function readTlsFile(upstream: string, key: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new SecurelyError(`proxy.upstreams.${upstream}.tls.${key}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { hint: "check the path (relative to the config file's folder)" });
  }
}
