/**
 * One request's way through the pipeline once routed: the trip to the upstream (Pingora's
 * upstream_peer → upstream_request_filter → connect → send, with retries), the answer (response
 * filter, compression), and the bookkeeping when it ends. Driven by callbacks, not awaits: the
 * exchange is the waiter its upstream connection tells (ResponseWaiter), so a request on a pooled
 * connection without hooks makes no promise at all — promises, their resolving functions and async
 * frames were half the garbage a proxied request made (counted with bun:jsc heapStats), and its
 * young-generation collections set the c=1 latency tail. Hooks and retries' back-off still wait on
 * promises, only where they occur.
 */
import type { ConsolaInstance } from "consola";
import { ProxyError, statusFor } from "./errors.ts";
import type { ClientRequest, ListenerInfo, Prepared } from "./handler.ts";
import { HeadParts } from "./head-parts.ts";
import { FIELD_VALUE, TOKEN } from "./http-syntax.ts";
import { RawHeaders } from "./listen/request-head.ts";
import { compressBody, negotiate, shouldCompress } from "./filters/compress.ts";
import { forwardedFor } from "./filters/forwarded.ts";
import { applyHeaderOps } from "./filters/headers.ts";
import type { CidrSet } from "./filters/ip-filter.ts";
import { proxyMetrics } from "./metrics.ts";
import type { HookContext, ProxyHooks } from "./phases/hooks.ts";
import { connectionOptions, cookieValue, hashKey, limitStream, plain } from "./request-helpers.ts";
import { withHeaders, type Reply } from "./reply.ts";
import { adHocPeer, errorPage, type RouteRuntime } from "./route-runtime.ts";
import type { CompiledRoute, HeaderSource } from "./routing/table.ts";
import type { ProxyConfig } from "./types.ts";
import { BodySource } from "./upstream/body-source.ts";
import type { H1Conn, HeadWatcher, ResponseWaiter, UpstreamResponse } from "./upstream/connection.ts";
import { forwardHeaders, type ResponseHead } from "./upstream/h1-parser.ts";
import type { Peer } from "./upstream/peer.ts";
import type { ConnectionPool } from "./upstream/pool.ts";
import { isRetryable } from "./upstream/retry.ts";
import { sendOnce, type OutgoingRequest } from "./upstream/send.ts";

/** In a request target: controls, space, DEL and anything beyond ASCII. */
const UNSAFE_TARGET = /[^\x21-\x7e]/gu;

/** Hop-by-hop headers (RFC 9110 §7.6.1) and framing headers the proxy sets itself. */
const HOP_REQ = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length", "expect", "host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "proxy-authorization"]);

type Route = CompiledRoute<RouteRuntime>;

/** Hears the pipeline's answer to one request: undefined when Bun.serve upgraded the connection (WebSocket). Must not throw. */
export interface ReplySink {
  onReply(reply: Reply | undefined): void;
}

/** What an exchange needs from the pipeline that made it. */
export interface PipelineEnv {
  readonly cfg: ProxyConfig;
  readonly pool: ConnectionPool;
  readonly trusted: CidrSet;
  readonly log: ConsolaInstance;
  /** Told when a response body failed after its head was passed on (for the error log). */
  readonly bodyCutShort: (c: H1Conn, e: Error) => void;
  /** The request is answered: metrics, the access log, the in-flight count (the sink is told after). */
  ended(ex: Exchange, reply: Reply | undefined): void;
}

/** Filled in while proxying, for the metrics and the access log. */
export interface Info {
  upstream?: string;
  server?: string;
  attempts: number;
}

/** nginx's 499 "client closed request": never written (nobody reads it), only logged and counted. */
function clientLeft(body: BodySource | null): Response {
  body?.cancel();
  return new Response(null, { status: 499 });
}

/** The smaller of two body limits where 0 means none. */
function lowerLimit(a: number, b: number): number {
  return a > 0 && b > 0 ? Math.min(a, b) : Math.max(a, b);
}

/** Before build: no upstream request yet. */
const EMPTY_HEAD = new HeadParts();

/** Balancing context for policies that read none (every policy but consistent_hash and cookie). */
const NO_KEY = Object.freeze({ key: "" });

