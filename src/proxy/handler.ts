/**
 * The request pipeline, in Pingora's phase order: route → access filters (deny/allow, basic auth,
 * rate limit, body size) → requestFilter hook → static actions (redirect, respond) → upstreamPeer
 * (load balancing) → upstreamRequestFilter → send with retries → responseFilter → compression →
 * logging. One implementation for both fronts: `prepare` + `process` take a ClientRequest (strings,
 * a HeaderSource, the body on demand) and answer a Reply; `handle(Request)` wraps them for Bun.serve
 * (and in-process tests), the raw front (listen/raw-front.ts) calls them directly.
 */
import type { Server } from "bun";
import type { ConsolaInstance } from "consola";
import { ProxyError, statusFor } from "./errors.ts";
import { FIELD_VALUE, TOKEN } from "./http-syntax.ts";
import { HeadParts } from "./head-parts.ts";
import { RawHeaders } from "./listen/request-head.ts";
import { compressBody, negotiate, shouldCompress } from "./filters/compress.ts";
import { clientAddress, forwardedFor } from "./filters/forwarded.ts";
import { applyHeaderOps } from "./filters/headers.ts";
import { CidrSet } from "./filters/ip-filter.ts";
import { rateLimitHeaders } from "./filters/rate-limit.ts";
import { AccessLog } from "./log/access-log.ts";
import { connectionOptions, cookieValue, declaredLength, hashKey, headSize, limitStream, plain } from "./request-helpers.ts";
import { adHocPeer, runtimeFor, type RouteRuntime, type RuntimeOptions } from "./route-runtime.ts";
import { proxyMetrics } from "./metrics.ts";
import type { HookContext } from "./phases/hooks.ts";
import { compileRoute, normalizeHost, RouteTable, type CompiledRoute, type HeaderSource, type RequestFacts } from "./routing/table.ts";
import { replyBytes, toResponse, type Reply } from "./reply.ts";
import type { ProxyConfig } from "./types.ts";
import { BodySource } from "./upstream/body-source.ts";
import type { ConnectionPool } from "./upstream/pool.ts";
import { isRetryable, IDEMPOTENT } from "./upstream/retry.ts";
import { sendOnce, type OutgoingRequest } from "./upstream/send.ts";
import type { Upstream } from "./upstream/upstream.ts";
import type { Peer } from "./upstream/peer.ts";
import type { H1Conn, HeadWatcher } from "./upstream/connection.ts";
import { forwardHeaders, type ResponseHead } from "./upstream/h1-parser.ts";
import { proxyWebSocket, type WsBridge } from "./websocket.ts";

/** In a request target: controls, space, DEL and anything beyond ASCII. */
const UNSAFE_TARGET = /[^\x21-\x7e]/gu;

/** Hop-by-hop headers (RFC 9110 §7.6.1) and framing headers the proxy sets itself. */
const HOP_REQ = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length", "expect", "host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "proxy-authorization"]);


export interface ListenerInfo {
  tls: boolean;
  /** The raw front's internal server: the client behind a tunnel, by the tunnel's local port. */
  clientOf?: (tunnelPort: number) => { address: string; port: number } | undefined;
}

/** What routing and the filters look at, gathered once per request. */
interface Facts extends RequestFacts {
  /** The Host header as sent (null when absent). */
  hostHeader: string | null;
  /** Content-Length (null: none; NaN: invalid — see declaredLength). */
  length: number | null;
}

/** Filled in while proxying, for the metrics and the access log. */
interface Info {
  upstream?: string;
  server?: string;
  attempts: number;
}

