/**
 * The request pipeline, in Pingora's phase order: route → access filters (deny/allow, basic auth,
 * rate limit, body size) → requestFilter hook → static actions (redirect, respond) → upstreamPeer
 * (load balancing) → upstreamRequestFilter → send with retries → responseFilter → compression →
 * logging. One implementation for both fronts: `prepare` + `process` take a ClientRequest (strings,
 * a HeaderSource, the body on demand) and tell a ReplySink the Reply; from the route on, the request
 * is an Exchange (exchange.ts), which makes the upstream trip. `handle(Request)` wraps them for
 * Bun.serve (and in-process tests), the raw front (listen/raw-front.ts) calls them directly.
 */
import type { Server } from "bun";
import type { ConsolaInstance } from "consola";
import { Exchange, type Info, type PipelineEnv, type ReplySink } from "./exchange.ts";
import { clientAddress, forwardedFor } from "./filters/forwarded.ts";
import { applyHeaderOps } from "./filters/headers.ts";
import { CidrSet } from "./filters/ip-filter.ts";
import { rateLimitHeaders } from "./filters/rate-limit.ts";
import { AccessLog } from "./log/access-log.ts";
import { declaredLength, hashKey, headSize, plain } from "./request-helpers.ts";
import { errorPage, runtimeFor, type RouteRuntime, type RuntimeOptions } from "./route-runtime.ts";
import { proxyMetrics } from "./metrics.ts";
import type { HookContext } from "./phases/hooks.ts";
import { compileRoute, normalizeHost, RouteTable, type CompiledRoute, type HeaderSource, type RequestFacts } from "./routing/table.ts";
import { replyBytes, toResponse, withHeaders, type Reply } from "./reply.ts";
import type { ProxyConfig } from "./types.ts";
import type { ConnectionPool } from "./upstream/pool.ts";
import { IDEMPOTENT } from "./upstream/retry.ts";
import type { Upstream } from "./upstream/upstream.ts";
import type { H1Conn } from "./upstream/connection.ts";
import type { ResponseHead } from "./upstream/h1-parser.ts";
import { proxyWebSocket, type WsBridge } from "./websocket.ts";

export interface ListenerInfo {
  tls: boolean;
  /** The raw front's internal server: the client behind a tunnel, by the tunnel's local port. */
  clientOf?: (tunnelPort: number) => { address: string; port: number } | undefined;
}

/** What routing and the filters look at, gathered once per request. */
export interface Facts extends RequestFacts {
  /** The Host header as sent (null when absent). */
  hostHeader: string | null;
  /** Content-Length (null: none; NaN: invalid — see declaredLength). */
  length: number | null;
}

/** A mutable copy of the request headers (hooks change them). */
function copyHeaders(h: HeaderSource): Headers {
  if (h instanceof Headers) return new Headers(h);
  const out = new Headers();
  h.forEach((v, k) => out.append(k, v));
  return out;
}

/** One request as any front sees it: strings, and the body only when asked for. */
export interface ClientRequest {
  method: string;
  /** Path and query as sent (origin form). */
  target: string;
  headers: HeaderSource;
  /** The socket peer's address ("unix" on Unix sockets). */
  peerIp: string;
  /** The request body, or null when there is none. */
  body(): ReadableStream<Uint8Array> | null;
  /** Raw front: the Upgrade protocol the client asks for; a 101 then hands the upstream connection back. */
  upgrade?: string;
  /** Raw front: passes an upstream's 103 Early Hints on to the client (Bun.serve cannot send 1xx). */
  earlyHints?: (head: ResponseHead) => void;
  /** Bun.serve only: the Request (hooks' requestFilter) and the server (WebSocket upgrade). */
  req?: Request;
  server?: Server<any>;
  /** Set (through clientGone) when the client left before its answer was written: logged as 499. */
  gone: boolean;
  /** The upstream connection an attempt is waiting on for the response head (set by the pipeline). */
  waiting: H1Conn | undefined;
  /** Bun.serve: starts watching req.signal, called only when the upstream is slow to answer (HeadWatcher). */
  onSlowHead?(): void;
}

/**
 * A front tells the pipeline its client left (closed or reset the connection) before the answer
 * was written. As nginx with proxy_ignore_client_abort off: an attempt waiting for the upstream's
 * head ends now (its connection is closed, not pooled), no retry follows, and the request is
 * logged with 499. A field write and a read per request, no closure: the hot path stays as it was.
 */