export class Exchange implements ResponseWaiter, Info, OutgoingRequest {
  // Info: what the metrics and the access log report (the exchange is its own Info: one object less per request)
  upstream: string | undefined = undefined;
  server: string | undefined = undefined;
  attempts = 0;
  /** Route hooks' context (routes with hooks only). */
  ctx: HookContext | undefined = undefined;
  /** Runs when the exchange ends, before the bookkeeping (a route's logging hook). */
  afterEnd: (() => void) | undefined = undefined;
  private ended = false;
  /** A route's rate-limit headers, carried by whatever the upstream trip answers. */
  private rateHeaders: Record<string, string> | undefined = undefined;
  // OutgoingRequest: the upstream request, set by build (its own object would be one more per request)
  method = "";
  target = "";
  headers: HeadParts = EMPTY_HEAD;
  body: BodySource | null = null;
  bodyLength: number | undefined = undefined;
  onEarlyHints: ((head: ResponseHead) => void) | undefined = undefined;
  get client(): ClientRequest {
    return this.cr;
  }
  // the upstream trip
  private selectCtx: { readonly key: string; readonly cookie?: string } = NO_KEY;
  private tried: Set<Peer> | undefined = undefined;
  private lastErr: Error | undefined = undefined;
  private attempt = 0;
  private maxRetries = 0;
  private tooBig = false;
  private limit = 0;
  private peer: Peer | undefined = undefined;
  private reused = false;
  /** An attempt was handed to sendOnce and has not started (a connect pending): its head must stay as it is. */
  private connecting = false;
  private connectMs = 0;

  constructor(
    readonly env: PipelineEnv,
    readonly cr: ClientRequest,
    readonly prepared: Prepared,
    readonly listener: ListenerInfo,
    private readonly sink: ReplySink,
  ) {}

  /** The answer: the route's logging hook, the bookkeeping, then the front. Once: a late outcome (an attempt the client's leaving ended) is dropped. */
  finish(reply: Reply | undefined): void {
    if (this.ended) return discard(reply);
    this.ended = true;
    // the request head goes back to the spare list, unless a connect still pending would send it
    if (this.headers !== EMPTY_HEAD && !this.connecting) {
      HeadParts.give(this.headers);
      this.headers = EMPTY_HEAD;
    }
    if (reply && this.rateHeaders) withHeaders(reply, this.rateHeaders);
    if (this.afterEnd) {
      try {
        this.afterEnd();
      } catch (e) {
        this.env.log.warn(`proxy hooks logging: ${(e as Error).message}`);
      }
    }
    try {
      this.env.ended(this, reply);
    } catch (e) {
      // the bookkeeping (an access log that cannot write) must not keep the answer from the client
      this.env.log.error(`proxy: after ${this.cr.method} ${this.cr.target}: ${(e as Error).message}`);
    }
    this.sink.onReply(reply);
  }

  /** A fault in the pipeline itself (or a hook that threw): logged, answered 500 (without the rate-limit headers). */
  fail(e: unknown): void {
    this.env.log.error(`proxy: ${this.cr.method} ${this.cr.target} route=${this.prepared.route?.name ?? "-"}: ${(e as Error)?.message ?? e}`);
    this.rateHeaders = undefined;
    this.finish(plain(500, "internal proxy error\n"));
  }

  /** An answer that may still be coming (hooks, a WebSocket upgrade). */
  settle(r: Reply | undefined | Promise<Reply | undefined>): void {
    if (r instanceof Promise) r.then((v) => this.finish(v), (e) => this.fail(e));
    else this.finish(r);
  }

  /** Proxy to the route's upstream (the filters let the request through). */
  toUpstream(ctx: HookContext | undefined, rateHeaders: Record<string, string> | undefined): void {
    this.ctx = ctx;
    this.rateHeaders = rateHeaders;
    const hook = this.route.extra.hooks?.upstreamRequestFilter;
    if (hook) this.filterFirst(hook);
    else this.build();
  }

  /*
   * Callbacks live in small methods of their own: a function that creates a closure gives every
   * call a scope object for what the closure captures (`this` included), even on paths that never
   * create it — garbage on each request's hot path.
   */

  private filterFirst(hook: NonNullable<ProxyHooks["upstreamRequestFilter"]>): void {
    Promise.resolve(hook(this.ctx!)).then(() => this.guard(this.build), (e) => this.fail(e));
  }

  private get route(): Route {
    return this.prepared.route!;
  }