function withHeaders<R extends Reply>(r: R, h: Record<string, string>): R {
  if (r instanceof Response) for (const k in h) r.headers.set(k, h[k]!);
  else r.extra = h;
  return r;
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

/** nginx's 499 "client closed request": never written (nobody reads it), only logged and counted. */
function clientLeft(body: BodySource | null): Response {
  body?.cancel();
  return new Response(null, { status: 499 });
}

/** What `prepare` found: the facts and the matched route. */
export interface Prepared {
  started: number;
  facts: Facts;
  route: Route | undefined;
}

type Route = CompiledRoute<RouteRuntime>;

export class ProxyHandler {
  readonly table: RouteTable<RouteRuntime>;
  private readonly trusted: CidrSet;
  private accessLog?: AccessLog;
  private inflight = 0;
  /** Set by the service: while draining, responses carry Connection: close. */
  drain?: { readonly isDraining: boolean };
  private idleWaiters: Array<() => void> = [];

  private constructor(
    private readonly cfg: ProxyConfig,
    readonly upstreams: Map<string, Upstream>,
    private readonly pool: ConnectionPool,
    routes: Route[],
    private readonly log: ConsolaInstance,
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
    const reply = await this.process(cr, this.prepare(cr), listener);
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
    const facts: Facts = {
      method: cr.method,
      host: normalizeHost(hostHeader),
      path: qi < 0 ? target : target.slice(0, qi),
      query: qi < 0 ? "" : target.slice(qi + 1),
      headers: h,
      clientIp: this.trusted.size ? clientAddress(cr.peerIp, h.get("x-forwarded-for"), this.trusted) : cr.peerIp,
      hostHeader,
      length: declaredLength(h),
    };
    return { started, facts, route: cr.method === "CONNECT" ? undefined : this.table.find(facts) };
  }

  /** True when a route needs nothing but what the raw front offers (no hooks, auth, shared limiter or compression). */
  static rawServable(route: Route | undefined): boolean {
    if (!route) return true;
    const rt = route.extra;
    return !rt.hooks && !rt.auth && !rt.sharedLimiter && route.cfg.compress.length === 0;
  }

  /**
   * The pipeline for any front: route, filters, upstream; then metrics and the access log.
   * undefined: the connection was upgraded (WebSocket).
   */
  async process(cr: ClientRequest, p: Prepared, listener: ListenerInfo): Promise<Reply | undefined> {
    const { started, facts, route } = p;
    this.inflight++;
    proxyMetrics.active.inc();
    const info: Info = { upstream: undefined, server: undefined, attempts: 0 };
    let res: Reply | undefined;
    try {
      if (cr.method === "CONNECT") {
        // no tunnelling (Pingora's default: allow_connect_method_proxying off → 405)
        res = plain(405, "CONNECT is not supported by this proxy\n");
      } else if (Number.isNaN(facts.length)) {
        // "5, 6" (Headers joins repeats): which length frames the body is ambiguous — a smuggling shape
        res = plain(400, "invalid or conflicting Content-Length\n");
      } else if (this.cfg.max_header_size < 16384 && headSize(cr.method, cr.target, cr.headers) > this.cfg.max_header_size) {
        res = plain(431, `request header fields too large (limit ${this.cfg.max_header_size} bytes)\n`);
      } else {
        const r = route ? this.serveRoute(cr, route, facts, listener, info) : plain(404, `no route for ${facts.host || "(no host)"}${facts.path}\n`);
        // awaiting a plain value would still cost a microtask hop
        res = r instanceof Promise ? await r : r;
      }
    } catch (e) {
      this.log.error(`proxy: ${cr.method} ${cr.target} route=${route?.name ?? "-"}: ${(e as Error).message}`);
      res = plain(500, "internal proxy error\n");
    }
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
    proxyMetrics.active.dec();
    if (this.inflight === 0 && this.idleWaiters.length) for (const w of this.idleWaiters.splice(0)) w();
    return res;
  }

  /**
   * The route's phases up to the upstream. Auth, a shared rate limiter and hooks need awaits before
   * the upstream; without them everything is decided synchronously and the proxy's promise is
   * returned as is (each async layer costs microtask hops per request).
   */
  private serveRoute(cr: ClientRequest, route: Route, facts: Facts, listener: ListenerInfo, info: Info): Reply | undefined | Promise<Reply | undefined> {
    const rt = route.extra;
    if (rt.auth || rt.sharedLimiter || rt.hooks) return this.serveRouteAsync(cr, route, facts, listener, info);
    const denied = this.accessCheck(rt, facts);
    if (denied) return denied;
    let rateHeaders: Record<string, string> | undefined;
    if (rt.limiter) {
      const d = rt.limiter.take(this.rateKey(route, facts), performance.now());
      rateHeaders = rateLimitHeaders(d, route.cfg.rate_limit.per);
      if (!d.ok) return this.rateLimited(route, rateHeaders);
    }
    const tooBig = this.bodyCheck(rt, facts);
    if (tooBig) return tooBig;
    return this.dispatch(cr, route, facts, listener, info, undefined, rateHeaders);
  }

  private async serveRouteAsync(cr: ClientRequest, route: Route, facts: Facts, listener: ListenerInfo, info: Info): Promise<Reply | undefined> {
    const rt = route.extra;
    const cfg = route.cfg;
    const denied = this.accessCheck(rt, facts);
    if (denied) return denied;
    if (rt.auth && !(await rt.auth.check(facts.headers.get("authorization")))) return rt.auth.challenge();
    let rateHeaders: Record<string, string> | undefined;
    if (rt.limiter || rt.sharedLimiter) {
      const key = this.rateKey(route, facts);
      // undefined: the shared store failed and the request goes through unlimited (logged)
      const d = rt.limiter ? rt.limiter.take(key, performance.now()) : await rt.sharedLimiter!.take(key);
      if (d) rateHeaders = rateLimitHeaders(d, cfg.rate_limit.per);
      if (d && !d.ok) return this.rateLimited(route, rateHeaders!);
    }
    const tooBig = this.bodyCheck(rt, facts);
    if (tooBig) return tooBig;

    const ctx: HookContext | undefined = rt.hooks
      ? { route: route.name, clientIp: facts.clientIp, method: facts.method, path: facts.path, query: facts.query, headers: copyHeaders(facts.headers), state: {} }
      : undefined;
    try {
      if (rt.hooks?.requestFilter) {
        const early = await rt.hooks.requestFilter(ctx!, cr.req ?? new Request(`http://${facts.hostHeader ?? "localhost"}${cr.target}`, { method: cr.method, headers: ctx!.headers }));
        if (early) return early;
      }
      return await this.dispatch(cr, route, facts, listener, info, ctx, rateHeaders);
    } finally {
      if (ctx && rt.hooks?.logging) {
        try {
          rt.hooks.logging(ctx);
        } catch (e) {
          this.log.warn(`proxy hooks logging: ${(e as Error).message}`);
        }
      }
    }
  }

  /** deny / allow lists: 403. */
  private accessCheck(rt: RouteRuntime, facts: Facts): Response | undefined {
    if (rt.deny?.has(facts.clientIp) || (rt.allow && !rt.allow.has(facts.clientIp))) return this.errorPage(rt, 403, "forbidden\n");
    return undefined;
  }

  private rateKey(route: Route, facts: Facts): string {
    const k = route.cfg.rate_limit.key;
    return k === "client_ip" ? facts.clientIp : k === "any" ? "" : (facts.headers.get(k.slice(7)) ?? "");
  }

  private rateLimited(route: Route, rateHeaders: Record<string, string>): Response {
    proxyMetrics.rateLimited.inc({ route: route.name });
    return withHeaders(this.errorPage(route.extra, 429, "too many requests\n"), rateHeaders);
  }

  /** A declared body over the route's limit: 413 before anything is sent upstream. */
  private bodyCheck(rt: RouteRuntime, facts: Facts): Response | undefined {
    if (rt.maxBody <= 0) return undefined;
    if (facts.length !== null && facts.length > rt.maxBody) return this.errorPage(rt, 413, `request body too large (limit ${rt.maxBody} bytes)\n`);
    return undefined;
  }

  /** Static actions (redirect, respond), WebSocket upgrade, or the upstream (its response carries the rate-limit headers). */
  private dispatch(cr: ClientRequest, route: Route, facts: Facts, listener: ListenerInfo, info: Info, ctx: HookContext | undefined, rateHeaders: Record<string, string> | undefined): Reply | Promise<Reply | undefined> {
    const rt = route.extra;
    const cfg = route.cfg;
    if (cfg.redirect.to !== undefined) {
      const to = cfg.redirect.to.replace("{path}", facts.path).replace("{query}", facts.query ? `?${facts.query}` : "");
      return new Response(null, { status: cfg.redirect.status, headers: { location: to } });
    }
    if (cfg.respond.status !== undefined) {
      const r = new Response(cfg.respond.status === 204 || cfg.respond.status === 304 ? null : cfg.respond.body, { status: cfg.respond.status, headers: { "content-type": cfg.respond.content_type } });
      applyHeaderOps(r.headers, rt.resOps);
      return r;
    }
    // a WebSocket handshake is always a GET (RFC 6455 §4.1): other methods skip the header lookup
    if (facts.method === "GET" && cr.server && cr.req && rt.upstream && facts.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return this.upgrade(cr.req, route, facts, cr.peerIp, listener, cr.server, info);
    }
    const res = this.proxy(cr, route, facts, listener, info, ctx);
    return rateHeaders ? res.then((r) => withHeaders(r, rateHeaders)) : res;
  }

  private async proxy(cr: ClientRequest, route: Route, facts: Facts, listener: ListenerInfo, info: Info, ctx: HookContext | undefined): Promise<Reply> {
    const peerIp = cr.peerIp;
    const rt = route.extra;
    const up = rt.upstream;
    const hooks = rt.hooks;
    if (hooks?.upstreamRequestFilter) await hooks.upstreamRequestFilter(ctx!);
    // path rewriting: strip_prefix, then rewrite.regex
    let path = ctx ? ctx.path : facts.path;
    const strip = route.cfg.strip_prefix;
    if (strip && path.startsWith(strip)) path = path.slice(strip.length) || "/";
    if (path[0] !== "/") path = "/" + path;
    if (rt.rewrite) path = path.replace(rt.rewrite.re, rt.rewrite.replace);
    const query = ctx ? ctx.query : facts.query;
    let target = query ? `${path}?${query}` : path;
    // a hook or a rewrite can produce what a client cannot send: controls, spaces, non-ASCII (the
    // head goes out as latin1, where U+010D would become a CR): percent-encode them
    if (ctx || rt.rewrite) target = target.replace(UNSAFE_TARGET, (c) => encodeURIComponent(c));

    // request head for the upstream
    const src = ctx ? ctx.headers : facts.headers;
    const fwd = forwardedFor(peerIp, facts.headers, listener.tls, this.trusted, facts.hostHeader);
    // an HTTP/1.0 client may send no Host: the upstream's name stands in (nginx's $proxy_host)
    let host = (ctx ? ctx.headers.get("host") : facts.hostHeader) ?? (fwd.host || up?.name || "localhost");
    const headers = new HeadParts();
    const named = connectionOptions(facts.headers.get("connection"));
    if (rt.reqOps.empty) {
      headers.add("host: ").add(host).add("\r\n");
      // the raw front's fields go out as the client's lines (no string per field)
      if (src instanceof RawHeaders) src.forwardLines(headers, HOP_REQ, named);
      else
        src.forEach((v, k) => {
          if (!HOP_REQ.has(k) && !named?.has(k)) headers.line(k, v);
        });
    } else {
      const edited = new Headers();
      src.forEach((v, k) => {
        if (!HOP_REQ.has(k) && !named?.has(k)) edited.append(k, v);
      });
      try {
        applyHeaderOps(edited, rt.reqOps);
      } catch {
        // Headers refuses values beyond latin1 (one byte each on the wire): the same answer as below
        return plain(400, "invalid header value\n");
      }
      host = edited.get("host") ?? host;
      headers.add("host: ").add(host).add("\r\n");
      edited.forEach((v, k) => {
        if (k !== "host") headers.line(k, v);
      });
    }
    headers.add("x-forwarded-for: ").add(fwd.for).add("\r\nx-forwarded-proto: ").add(fwd.proto).add("\r\nx-forwarded-host: ").add(fwd.host).add("\r\n");
    // an HTTP Upgrade the front tunnels itself: the hop-by-hop pair is passed on for this one hop
    if (cr.upgrade) headers.line("connection", "upgrade").line("upgrade", cr.upgrade);
    // clients' header values were parsed already; hooks and header edits add values that were not:
    // CR, LF, other controls or characters beyond latin1 (one byte each on the wire) are refused
    if ((ctx || !rt.reqOps.empty) && !FIELD_VALUE.test(headers.text().replace(/\r\n/g, ""))) return plain(400, "invalid header value\n");
    if (ctx && !TOKEN.test(ctx.method)) return plain(400, "invalid method set by a hook\n");

    const cl = facts.length;
    // no Content-Length and a body stream: chunked (HTTP/1.1) or an HTTP/2 DATA stream
    // cheap tests first: a GET without Content-Length never touches req.body (Bun builds a stream for it)
    let bodyStream = cl !== 0 && (cl !== null || (cr.method !== "GET" && cr.method !== "HEAD")) ? cr.body() : null;
    let tooBig = false;
    // a body of unknown length is capped as it streams: by the route's limit and the listener-wide
    // one (Bun.serve enforces that itself; the raw front decodes chunked bodies without it)
    const limit = lowerLimit(rt.maxBody, this.cfg.max_body_size);
    if (bodyStream && cl === null && limit > 0) bodyStream = limitStream(bodyStream, limit, () => (tooBig = true));
    // Bun.serve tells of a client gone mid-upload through req.signal (see BodySource)
    const body = bodyStream ? new BodySource(bodyStream, up?.cfg.retry_buffer_size ?? 65536, cr.req?.signal) : null;
    const out: OutgoingRequest = { method: ctx?.method ?? cr.method, target, headers, body, bodyLength: cl ?? undefined, onEarlyHints: cr.earlyHints, client: cr };

    // only consistent_hash reads the key and only cookie reads the cookie
    const selectCtx = up
      ? { key: up.cfg.balance === "consistent_hash" ? hashKey(up.cfg.hash_key, facts) : "", cookie: up.cfg.balance === "cookie" ? cookieValue(facts.headers.get("cookie"), up.cfg.cookie.name) : undefined }
      : { key: "" };
    let tried: Set<Peer> | undefined;
    let lastErr: Error | undefined;
    const maxRetries = up?.maxRetries ?? 0;
    info.upstream = up?.name;
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      // the client left during a backoff or a hook: no connection is taken for a body that is gone
      if (attempt > 0 && (tooBig || body?.failed)) return this.uploadFailed(rt, body!, tooBig, limit);
      // nor for a client that is gone
      if (cr.gone) return clientLeft(body);
      let peer: Peer | undefined;
      if (hooks?.upstreamPeer) {
        const addr = await hooks.upstreamPeer(ctx!);
        if (addr) peer = up?.peers.find((p) => p.addr === addr) ?? adHocPeer(addr, up);
      }
      peer ??= up?.select(selectCtx, tried, Date.now());
      if (!peer) {
        if (lastErr) break;
        body?.cancel();
        return this.errorPage(rt, 503, `no healthy server in upstream '${up?.name ?? "(none)"}'\n`);
      }
      info.server = peer.addr;
      info.attempts = attempt + 1;
      if (ctx) ctx.peer = peer.addr;
      try {
        // a pooled connection starts the request synchronously: only the response costs an await
        const sent = sendOnce(peer, this.pool, out);
        const a = sent instanceof Promise ? await sent : sent;
        a.conn.onBodyError = this.bodyCutShort;
        cr.waiting = a.conn;
        if (cr.onSlowHead) a.conn.headWatcher = cr as HeadWatcher;
        // the client left while the connection was being opened
        if (cr.gone) a.conn.abandon();
        const response = await a.response;
        cr.waiting = undefined;
        if (response.upgraded) {
          // the raw front tunnels the bytes from here on
          if (cr.upgrade) return { status: 101, statusText: response.head.statusText, head: response.head, body: null, upgraded: response.upgraded };
          // a 101 here answers a request that never asked to switch (WebSocket on Bun.serve goes through websocket.ts)
          response.upgraded.destroy();
          throw new ProxyError(`upstream ${peer.addr} sent a bad response: 101 Switching Protocols to a request without Upgrade`, "bad_response", "upstream", false, a.reused, true);
        }
        // counted once the head arrived: a stale pooled connection that fails is not a reuse
        if (a.reused) up ? up.series.reused.inc() : proxyMetrics.reused.inc();
        else if (up) up.series.connect.observe(a.connectMs / 1000);
        else proxyMetrics.connect.observe(a.connectMs / 1000);
        const head = response.head;
        if (up && up.cfg.health.passive.unhealthy_status.includes(head.status)) up.recordFailure(peer, Date.now(), `status ${head.status}`);
        if (cr.upgrade && cr.upgrade.toLowerCase() === "websocket") {
          // as on Bun.serve's WebSocket bridge: a refused handshake is the upstream's failure
          if (response.body instanceof ReadableStream) response.body.cancel().catch(() => {});
          return plain(502, `bad gateway: upstream ${peer.addr} refused the websocket upgrade (status ${head.status})\n`);
        }
        const r = this.respond(response.body, head, route, facts, peer, ctx, response.trailers);
        return r instanceof Promise ? await r : r;
      } catch (e) {
        const err = e as Error;
        lastErr = err;
        cr.waiting = undefined;
        // the client's upload failed: not the upstream's fault, so no passive-health failure
        if (tooBig || body?.failed) return this.uploadFailed(rt, body!, tooBig, limit);
        if (cr.gone) {
          // neither an upstream failure (health, error metrics) nor a reason to retry
          this.log.debug(`proxy: ${out.method} ${target} → ${peer.addr}: client closed the request (499)`);
          return clientLeft(body);
        }
        const pe = err instanceof ProxyError ? err : undefined;
        proxyMetrics.upstreamErrors.inc({ upstream: up?.name ?? "-", server: peer.addr, kind: pe?.kind ?? "internal" });
        const stale = pe?.reused && pe.retryable;
        if (!stale) {
          (tried ??= new Set()).add(peer);
          up?.recordFailure(peer, Date.now(), err.message);
        }
        let retry = isRetryable(pe, out.method);
        if (hooks?.failToConnect && pe && (pe.kind === "connect" || pe.kind === "connect_timeout") && hooks.failToConnect(ctx!, err) === false) retry = false;
        this.log.warn(`proxy: ${out.method} ${target} → ${peer.addr} (attempt ${attempt + 1}): ${err.message}${retry && attempt < maxRetries ? "; retrying" : ""}`);
        if (!retry) break;
        if (body && !body.replayable) {
          lastErr = new ProxyError(`request body is larger than the retry buffer (${up?.cfg.retry_buffer_size} bytes) and cannot be replayed`, "body_not_replayable", "internal", false);
          break;
        }
        if (attempt < maxRetries) {
          proxyMetrics.retries.inc({ upstream: up?.name ?? "-", reason: pe?.kind ?? "error" });
          if (up && up.cfg.retry_backoff > 0) await Bun.sleep(up.cfg.retry_backoff * 1000 * 2 ** attempt);
        }
      }
    }
    body?.cancel();
    if (ctx) ctx.error = lastErr?.message;
    if (hooks?.errorWhileProxy && lastErr) {
      const r = await hooks.errorWhileProxy(ctx!, lastErr);
      if (r) return r;
    }
    const status = statusFor(lastErr);
    return this.errorPage(rt, status, `${status === 504 ? "upstream timed out" : "bad gateway"}: ${lastErr?.message ?? "no upstream"}\n`);
  }

  /** The client's upload failed (over the limit, or the client left): 413 or 400. */
  private uploadFailed(rt: RouteRuntime, body: BodySource, tooBig: boolean, limit: number): Response {
    body.cancel();
    if (tooBig) return this.errorPage(rt, 413, `request body too large (limit ${limit} bytes)\n`);
    return plain(400, `request body could not be read: ${body.failed!.message}\n`);
  }

  private readonly bodyCutShort = (c: H1Conn, e: Error) => this.log.warn(`proxy: ${c.method} ${c.target} → ${c.peer.addr}: response cut short: ${e.message}`);

  /** The client's response from the upstream's; a promise only when a responseFilter hook runs. */
  private respond(body: Uint8Array | ReadableStream<Uint8Array> | null, head: ResponseHead, route: Route, facts: Facts, peer: Peer, ctx: HookContext | undefined, trailers?: { text: string }): Reply | Promise<Reply> {
    const rt = route.extra;
    const { status, statusText } = head;
    const up = rt.upstream;
    const stick = up?.cfg.balance === "cookie" && cookieValue(facts.headers.get("cookie"), up.cfg.cookie.name) !== peer.id;
    if (ctx) ctx.status = status;
    // nothing to change: the upstream's head goes on as it is
    if (rt.resOps.empty && !stick && !rt.hooks?.responseFilter && route.cfg.compress.length === 0) return { status, statusText, head, body, trailers };
    // `forward` holds the end-to-end headers only (the parser dropped hop-by-hop and framing ones)
    const headers = new Headers(forwardHeaders(head));
    applyHeaderOps(headers, rt.resOps);
    if (stick) {
      const c = up!.cfg.cookie;
      headers.append("set-cookie", `${c.name}=${peer.id}; Path=/; HttpOnly; SameSite=Lax${c.max_age > 0 ? `; Max-Age=${Math.round(c.max_age)}` : ""}`);
    }
    if (rt.hooks?.responseFilter) return Promise.resolve(rt.hooks.responseFilter(ctx!, headers)).then(() => this.finishResponse(body, status, statusText, headers, route, facts));
    // trailer fields are not run through response_headers: with edits, they are not passed on
    if (route.cfg.compress.length === 0) return { status, statusText, head, headers, body, trailers: rt.resOps.empty ? trailers : undefined };
    return this.finishResponse(body, status, statusText, headers, route, facts);
  }

  /** Compression (when the route offers it and the client accepts it), then the Response. */
  private finishResponse(body: Uint8Array | ReadableStream<Uint8Array> | null, status: number, statusText: string, headers: Headers, route: Route, facts: Facts): Response {
    const offered = route.cfg.compress;
    if (offered.length > 0 && body !== null) {
      headers.append("vary", "Accept-Encoding");
      const enc = negotiate(facts.headers.get("accept-encoding"), offered);
      const sizeOk = !(body instanceof Uint8Array) || body.byteLength >= route.cfg.compress_min_size;
      if (enc && sizeOk && shouldCompress(status, headers, route.cfg.compress_min_size)) {
        headers.set("content-encoding", enc);
        headers.delete("content-length");
        return new Response(compressBody(body, enc), { status, statusText, headers });
      }
    }
    return new Response(body, { status, statusText, headers });
  }

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
    if (!peer) return this.errorPage(route.extra, 503, `no healthy server in upstream '${up.name}'\n`);
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

  private errorPage(rt: RouteRuntime, status: number, fallback: string): Response {
    const page = rt.errorPages.get(status);
    if (page !== undefined) return new Response(page, { status, headers: { "content-type": "text/html; charset=utf-8" } });
    return plain(status, fallback);
  }
}


export { IDEMPOTENT };
export type { RouteRuntime };

/** The smaller of two body limits where 0 means none. */
function lowerLimit(a: number, b: number): number {
  return a > 0 && b > 0 ? Math.min(a, b) : Math.max(a, b);
}
