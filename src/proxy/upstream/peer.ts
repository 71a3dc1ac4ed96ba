/**
 * A peer is one upstream server plus how to reach it. Its `key` is Pingora's peer identity
 * (address, scheme, SNI, verify flags, alternative CN, CA, client cert, bind address): the pool
 * only ever reuses a connection for an identical key, so a connection made with one set of TLS
 * settings is never handed to a request that asked for another.
 */
import type { ServerConfig, UpstreamTlsConfig } from "../types.ts";

export interface PeerTls {
  sni: string;
  verifyCert: boolean;
  verifyHostname: boolean;
  alternativeCn?: string;
  ca?: string;
  cert?: string;
  key?: string;
  /** Paths, for the identity key and for messages. */
  caFile?: string;
  certFile?: string;
}

export interface PeerOptions {
  connectionTimeoutMs: number;
  totalConnectionTimeoutMs: number;
  readTimeoutMs: number;
  writeTimeoutMs: number;
  idleTimeoutMs: number;
  /** Source address for the connection (client_bind_to_ipv4/6). */
  bindTo?: string;
}

export class Peer {
  readonly host: string;
  readonly port: number;
  readonly unix?: string;
  readonly weight: number;
  readonly backup: boolean;
  /** Opaque id for sticky cookies and health keys; stable across restarts. */
  readonly id: string;
  /** Pool key: every field that makes a connection unsuitable for another peer. */
  readonly key: string;
  /** Requests in flight (least_conn, power_of_two). */
  active = 0;
  healthy = true;
  /** Timestamps (ms) of recent passive failures. */
  fails: number[] = [];
  downUntil = 0;
  /** Active-check streaks. */
  okStreak = 0;
  failStreak = 0;

  constructor(
    readonly upstream: string,
    readonly addr: string,
    server: Pick<ServerConfig, "weight" | "backup">,
    readonly tls: PeerTls | undefined,
    readonly options: PeerOptions,
  ) {
    if (addr.startsWith("unix:") || addr.startsWith("/")) {
      this.unix = addr.replace(/^unix:/, "");
      this.host = "localhost";
      this.port = 0;
    } else {
      const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(addr);
      if (!m) throw new Error(`upstream ${upstream}: server "${addr}" is not host:port or unix:/path`);
      this.host = m[1] ?? m[2]!;
      this.port = Number(m[3]);
    }
    this.weight = server.weight;
    this.backup = server.backup;
    this.id = Bun.hash(`${upstream}|${addr}`).toString(36);
    this.key = [
      this.unix ?? `${this.host}:${this.port}`,
      tls ? `tls|${tls.sni}|${+tls.verifyCert}|${+tls.verifyHostname}|${tls.alternativeCn ?? ""}|${tls.caFile ?? ""}|${tls.certFile ?? ""}` : "plain",
      options.bindTo ?? "",
    ].join("|");
  }

  /** Host header value when the route does not keep the client's. */
  get hostHeader(): string {
    if (this.unix) return "localhost";
    return this.host.includes(":") ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }
}

export type { ServerConfig, UpstreamTlsConfig };