  /** The upstream request: target (strip_prefix, rewrite), header lines, body, balancing key. */
  private build(): void {
    const { cr, ctx } = this;
    const facts = this.prepared;
    const route = this.route;
    const rt = route.extra;
    const up = rt.upstream;
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
    if (ctx || rt.rewrite) target = target.replace(UNSAFE_TARGET, encodeURIComponent);

    // request head for the upstream
    const src = ctx ? ctx.headers : facts.headers;
    const headers = HeadParts.take();
    // fields the raw front's client sends again (the same head, or the same fields under a new
    // request line): the same block as last time, copied as bytes (it depends on the fields, the
    // peer, TLS, the trusted set and, without a Host, the upstream's name)
    const raw = !ctx && rt.reqOps.empty && src instanceof RawHeaders ? src : undefined;
    const cached = raw?.upstreamBlock(this.env.trusted, cr.peerIp, this.listener.tls, up?.name);
    if (cached) headers.addBytes(cached);
    else if (!this.headerBlock(headers, src, up?.name)) return;
    else raw?.builtBlock(this.env.trusted, cr.peerIp, this.listener.tls, up?.name, headers);
    // an HTTP Upgrade the front tunnels itself: the hop-by-hop pair is passed on for this one hop
    if (cr.upgrade) headers.line("connection", "upgrade").line("upgrade", cr.upgrade);
    // clients' header values were parsed already; hooks and header edits add values that were not:
    // CR, LF, other controls or characters beyond latin1 (one byte each on the wire) are refused
    if ((ctx || !rt.reqOps.empty) && !FIELD_VALUE.test(headers.text().replace(/\r\n/g, ""))) return this.finish(plain(400, "invalid header value\n"));
    if (ctx && !TOKEN.test(ctx.method)) return this.finish(plain(400, "invalid method set by a hook\n"));

    const cl = facts.length;
    // no Content-Length and a body stream: chunked (HTTP/1.1) or an HTTP/2 DATA stream
    // cheap tests first: a GET without Content-Length never touches req.body (Bun builds a stream for it)
    let bodyStream = cl !== 0 && (cl !== null || (cr.method !== "GET" && cr.method !== "HEAD")) ? cr.body() : null;
    // a body of unknown length is capped as it streams: by the route's limit and the listener-wide
    // one (Bun.serve enforces that itself; the raw front decodes chunked bodies without it)
    this.limit = lowerLimit(rt.maxBody, this.env.cfg.max_body_size);
    if (bodyStream && cl === null && this.limit > 0) bodyStream = this.capped(bodyStream);
    // Bun.serve tells of a client gone mid-upload through req.signal (see BodySource)
    this.body = bodyStream ? new BodySource(bodyStream, up?.cfg.retry_buffer_size ?? 65536, cr.req?.signal) : null;
    this.method = ctx?.method ?? cr.method;
    this.target = target;
    this.headers = headers;
    this.bodyLength = cl ?? undefined;
    this.onEarlyHints = cr.earlyHints;
    // only consistent_hash reads the key and only cookie reads the cookie
    if (up && up.cfg.balance === "consistent_hash") this.selectCtx = { key: hashKey(up.cfg.hash_key, facts) };
    else if (up && up.cfg.balance === "cookie") this.selectCtx = { key: "", cookie: cookieValue(facts.headers.get("cookie"), up.cfg.cookie.name) };
    this.maxRetries = up?.maxRetries ?? 0;
    this.upstream = up?.name;
    this.next();
  }

  /** Host, the client's end-to-end fields (edited by the route) and X-Forwarded-*, onto `headers`; false when answered (400). */
  private headerBlock(headers: HeadParts, src: HeaderSource, fallbackHost: string | undefined): boolean {
    const { cr, ctx } = this;
    const facts = this.prepared;
    const rt = this.route.extra;
    const fwd = forwardedFor(cr.peerIp, facts.headers, this.listener.tls, this.env.trusted, facts.hostHeader);
    // an HTTP/1.0 client may send no Host: the upstream's name stands in (nginx's $proxy_host)
    let host = (ctx ? ctx.headers.get("host") : facts.hostHeader) ?? (fwd.host || fallbackHost || "localhost");
    const named = connectionOptions(facts.headers.get("connection"));
    if (rt.reqOps.empty) {
      headers.add("host: ").add(host).add("\r\n");
      // the raw front's fields go out as the client's lines (no string per field)
      if (src instanceof RawHeaders) src.forwardLines(headers, HOP_REQ, named);
      else copyFields(src, headers, named);
    } else {
      const edited = editedFields(src, named, rt);
      // Headers refuses values beyond latin1 (one byte each on the wire): the same answer as below
      if (!edited) {
        this.finish(plain(400, "invalid header value\n"));
        return false;
      }
      host = edited.get("host") ?? host;
      headers.add("host: ").add(host).add("\r\n");
      copyEdited(edited, headers);
    }
    headers.add("x-forwarded-for: ").add(fwd.for).add("\r\nx-forwarded-proto: ").add(fwd.proto).add("\r\nx-forwarded-host: ").add(fwd.host).add("\r\n");
    return true;
  }