export function clientGone(cr: ClientRequest): void {
  cr.gone = true;
  const c = cr.waiting;
  cr.waiting = undefined;
  c?.abandon();
}

/**
 * Bun.serve aborts req.signal when the client closes (FIN or reset, measured on Bun 1.4.5). Reading
 * req.signal and listening cost ~0.5 µs CPU per request (measured), so only a request whose
 * upstream has not answered by the connection ticker's next tick does it (H1Conn.headWatcher); a
 * signal first read after the client left is already aborted (measured). The ClientRequest is its
 * own listener (handleEvent): no closure.
 */
function watchClientSignal(this: ClientRequest & EventListenerObject): void {
  const signal = this.req!.signal;
  if (signal.aborted) clientGone(this);
  else signal.addEventListener("abort", this);
}

function onClientAbort(this: ClientRequest): void {
  clientGone(this);
}

/** What `prepare` found: the facts and the matched route. */
export interface Prepared extends Facts {
  started: number;
  route: Route | undefined;
}

type Route = CompiledRoute<RouteRuntime>;

export class ProxyHandler implements PipelineEnv {
  readonly table: RouteTable<RouteRuntime>;
  readonly trusted: CidrSet;
  private accessLog?: AccessLog;
  private inflight = 0;
  /** Set by the service: while draining, responses carry Connection: close. */
  drain?: { readonly isDraining: boolean };
  private idleWaiters: Array<() => void> = [];

  private constructor(
    readonly cfg: ProxyConfig,
    readonly upstreams: Map<string, Upstream>,
    readonly pool: ConnectionPool,
    routes: Route[],
    readonly log: ConsolaInstance,
    resolvePath: (p: string) => string,
  ) {
    this.table = new RouteTable(routes);
    this.trusted = new CidrSet(cfg.trusted_proxies);
    if (cfg.access_log.enabled) {
      const p = cfg.access_log.path;
      this.accessLog = new AccessLog(p === "stdout" || p === "stderr" ? p : resolvePath(p), cfg.access_log.format);
    }
  }

  /** Compile routes (loading hooks files and error pages) against the upstreams. */
  static async create(cfg: ProxyConfig, upstreams: Map<string, Upstream>, pool: ConnectionPool, log: ConsolaInstance, resolvePath: (p: string) => string, opts: Pick<RuntimeOptions, "limiterFor"> = {}): Promise<ProxyHandler> {
    const routes: Route[] = [];
    for (const [i, r] of cfg.routes.entries()) {
      const rt = await runtimeFor(r, cfg, upstreams, resolvePath, { name: r.name ?? `route-${i}`, limiterFor: opts.limiterFor, log });
      routes.push(compileRoute(r, i, rt));
    }
    return new ProxyHandler(cfg, upstreams, pool, routes, log, resolvePath);
  }

  get active(): number {
    return this.inflight;
  }

  /** Resolves when no request is in flight (graceful drain). */
  idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * keepalive_request_limit: Bun.serve exposes no connection object, but the client's address and
   * port name the connection. True when this request is the last one allowed on it.
   */
  private lastOnConnection(conn: string): boolean {
    const n = (this.perConnection.get(conn) ?? 0) + 1;
    if (n >= this.cfg.keepalive_request_limit) {
      this.perConnection.delete(conn);
      return true;
    }
    // closed connections leave entries behind: bound the map
    if (this.perConnection.size >= 100_000) this.perConnection.clear();
    this.perConnection.set(conn, n);
    return false;
  }
  private perConnection = new Map<string, number>();

  /** The raw front passes a connection through after `served` requests: they count towards the limit. */
  carryOver(address: string, port: number, served: number): void {
    if (this.cfg.keepalive_request_limit > 0 && served > 0) this.perConnection.set(`${address}|${port}`, served);
  }

  async close(): Promise<void> {
    await this.accessLog?.close();
  }