  /** A body of unknown length, cut at the limit (then 413). Apart from build: a closure in build would give every call a scope object. */
  private capped(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    return limitStream(body, this.limit, () => (this.tooBig = true));
  }

  /** The next attempt, or the answer when there is none left. */
  private next(): void {
    if (this.attempt > this.maxRetries) return this.giveUp();
    // the client left during a back-off or a hook: no connection is taken for a body that is gone
    if (this.attempt > 0 && (this.tooBig || this.body?.failed)) return this.finish(this.uploadFailed());
    // nor for a client that is gone
    if (this.cr.gone) return this.finish(clientLeft(this.body));
    const hook = this.route.extra.hooks?.upstreamPeer;
    if (hook) this.askPeer(hook);
    else this.send(undefined);
  }

  /** The upstreamPeer hook names the server (or leaves it to the balancer). */
  private askPeer(hook: NonNullable<ProxyHooks["upstreamPeer"]>): void {
    const up = this.route.extra.upstream;
    Promise.resolve(hook(this.ctx!)).then(
      (addr) => this.guard(() => this.send(addr ? (up?.peers.find((p) => p.addr === addr) ?? adHocPeer(addr, up)) : undefined)),
      (e) => this.fail(e),
    );
  }

  private send(chosen: Peer | undefined): void {
    const rt = this.route.extra;
    const up = rt.upstream;
    const peer = chosen ?? up?.select(this.selectCtx, this.tried);
    if (!peer) {
      if (this.lastErr) return this.giveUp();
      this.body?.cancel();
      return this.finish(errorPage(rt, 503, `no healthy server in upstream '${up?.name ?? "(none)"}'\n`));
    }
    // the client left while an upstreamPeer hook ran: no request is sent for it
    if (this.cr.gone) return this.finish(clientLeft(this.body));
    this.peer = peer;
    this.server = peer.addr;
    this.attempts = this.attempt + 1;
    if (this.ctx) this.ctx.peer = peer.addr;
    // a pooled connection starts the request synchronously; the outcome comes to onResponse / onFailure
    this.connecting = true;
    sendOnce(peer, this.env.pool, this, this);
  }

  onStart(conn: H1Conn, reused: boolean, connectMs: number): void {
    this.connecting = false;
    this.reused = reused;
    this.connectMs = connectMs;
    conn.onBodyError = this.env.bodyCutShort;
    this.cr.waiting = conn;
    if (this.cr.onSlowHead) conn.headWatcher = this.cr as HeadWatcher;
  }

  onResponse(response: UpstreamResponse): void {
    this.cr.waiting = undefined;
    if (this.ended) return discard(response);
    try {
      this.answered(response);
    } catch (e) {
      this.attemptThrew(e as Error, response);
    }
  }

  /**
   * Handling the upstream's answer threw (response_headers with a value Headers refuses, a
   * responseFilter hook): a failed attempt, as for a bad response — 502 or a retry, the health
   * failure recorded. Its body, unread, is cancelled (a large one would hold the connection).
   */
  private attemptThrew(e: Error, response: UpstreamResponse): void {
    discard(response);
    try {
      this.failed(e);
    } catch (err) {
      this.fail(err);
    }
  }

  private answered(response: UpstreamResponse): void {
    const { cr, ctx } = this;
    const peer = this.peer!;
    const route = this.route;
    const up = route.extra.upstream;
    if (response.upgraded) {
      // the raw front tunnels the bytes from here on
      if (cr.upgrade) return this.finish(response);
      // a 101 here answers a request that never asked to switch (WebSocket on Bun.serve goes through websocket.ts)
      response.upgraded.destroy();
      return this.failed(new ProxyError(`upstream ${peer.addr} sent a bad response: 101 Switching Protocols to a request without Upgrade`, "bad_response", "upstream", false, this.reused, true));
    }
    // counted once the head arrived: a stale pooled connection that fails is not a reuse
    if (this.reused) up ? up.series.reused.inc() : proxyMetrics.reused.inc();
    else if (up) up.series.connect.observe(this.connectMs / 1000);
    else proxyMetrics.connect.observe(this.connectMs / 1000);
    const head = response.head;
    if (up && up.cfg.health.passive.unhealthy_status.includes(head.status)) up.recordFailure(peer, Date.now(), `status ${head.status}`);
    if (cr.upgrade && cr.upgrade.toLowerCase() === "websocket") {
      // as on Bun.serve's WebSocket bridge: a refused handshake is the upstream's failure
      discard(response);
      return this.finish(plain(502, `bad gateway: upstream ${peer.addr} refused the websocket upgrade (status ${head.status})\n`));
    }
    const r = this.respond(response, peer, ctx);
    if (r instanceof Promise) this.finishFiltered(r, response);
    else this.finish(r);
  }

  private finishFiltered(r: Promise<Reply>, response: UpstreamResponse): void {
    r.then((v) => this.finish(v), (e) => this.attemptThrew(e, response));
  }

  onFailure(e: ProxyError): void {
    this.connecting = false;
    this.cr.waiting = undefined;
    if (this.ended) return;
    try {
      this.failed(e);
    } catch (err) {
      this.fail(err);
    }
  }

  /** An attempt failed: another one (Pingora's retry rules), or the answer. */
  private failed(err: Error): void {
    this.lastErr = err;
    const rt = this.route.extra;
    const up = rt.upstream;
    const out: OutgoingRequest = this;
    const peer = this.peer!;
    // the client's upload failed: not the upstream's fault, so no passive-health failure
    if (this.tooBig || this.body?.failed) return this.finish(this.uploadFailed());
    if (this.cr.gone) {
      // neither an upstream failure (health, error metrics) nor a reason to retry
      this.env.log.debug(`proxy: ${out.method} ${out.target} → ${peer.addr}: client closed the request (499)`);
      return this.finish(clientLeft(this.body));
    }
    const pe = err instanceof ProxyError ? err : undefined;
    proxyMetrics.upstreamErrors.inc({ upstream: up?.name ?? "-", server: peer.addr, kind: pe?.kind ?? "internal" });
    const stale = pe?.reused && pe.retryable;
    if (!stale) {
      (this.tried ??= new Set()).add(peer);
      up?.recordFailure(peer, Date.now(), err.message);
    }
    let retry = isRetryable(pe, out.method);
    const hooks = rt.hooks;
    if (hooks?.failToConnect && pe && (pe.kind === "connect" || pe.kind === "connect_timeout") && hooks.failToConnect(this.ctx!, err) === false) retry = false;
    this.env.log.warn(`proxy: ${out.method} ${out.target} → ${peer.addr} (attempt ${this.attempt + 1}): ${err.message}${retry && this.attempt < this.maxRetries ? "; retrying" : ""}`);
    if (!retry) return this.giveUp();
    if (this.body && !this.body.replayable) {
      this.lastErr = new ProxyError(`request body is larger than the retry buffer (${up?.cfg.retry_buffer_size} bytes) and cannot be replayed`, "body_not_replayable", "internal", false);
      return this.giveUp();
    }
    if (this.attempt >= this.maxRetries) return this.giveUp();
    proxyMetrics.retries.inc({ upstream: up?.name ?? "-", reason: pe?.kind ?? "error" });
    this.attempt++;
    const backoff = up && up.cfg.retry_backoff > 0 ? up.cfg.retry_backoff * 1000 * 2 ** (this.attempt - 1) : 0;
    if (backoff > 0) setTimeout(() => this.guard(this.next), backoff);
    else this.next();
  }

  /** No attempt left: the errorWhileProxy hook's answer, or 502/504 (the route's error page when it has one). */
  private giveUp(): void {
    const rt = this.route.extra;
    const lastErr = this.lastErr;
    this.body?.cancel();
    if (this.ctx) this.ctx.error = lastErr?.message;
    const status = statusFor(lastErr);
    const page = () => errorPage(rt, status, `${status === 504 ? "upstream timed out" : "bad gateway"}: ${lastErr?.message ?? "no upstream"}\n`);
    const hook = rt.hooks?.errorWhileProxy;
    if (!hook || !lastErr) return this.finish(page());
    Promise.resolve(hook(this.ctx!, lastErr)).then((r) => this.finish(r || page()), (e) => this.fail(e));
  }

  /** The client's upload failed (over the limit, or the client left): 413 or 400. */
  private uploadFailed(): Response {
    const body = this.body!;
    body.cancel();
    if (this.tooBig) return errorPage(this.route.extra, 413, `request body too large (limit ${this.limit} bytes)\n`);
    return plain(400, `request body could not be read: ${body.failed!.message}\n`);
  }