  /** Bun.serve (and the HTTP/2 listener): the pipeline over a Request, answered with a Response. */
  async handle(req: Request, server: Server<any> | undefined, listener: ListenerInfo): Promise<Response | undefined> {
    const url = req.url;
    const ps = url.indexOf("/", url.indexOf("//") + 2);
    let sockAddr: { address: string; port: number } | null | undefined = server?.requestIP(req);
    // behind the raw front's tunnel the socket peer is the tunnel: the front knows the real client.
    // A connection it does not know is another local process, not a client: refused, or it would
    // pass allow rules and trusted_proxies meant for loopback
    if (listener.clientOf) {
      sockAddr = sockAddr ? listener.clientOf(sockAddr.port) : undefined;
      if (!sockAddr) return plain(403, "forbidden: not a connection from the proxy's listener\n");
    }
    const cr: ClientRequest & EventListenerObject = {
      method: req.method,
      target: ps < 0 ? "/" : url.slice(ps),
      headers: req.headers,
      peerIp: sockAddr?.address ?? "unix",
      body: () => req.body,
      req,
      server,
      gone: false,
      waiting: undefined,
      handleEvent: onClientAbort,
      onSlowHead: watchClientSignal,
    };
    const reply = await this.processAsync(cr, this.prepare(cr), listener);
    if (reply === undefined) return undefined;
    const res = reply instanceof Response ? reply : toResponse(reply);
    if (this.cfg.server_header) res.headers.set("server", this.cfg.server_header);
    if (this.drain?.isDraining || (this.cfg.keepalive_request_limit > 0 && sockAddr && this.lastOnConnection(`${sockAddr.address}|${sockAddr.port}`))) {
      res.headers.set("connection", "close");
    }
    return res;
  }

  /** The request's facts and its route (the raw front decides from the route whether it serves the request itself). */
  prepare(cr: ClientRequest): Prepared {
    const started = performance.now();
    const target = cr.target;
    const qi = target.indexOf("?");
    const h = cr.headers;
    const hostHeader = h.get("host");
    // the facts, the start time and the route in one object (one allocation per request, not two)
    const p: Prepared = {
      started,
      route: undefined,
      method: cr.method,
      host: normalizeHost(hostHeader),
      path: qi < 0 ? target : target.slice(0, qi),
      query: qi < 0 ? "" : target.slice(qi + 1),
      headers: h,
      clientIp: this.trusted.size ? clientAddress(cr.peerIp, h.get("x-forwarded-for"), this.trusted) : cr.peerIp,
      hostHeader,
      length: declaredLength(h),
    };
    if (cr.method !== "CONNECT") p.route = this.table.find(p);
    return p;
  }

  /** True when a route needs nothing but what the raw front offers (no hooks, auth, shared limiter or compression). */
  static rawServable(route: Route | undefined): boolean {
    if (!route) return true;
    const rt = route.extra;
    return !rt.hooks && !rt.auth && !rt.sharedLimiter && route.cfg.compress.length === 0;
  }

  /**
   * The pipeline for any front: route, filters, upstream; then metrics and the access log. The
   * answer goes to `sink` (undefined: Bun.serve upgraded the connection to a WebSocket) — from the
   * upstream connection's callback for a proxied request, with no promise in between (see Exchange).
   */
  process(cr: ClientRequest, p: Prepared, listener: ListenerInfo, sink: ReplySink): void {
    const route = p.route;
    this.inflight++;
    proxyMetrics.inFlight.inc();
    const ex = new Exchange(this, cr, p, listener, sink);
    try {
      if (cr.method === "CONNECT") {
        // no tunnelling (Pingora's default: allow_connect_method_proxying off → 405)
        ex.finish(plain(405, "CONNECT is not supported by this proxy\n"));
      } else if (Number.isNaN(p.length)) {
        // "5, 6" (Headers joins repeats): which length frames the body is ambiguous — a smuggling shape
        ex.finish(plain(400, "invalid or conflicting Content-Length\n"));
      } else if (this.cfg.max_header_size < 16384 && headSize(cr.method, cr.target, cr.headers) > this.cfg.max_header_size) {
        ex.finish(plain(431, `request header fields too large (limit ${this.cfg.max_header_size} bytes)\n`));
      } else if (!route) ex.finish(plain(404, `no route for ${p.host || "(no host)"}${p.path}\n`));
      else this.serveRoute(ex, route);
    } catch (e) {
      ex.fail(e);
    }
  }

  /** `process` as a promise (Bun.serve, the HTTP/2 listener). */
  processAsync(cr: ClientRequest, p: Prepared, listener: ListenerInfo): Promise<Reply | undefined> {
    return new Promise((resolve) => this.process(cr, p, listener, { onReply: resolve }));
  }