  /** The client's response from the upstream's; a promise only when a responseFilter hook runs. */
  private respond(response: UpstreamResponse, peer: Peer, ctx: HookContext | undefined): Reply | Promise<Reply> {
    const { head, body, trailers } = response;
    const route = this.route;
    const facts = this.prepared;
    const rt = route.extra;
    const { status, statusText } = head;
    const up = rt.upstream;
    const stick = up?.cfg.balance === "cookie" && cookieValue(facts.headers.get("cookie"), up.cfg.cookie.name) !== peer.id;
    if (ctx) ctx.status = status;
    // nothing to change: the upstream's response goes on as it is (the same object)
    if (rt.resOps.empty && !stick && !rt.hooks?.responseFilter && route.cfg.compress.length === 0) return response;
    // `forward` holds the end-to-end headers only (the parser dropped hop-by-hop and framing ones)
    const headers = new Headers(forwardHeaders(head));
    applyHeaderOps(headers, rt.resOps);
    if (stick) {
      const c = up!.cfg.cookie;
      headers.append("set-cookie", `${c.name}=${peer.id}; Path=/; HttpOnly; SameSite=Lax${c.max_age > 0 ? `; Max-Age=${Math.round(c.max_age)}` : ""}`);
    }
    if (rt.hooks?.responseFilter) return this.filtered(rt.hooks.responseFilter, ctx!, body, status, statusText, headers);
    // trailer fields are not run through response_headers: with edits, they are not passed on
    if (route.cfg.compress.length === 0) return { status, statusText, head, headers, body, trailers: rt.resOps.empty ? trailers : undefined };
    return this.compressed(body, status, statusText, headers);
  }

  private filtered(hook: NonNullable<ProxyHooks["responseFilter"]>, ctx: HookContext, body: Uint8Array | ReadableStream<Uint8Array> | null, status: number, statusText: string, headers: Headers): Promise<Reply> {
    return Promise.resolve(hook(ctx, headers)).then(() => this.compressed(body, status, statusText, headers));
  }

  /** Compression (when the route offers it and the client accepts it), then the Response. */
  private compressed(body: Uint8Array | ReadableStream<Uint8Array> | null, status: number, statusText: string, headers: Headers): Response {
    const route = this.route;
    const offered = route.cfg.compress;
    if (offered.length > 0 && body !== null) {
      headers.append("vary", "Accept-Encoding");
      const enc = negotiate(this.prepared.headers.get("accept-encoding"), offered);
      const sizeOk = !(body instanceof Uint8Array) || body.byteLength >= route.cfg.compress_min_size;
      if (enc && sizeOk && shouldCompress(status, headers, route.cfg.compress_min_size)) {
        headers.set("content-encoding", enc);
        headers.delete("content-length");
        return new Response(compressBody(body, enc), { status, statusText, headers });
      }
    }
    return new Response(body, { status, statusText, headers });
  }

  /** A step run from a promise or a timer: a throw ends the exchange with 500 instead of escaping. */
  private guard(step: () => void): void {
    try {
      step.call(this);
    } catch (e) {
      this.fail(e);
    }
  }
}

/** Header fields onto a head, but hop-by-hop ones and those the Connection header names. */
function copyFields(src: HeaderSource, out: HeadParts, named: ReadonlySet<string> | undefined): void {
  src.forEach((v, k) => {
    if (!HOP_REQ.has(k) && !named?.has(k)) out.line(k, v);
  });
}

/** Edited fields onto a head as the edits left them (Host went first). */
function copyEdited(edited: Headers, out: HeadParts): void {
  edited.forEach((v, k) => {
    if (k !== "host") out.line(k, v);
  });
}

/** The end-to-end fields with the route's request_headers edits applied; undefined when an edit's value is beyond latin1. */
function editedFields(src: HeaderSource, named: ReadonlySet<string> | undefined, rt: RouteRuntime): Headers | undefined {
  const edited = new Headers();
  src.forEach((v, k) => {
    if (!HOP_REQ.has(k) && !named?.has(k)) edited.append(k, v);
  });
  try {
    applyHeaderOps(edited, rt.reqOps);
  } catch {
    return undefined;
  }
  return edited;
}

/** An outcome nobody will write (the exchange already ended): its body stream cancelled, its tunnel closed. */
function discard(r: Reply | UpstreamResponse | undefined): void {
  if (!r || r instanceof Response) return;
  if (r.body instanceof ReadableStream) r.body.cancel().catch(() => {});
  r.upgraded?.destroy();
}