  /** An exchange ended (PipelineEnv): metrics, the access log, the in-flight count. */
  ended(ex: Exchange, res: Reply | undefined): void {
    const { cr } = ex;
    const info: Info = ex;
    const facts = ex.prepared;
    const { started, route } = facts;
    const status = res?.status ?? 101;
    const routeName = route?.name ?? "-";
    proxyMetrics.requests.record(routeName, info.upstream ?? "-", status, (performance.now() - started) / 1000);
    this.accessLog?.write({
      time: new Date(),
      clientIp: facts.clientIp,
      method: cr.method,
      target: cr.target,
      status,
      bytes: res ? replyBytes(res) : undefined,
      referer: cr.headers.get("referer"),
      userAgent: cr.headers.get("user-agent"),
      route: routeName,
      upstream: info.upstream,
      server: info.server,
      durationMs: performance.now() - started,
      attempts: info.attempts,
    });
    this.inflight--;
    proxyMetrics.inFlight.dec();
    if (this.inflight === 0 && this.idleWaiters.length) for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * The route's phases up to the upstream. Auth, a shared rate limiter and hooks need awaits before
   * the upstream; without them everything is decided synchronously.
   */
  private serveRoute(ex: Exchange, route: Route): void {
    const rt = route.extra;
    if (rt.auth || rt.sharedLimiter || rt.hooks) return this.serveAwaiting(ex, route);
    const facts = ex.prepared;
    const denied = this.accessCheck(rt, facts);
    if (denied) return ex.finish(denied);
    let rateHeaders: Record<string, string> | undefined;
    if (rt.limiter) {
      const d = rt.limiter.take(this.rateKey(route, facts), performance.now());
      rateHeaders = rateLimitHeaders(d, route.cfg.rate_limit.per);
      if (!d.ok) return ex.finish(this.rateLimited(route, rateHeaders));
    }
    const tooBig = this.bodyCheck(rt, facts);
    if (tooBig) return ex.finish(tooBig);
    this.dispatch(ex, route, undefined, rateHeaders);
  }

  /** Apart from serveRoute: its closure would give every request a scope object (see Exchange). */
  private serveAwaiting(ex: Exchange, route: Route): void {
    this.serveRouteAsync(ex, route).catch((e) => ex.fail(e));
  }

  /** The filters that await (auth, a shared limiter, hooks); a throw ends the exchange with 500. */
  private async serveRouteAsync(ex: Exchange, route: Route): Promise<void> {
    const rt = route.extra;
    const cfg = route.cfg;
    const { cr } = ex;
    const facts = ex.prepared;
    const ctx: HookContext | undefined = rt.hooks
      ? { route: route.name, clientIp: facts.clientIp, method: facts.method, path: facts.path, query: facts.query, headers: copyHeaders(facts.headers), state: {} }
      : undefined;
    const denied = this.accessCheck(rt, facts);
    if (denied) return ex.finish(denied);
    if (rt.auth && !(await rt.auth.check(facts.headers.get("authorization")))) return ex.finish(rt.auth.challenge());
    let rateHeaders: Record<string, string> | undefined;
    if (rt.limiter || rt.sharedLimiter) {
      const key = this.rateKey(route, facts);
      // undefined: the shared store failed and the request goes through unlimited (logged)
      const d = rt.limiter ? rt.limiter.take(key, performance.now()) : await rt.sharedLimiter!.take(key);
      if (d) rateHeaders = rateLimitHeaders(d, cfg.rate_limit.per);
      if (d && !d.ok) return ex.finish(this.rateLimited(route, rateHeaders!));
    }
    const tooBig = this.bodyCheck(rt, facts);
    if (tooBig) return ex.finish(tooBig);
    // from the hooks on, the logging hook runs however the request ends (the filters' refusals above are not logged to it)
    const logging = rt.hooks?.logging;
    if (logging) ex.afterEnd = () => logging(ctx!);
    if (rt.hooks?.requestFilter) {
      const early = await rt.hooks.requestFilter(ctx!, cr.req ?? new Request(`http://${facts.hostHeader ?? "localhost"}${cr.target}`, { method: cr.method, headers: ctx!.headers }));
      if (early) return ex.finish(early);
    }
    this.dispatch(ex, route, ctx, rateHeaders);
  }

  /** deny / allow lists: 403. */
  private accessCheck(rt: RouteRuntime, facts: Facts): Response | undefined {
    if (rt.deny?.has(facts.clientIp) || (rt.allow && !rt.allow.has(facts.clientIp))) return errorPage(rt, 403, "forbidden\n");
    return undefined;
  }

  private rateKey(route: Route, facts: Facts): string {
    const k = route.cfg.rate_limit.key;
    return k === "client_ip" ? facts.clientIp : k === "any" ? "" : (facts.headers.get(k.slice(7)) ?? "");
  }

  private rateLimited(route: Route, rateHeaders: Record<string, string>): Response {
    proxyMetrics.rateLimited.inc({ route: route.name });
    return withHeaders(errorPage(route.extra, 429, "too many requests\n"), rateHeaders);
  }

  /** A declared body over the route's limit: 413 before anything is sent upstream. */
  private bodyCheck(rt: RouteRuntime, facts: Facts): Response | undefined {
    if (rt.maxBody <= 0) return undefined;
    if (facts.length !== null && facts.length > rt.maxBody) return errorPage(rt, 413, `request body too large (limit ${rt.maxBody} bytes)\n`);
    return undefined;
  }

  /** Static actions (redirect, respond), WebSocket upgrade, or the upstream (its answer carries the rate-limit headers). */
  private dispatch(ex: Exchange, route: Route, ctx: HookContext | undefined, rateHeaders: Record<string, string> | undefined): void {
    const rt = route.extra;
    const cfg = route.cfg;
    const { cr } = ex;
    const facts = ex.prepared;
    if (cfg.redirect.to !== undefined) {
      const to = cfg.redirect.to.replace("{path}", facts.path).replace("{query}", facts.query ? `?${facts.query}` : "");
      return ex.finish(new Response(null, { status: cfg.redirect.status, headers: { location: to } }));
    }
    if (cfg.respond.status !== undefined) {
      const r = new Response(cfg.respond.status === 204 || cfg.respond.status === 304 ? null : cfg.respond.body, { status: cfg.respond.status, headers: { "content-type": cfg.respond.content_type } });
      applyHeaderOps(r.headers, rt.resOps);
      return ex.finish(r);
    }
    // a WebSocket handshake is always a GET (RFC 6455 §4.1): other methods skip the header lookup
    if (facts.method === "GET" && cr.server && cr.req && rt.upstream && facts.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return ex.settle(this.upgrade(cr.req, route, facts, cr.peerIp, ex.listener, cr.server, ex));
    }
    ex.toUpstream(ctx, rateHeaders);
  }

  readonly bodyCutShort = (c: H1Conn, e: Error) => this.log.warn(`proxy: ${c.method} ${c.target} → ${c.peer.addr}: response cut short: ${e.message}`);

  private async upgrade(
    req: Request,
    route: Route,
    facts: Facts,
    peerIp: string,
    listener: ListenerInfo,
    server: Server<any>,
    info: Info,
  ): Promise<Response | undefined> {
    const up = route.extra.upstream!;
    const peer = up.select({ key: hashKey(up.cfg.hash_key, facts) }, undefined, Date.now());
    if (!peer) return errorPage(route.extra, 503, `no healthy server in upstream '${up.name}'\n`);
    info.upstream = up.name;
    info.server = peer.addr;
    info.attempts = 1;
    let path = facts.path;
    const strip = route.cfg.strip_prefix;
    if (strip && path.startsWith(strip)) path = path.slice(strip.length) || "/";
    const fwd = forwardedFor(peerIp, facts.headers, listener.tls, this.trusted, facts.hostHeader);
    const bridge: WsBridge | Response = await proxyWebSocket(peer, `${path}${facts.query ? `?${facts.query}` : ""}`, facts.headers, fwd);
    if (bridge instanceof Response) return bridge;
    const headers: Record<string, string> = {};
    if (bridge.protocol) headers["sec-websocket-protocol"] = bridge.protocol;
    if ((server as Server<WsBridge>).upgrade(req, { data: bridge, headers })) return undefined;
    bridge.upstream.close();
    return plain(400, "websocket upgrade failed\n");
  }

}


export { IDEMPOTENT };
export type { RouteRuntime };
