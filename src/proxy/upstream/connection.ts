/**
 * One HTTP/1.1 connection to an upstream over Bun.connect (TCP, TLS or Unix socket), or for plain
 * connections to an IP address or Unix path under proxy.io native, over core/native/tcp.ts. It writes a
 * request with backpressure, parses the response incrementally, streams the body out with
 * backpressure (pausing the socket while the client is slow), and reports whether it can go back
 * to the keepalive pool. Measured faster than fetch for the proxy's upstream leg (docs/benchmarks-proxy.md).
 */
import type { Socket, SocketHandler } from "bun";
import { checkServerIdentity } from "node:tls";
import type { NestedLoop } from "../../core/native/nested-loop.ts";
import { connectNative, nativeConnectable, NativeSocket, type ByteSocket, type NativeHandlers } from "../../core/native/tcp.ts";
import { copyOut } from "../../core/bytes.ts";
import { ProxyError } from "../errors.ts";
import { staged } from "../head-parts.ts";
import type { Peer } from "./peer.ts";
import type { ConnectionPool } from "./pool.ts";
import { ResponseBody, type BodyProducer } from "./response-body.ts";
import { ChunkedDecoder, headEnd, isCacheable, MAX_RESPONSE_HEAD, parseHeadCached, type ResponseHead } from "./h1-parser.ts";

export interface UpstreamResponse {
  status: number;
  statusText: string;
  head: ResponseHead;
  /** Whole body already in hand (small responses), a stream, or null (no body). */
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  /** For 101 Switching Protocols: the raw connection, now owned by the caller. */
  upgraded?: H1Conn;
  /** A chunked body's trailer fields, filled in when the body ends (before the stream closes). */
  trailers?: { text: string };
  /** Unset here: an UpstreamResponse is passed on as the pipeline's reply (a Proxied) when nothing changes it. */
  headers?: Headers;
  extra?: Record<string, string>;
}

/** Every response in one shape (the pipeline may pass the object itself on as its reply: one object per request, not two). */
function upstreamResponse(head: ResponseHead, body: UpstreamResponse["body"], upgraded?: H1Conn, trailers?: { text: string }): UpstreamResponse {
  return { status: head.status, statusText: head.statusText, head, body, upgraded, trailers, headers: undefined, extra: undefined };
}

type Phase = "idle" | "head" | "body" | "done" | "closed";

/**
 * Told how the request in flight ends: its response head (with small bodies), or why none came.
 * Called synchronously from the socket's callbacks, so an implementation must not throw. An object
 * rather than a Promise: a promise and its resolving functions were a third of the garbage a
 * proxied request made (counted with bun:jsc heapStats), and a microtask hop each.
 */
export interface ResponseWaiter {
  /** The request starts on `conn` (`reused`: taken from the pool), before its head is written. */
  onStart(conn: H1Conn, reused: boolean, connectMs: number): void;
  onResponse(r: UpstreamResponse): void;
  onFailure(e: ProxyError): void;
}

/** A ResponseWaiter as a Promise, for callers that await (tests, benchmarks). */
export class ResponsePromise implements ResponseWaiter {
  readonly promise: Promise<UpstreamResponse>;
  conn?: H1Conn;
  reused = false;
  onResponse!: (r: UpstreamResponse) => void;
  onFailure!: (e: ProxyError) => void;
  constructor() {
    this.promise = new Promise((resolve, reject) => {
      this.onResponse = resolve;
      this.onFailure = reject;
    });
  }
  onStart(conn: H1Conn, reused: boolean): void {
    this.conn = conn;
    this.reused = reused;
  }
}

/**
 * Told once when a response head is still awaited at a tick of the shared ticker (within 100 ms
 * of the request), so that watching work (Bun.serve's req.signal: ~0.5 µs CPU per request,
 * measured) is paid only by requests whose upstream is slow.
 */
export interface HeadWatcher {
  onSlowHead(): void;
}

/*
 * read_timeout needs sub-second precision, but Bun's socket timeouts tick in 4 s steps (measured)
 * and a setTimeout per request costs on the hot path. So in-flight connections carry a deadline and
 * one shared 100 ms ticker checks them; it runs only while requests are in flight. Deadlines are set
 * from the ticker's own time (`tickNow`, read once per tick, as nginx caches its time per loop turn)
 * plus one tick, rather than reading the clock on every request and read: a timeout fires between
 * read_timeout and read_timeout + 200 ms (later when the loop itself was busy), never early.
 */
const TICK_MS = 100;
let tickNow = 0;
/** Bodies up to this size that came whole with their head are copied out of the read buffer (see onHeadBytes). */
const COPY_MAX = 4096;

/** Every open connection (idle ones have no deadline): kept from open to close, not per request, so a request costs no set insert and delete. */
const watched = new Set<H1Conn>();
/** Requests in flight over all connections: the ticker runs while there are any. */
let inFlight = 0;
let ticker: Timer | undefined;
function startTicker(): void {
  tickNow = performance.now();
  ticker = setInterval(tick, TICK_MS);
  ticker.unref?.();
}
/** A read_timeout deadline from now, by the ticker's time (see above). */
function deadlineIn(ms: number): number {
  return tickNow + ms + TICK_MS;
}
function tick(): void {
  const now = performance.now();
  // a loop that was busy past a tick set deadlines from a stale tickNow: they move by the delay, so none fires early
  const late = now - tickNow - TICK_MS;
  tickNow = now;
  if (late > 0) for (const c of watched) c.deadline += late;
  for (const c of watched) {
    if (c.deadline <= now) {
      watched.delete(c);
      c.onTimeout();
    } else if (c.headWatcher && c.phase === "head") {
      // waiting on the head across a tick: whoever waits may now watch its own client (HeadWatcher)
      const w = c.headWatcher;
      c.headWatcher = undefined;
      w.onSlowHead();
    }
  }
  if (inFlight === 0 && ticker) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

const handlers: SocketHandler<H1Conn> = {
  data: (s, d) => s.data.onData(d),
  drain: (s) => s.data.onDrain(),
  close: (s, err) => s.data.onClose(err),
  error: (s, err) => s.data.onClose(err),
  end: (s) => s.data.onClose(),
  timeout: (s) => s.data.onTimeout(),
  handshake: (s, ok, err) => s.data.onHandshake(ok, err),
};

/** The same failures on either I/O path (retryable: nothing was sent). */
const connectTimedOut = (peer: Peer) => new ProxyError(`connect to ${peer.addr} timed out after ${peer.options.connectionTimeoutMs} ms`, "connect_timeout", "upstream", true);
const connectFailed = (peer: Peer, e: unknown) => new ProxyError(`connect to ${peer.addr} failed: ${(e as Error).message}`, "connect", "upstream", true);

const nativeHandlers: NativeHandlers<H1Conn> = {
  data: (s, d) => s.data.onData(d),
  lent: (s, b, at, n) => s.data.onLent(b, at, n),
  drain: (s) => s.data.onDrain(),
  close: (s, err) => s.data.onClose(err),
  end: (s) => s.data.onClose(),
  timeout: (s) => s.data.onTimeout(),
};

export class H1Conn implements BodyProducer {
  sock!: ByteSocket;
  phase: Phase = "idle";
  /** Requests served so far; > 0 means the next one runs on a reused connection. */
  uses = 0;
  /** Where a reusable connection goes back when its response completes (set by sendOnce). */
  pool?: ConnectionPool;
  /** A request is in flight on this connection (counted in peer.active). */
  private busy = false;
  /** The request target, for the error log. */
  target = "";
  /** The pool holding this connection while idle, so a close can remove it. */
  idleIn?: ConnectionPool;
  private inbuf: Buffer | undefined;
  method = "GET";
  /** Who is told of the current request's response (see ResponseWaiter). */
  private waiter?: ResponseWaiter;
  /** The streamed body of the response in flight. */
  private body?: ResponseBody;
  private remaining = 0;
  private chunked?: ChunkedDecoder;
  /** The current request's taker of 103 Early Hints (see OutgoingRequest.onEarlyHints). */
  private onEarlyHints?: (head: ResponseHead) => void;
  /** Where the current response's trailers go (see UpstreamResponse.trailers). */
  private trailers?: { text: string };
  private drainWaiters: Array<() => void> = [];
  private outPending: Buffer | undefined;
  private handshakeDone?: (err?: Error) => void;
  private gotBytes = false;
  /** Request body still being written when the response completed: cannot be reused. */
  writing = false;
  /** Upgraded (101) connections forward raw bytes here (see startRaw). */
  private onRaw?: (d: Uint8Array) => void;
  private onRawClose?: () => void;
  /** After a 101: bytes that came before the new owner called startRaw. */
  private rawPending?: Uint8Array[];
  private closeAfter = false;
  private paused = false;
  /**
   * The last final head this connection parsed, with its bytes: an upstream repeats its head, and
   * comparing bytes creates no string (the parse cache's key is one, and a string per response was
   * the upstream leg's largest allocation, measured); a new Date once a second is a miss.
   */
  private lastHead?: { bytes: Buffer; isHead: boolean; head: ResponseHead };
  /** performance.now() past which the upstream counts as stalled (read_timeout; see deadlineIn). */
  deadline = Infinity;
  /** The current request's HeadWatcher (set by the pipeline; cleared once told or when the response ends). */
  headWatcher: HeadWatcher | undefined = undefined;

  /** The peer of the request in flight (or the last one): its load, timeouts and name apply. */
  constructor(public peer: Peer) {}

  /** Open a connection to `peer`, honouring connection_timeout and TLS verification; plain ones on `native` where it can. */
  static async open(peer: Peer, native?: NestedLoop): Promise<H1Conn> {
    const conn = new H1Conn(peer);
    const o = peer.options;
    if (native && !peer.tls && nativeConnectable({ host: peer.host, unix: peer.unix, localAddress: o.bindTo })) {
      try {
        const at = { host: peer.host, port: peer.port, unix: peer.unix, localAddress: o.bindTo, timeoutMs: o.connectionTimeoutMs };
        conn.sock = await connectNative(native, at, nativeHandlers, conn);
      } catch (e) {
        throw (e as { deadline?: boolean }).deadline ? connectTimedOut(peer) : connectFailed(peer, e);
      }
      watched.add(conn);
      conn.sock.setNoDelay(true);
      return conn;
    }
    const base: any = { socket: handlers, data: conn };
    if (peer.unix) base.unix = peer.unix;
    else {
      base.hostname = peer.host;
      base.port = peer.port;
    }
    if (o.bindTo) base.localAddress = o.bindTo;
    if (peer.tls) base.tls = { serverName: peer.tls.sni, rejectUnauthorized: false, ca: peer.tls.ca, cert: peer.tls.cert, key: peer.tls.key };
    const handshake = peer.tls ? new Promise<Error | undefined>((r) => (conn.handshakeDone = r)) : undefined;
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(connectTimedOut(peer)), o.connectionTimeoutMs);
    });
    try {
      conn.sock = await Promise.race([Bun.connect(base) as Promise<Socket<H1Conn>>, timeout]);
    } catch (e) {
      clearTimeout(timer);
      throw e instanceof ProxyError ? e : connectFailed(peer, e);
    }
    clearTimeout(timer);
    // watched from now until its close (it may have closed already while the connect settled)
    if (conn.phase !== "closed") watched.add(conn);
    conn.sock.setNoDelay?.(true);
    if (handshake) {
      let t2: Timer | undefined;
      const err = await Promise.race([
        handshake,
        new Promise<Error>((r) => (t2 = setTimeout(() => r(new Error(`TLS handshake timed out after ${o.totalConnectionTimeoutMs} ms`)), o.totalConnectionTimeoutMs))),
      ]);
      clearTimeout(t2);
      if (err) {
        conn.destroy();
        throw new ProxyError(`TLS to ${peer.addr} failed: ${err.message}`, "tls", "upstream", false);
      }
    }
    return conn;
  }

  onHandshake(ok: boolean, authErr: Error | null): void {
    const tls = this.peer.tls!;
    let err: Error | undefined;
    // Bun folds a host-name mismatch into the authorization error; names are checked below instead,
    // so verify_hostname: false and alternative_cn work
    const nameErr = authErr && ((authErr as any).code === "ERR_TLS_CERT_ALTNAME_INVALID" || /altnames/.test(authErr.message));
    if (!ok && !authErr) err = new Error("handshake failed");
    else if (tls.verifyCert && authErr && !nameErr) err = authErr;
    else if (tls.verifyHostname && tls.verifyCert) {
      const cert = (this.sock as Socket<H1Conn>).getPeerCertificate() as any;
      const bad = checkServerIdentity(tls.sni, cert);
      if (bad && (!tls.alternativeCn || checkServerIdentity(tls.alternativeCn, cert))) err = bad;
    }
    this.handshakeDone?.(err);
    this.handshakeDone = undefined;
  }

  get alive(): boolean {
    return this.phase !== "closed";
  }

  /** Write bytes, resolving once the socket took them all (write_timeout applies while waiting). */
  write(data: string | Uint8Array): Promise<void> | undefined {
    if (this.phase === "closed") return Promise.reject(this.closedError("write"));
    if (this.outPending) {
      const b = typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      this.outPending = Buffer.concat([this.outPending, b]);
      return this.waitDrain();
    }
    const len = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
    const n = this.sock.write(data);
    if (n >= len) return undefined;
    const b = typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.outPending = b.subarray(Math.max(n, 0));
    return this.waitDrain();
  }

  /** The n bytes HeadParts staged, as `write` (the staging buffer is reused: see writeBorrowed). */
  writeStaged(n: number): Promise<void> | undefined {
    return this.writeBorrowed(staged(), 0, n) ? undefined : this.drained();
  }

  /**
   * Bytes the caller reuses (a relayed client read): written, and what the socket does not take
   * copied to wait for the drain — then false (wait on `drained`).
   */
  writeBorrowed(buf: Uint8Array, at: number, n: number): boolean {
    if (this.phase === "closed") return false;
    if (this.outPending) {
      this.outPending = Buffer.concat([this.outPending, buf.subarray(at, at + n)]);
      return false;
    }
    const w = Math.max(this.sock.write(buf, at, n), 0);
    if (w >= n) return true;
    this.outPending = copyOut(buf, at + w, n - w);
    return false;
  }

  /** Settles once what the socket did not take is written (write_timeout applies); rejects when the connection is closed. */
  drained(): Promise<void> {
    if (this.phase === "closed") return Promise.reject(this.closedError("write"));
    return this.outPending ? this.waitDrain() : Promise.resolve();
  }

  private waitDrain(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        const e = new ProxyError(`upstream ${this.peer.addr} did not accept request bytes within ${this.peer.options.writeTimeoutMs} ms`, "write_timeout", "upstream", false, this.uses > 1, true);
        // the response side reports this reason, not a generic "closed"
        this.failHead(e);
        reject(e);
      }, this.peer.options.writeTimeoutMs);
      this.drainWaiters.push(() => {
        clearTimeout(t);
        if (this.phase === "closed") reject(this.closedError("write"));
        else resolve();
      });
    });
  }

  onDrain(): void {
    if (this.outPending) {
      const n = this.sock.write(this.outPending);
      if (n < this.outPending.length) {
        this.outPending = this.outPending.subarray(Math.max(n, 0));
        return;
      }
      this.outPending = undefined;
    }
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  /**
   * Start waiting for a response to a request whose head is about to be written. `selected` is the
   * peer the balancer chose (same pool key, maybe another object: pooled connections outlive a
   * reload's Peer objects, and a server may sit in two upstreams): the connection adopts it, so the
   * request counts in its load and runs under its timeouts.
   */
  expectResponse(method: string, target: string, selected: Peer, onEarlyHints: ((head: ResponseHead) => void) | undefined, waiter: ResponseWaiter): void {
    this.onEarlyHints = onEarlyHints;
    this.method = method;
    this.target = target;
    this.busy = true;
    this.peer = selected;
    selected.active++;
    this.phase = "head";
    this.gotBytes = false;
    this.closeAfter = false;
    this.uses++;
    this.sock.timeout(0);
    this.lend(true);
    inFlight++;
    if (!ticker) startTicker();
    this.deadline = deadlineIn(this.peer.options.readTimeoutMs);
    this.waiter = waiter;
  }

  onData(d: Uint8Array): void {
    this.gotBytes = true;
    if (this.deadline !== Infinity) this.deadline = deadlineIn(this.peer.options.readTimeoutMs);
    if (this.rawPending) return void this.rawPending.push(d);
    if (this.onRaw) return this.onRaw(d);
    if (this.phase === "head") return this.onHeadBytes(d);
    if (this.phase === "body") return this.onBodyBytes(d, 0, d.byteLength, true);
    // bytes while idle or after a complete response: the connection is out of sync
    this.destroy();
  }

  /**
   * A native read lent (see lend: while a head is awaited, and while a body is relayed): body bytes
   * are passed on, the upstream's last head again with its small body is answered from the read,
   * anything else is copied first.
   */
  onLent(buf: Buffer, at: number, n: number): void {
    if (this.phase === "head" && !this.inbuf && this.repeatedHead(buf, at, n)) return;
    if (this.phase !== "body" || this.rawPending || this.onRaw) return this.onData(copyOut(buf, at, n));
    this.gotBytes = true;
    if (this.deadline !== Infinity) this.deadline = deadlineIn(this.peer.options.readTimeoutMs);
    this.onBodyBytes(buf, at, n, false);
  }

  /**
   * The response in buf[at, at + n) is the last head again with its whole body (up to COPY_MAX, or
   * none): answered with only the body copied out — the read itself is not (a Buffer per response
   * was a third of a proxied request's byte arrays). False for anything else (onData then).
   */
  private repeatedHead(buf: Buffer, at: number, n: number): boolean {
    const last = this.lastHead;
    if (!last || last.isHead !== (this.method === "HEAD")) return false;
    const end = last.bytes.length;
    const head = last.head;
    const f = head.framing;
    const rest = n - end;
    if (rest < 0 || (f.kind === "length" ? rest !== f.length || rest > COPY_MAX : f.kind !== "none" || rest !== 0)) return false;
    if (buf.compare(last.bytes, 0, end, at, at + end) !== 0) return false;
    this.gotBytes = true;
    this.headWatcher = undefined;
    this.closeAfter = head.close;
    const waiter = this.waiter!;
    this.waiter = undefined;
    const body = f.kind === "length" ? copyOut(buf, at + end, rest) : null;
    this.finish(true);
    waiter.onResponse(upstreamResponse(head, body));
    return true;
  }

  private onHeadBytes(d: Uint8Array): void {
    // Bun.connect hands data callbacks a Buffer already (binaryType "buffer"): no wrapping needed
    const buf = this.inbuf ? Buffer.concat([this.inbuf, d]) : (d as Buffer);
    const end = headEnd(buf);
    if (end < 0 || end > MAX_RESPONSE_HEAD) {
      if (buf.length > MAX_RESPONSE_HEAD) this.failHead(new ProxyError(`upstream ${this.peer.addr} sent a response head over ${MAX_RESPONSE_HEAD} bytes`, "bad_response", "upstream", false, this.uses > 1, true));
      else this.inbuf = buf;
      return;
    }
    this.inbuf = undefined;
    let head: ResponseHead;
    const last = this.lastHead;
    if (last && last.bytes.length === end && last.isHead === (this.method === "HEAD") && buf.compare(last.bytes, 0, end, 0, end) === 0) head = last.head;
    else {
      try {
        head = parseHeadCached(buf.toString("latin1", 0, end - 4), this.method);
      } catch (e) {
        return this.failHead(new ProxyError(`upstream ${this.peer.addr} sent a bad response: ${(e as Error).message}`, "bad_response", "upstream", false, this.uses > 1, true));
      }
      if (isCacheable(head, end)) this.lastHead = { bytes: copyOut(buf, 0, end), isHead: this.method === "HEAD", head };
    }
    // the final head is here: whoever watched for a slow one lets go (a long body must not keep it alive)
    if (head.status >= 200 || head.status === 101) this.headWatcher = undefined;
    // what follows the head is viewed only when needed: a view of Bun's read buffer costs mallocs (see copyOut)
    const restLength = buf.length - end;
    if (head.status === 101) {
      this.phase = "done";
      this.deadline = Infinity;
      watched.delete(this);
      const waiter = this.waiter!;
      this.waiter = undefined;
      // the new owner takes over later (startRaw): hold what arrives until then
      this.rawPending = restLength > 0 ? [buf.subarray(end)] : [];
      waiter.onResponse(upstreamResponse(head, null, this));
      return;
    }
    if (head.status < 200) {
      // 100 Continue / 103 Early Hints: skip to the final response (hints go to whoever asked)
      if (head.status === 103) this.onEarlyHints?.(head);
      if (restLength > 0) this.onHeadBytes(buf.subarray(end));
      return;
    }
    this.closeAfter = head.close;
    const waiter = this.waiter!;
    this.waiter = undefined;
    const f = head.framing;
    if (f.kind === "none") {
      this.finish(restLength === 0);
      return waiter.onResponse(upstreamResponse(head, null));
    }
    if (f.kind === "length" && restLength >= f.length) {
      // the whole body arrived with the head (small responses): handed over as bytes, which keeps
      // Content-Length downstream; copied out rather than viewed (see copyOut)
      const body = f.length <= COPY_MAX ? copyOut(buf, end, f.length) : buf.subarray(end, end + f.length);
      this.finish(restLength === f.length);
      return waiter.onResponse(upstreamResponse(head, body));
    }
    this.phase = "body";
    this.lend(false); // a relay lends again (ResponseBody.relay); a streamed body's bulk reads are its own
    this.remaining = f.kind === "length" ? f.length : 0;
    this.chunked = f.kind === "chunked" ? new ChunkedDecoder() : undefined;
    const trailers = this.chunked ? (this.trailers = { text: "" }) : undefined;
    // a length-framed body reaches the client as it came: a front may relay it (see response-body.ts)
    const body = (this.body = new ResponseBody(this, f.kind === "length"));
    // the bytes that came with the head go in first: the waiter runs synchronously and may end this
    // connection (a client gone cancels the stream)
    if (restLength > 0) this.onBodyBytes(buf, end, restLength, true);
    waiter.onResponse(upstreamResponse(head, body.stream, undefined, trailers));
  }

  /**
   * Body bytes, passed on as they came: Bun hands every data callback a fresh buffer (measured: 41
   * chunks, 41 distinct backing buffers, none rewritten), so only a lent read (`owned` false) is
   * copied, and only if it is queued rather than relayed.
   */
  private onBodyBytes(d: Uint8Array, at: number, n: number, owned: boolean): void {
    const body = this.body;
    let complete = false;
    let extra = false;
    let go = true;
    if (this.chunked) {
      const out: Uint8Array[] = [];
      try {
        extra = this.chunked.push(at === 0 && n === d.byteLength ? d : d.subarray(at, at + n), out) !== undefined;
      } catch (e) {
        return this.failBody(new Error(`upstream ${this.peer.addr} sent a bad chunked body: ${(e as Error).message}`));
      }
      for (const c of out) go = (body?.push(c, 0, c.byteLength, owned) ?? true) && go;
      complete = this.chunked.done;
    } else if (this.remaining > 0) {
      const k = Math.min(this.remaining, n);
      go = body?.push(d, at, k, owned) ?? true;
      this.remaining -= k;
      complete = this.remaining === 0;
      extra = k < n;
    } else go = body?.push(d, at, n, owned) ?? true; // read-until-close body
    // the push may have ended this connection (a relay's client gone, a failed write)
    if (this.phase !== "body") return;
    if (complete) {
      if (this.chunked && this.trailers) this.trailers.text = this.chunked.trailers;
      this.trailers = undefined;
      this.body = undefined;
      body?.end();
      this.finish(!extra);
    } else if (!go) this.pause(); // the client reads slower than the upstream sends
  }

  /** Stop reading the body (a slow client is not a stalled upstream: no read_timeout meanwhile). */
  pause(): void {
    if (this.paused || this.phase !== "body") return;
    this.paused = true;
    this.deadline = Infinity;
    this.sock.pause();
  }

  resume(): void {
    if (!this.paused || this.phase !== "body") return;
    this.paused = false;
    this.deadline = deadlineIn(this.peer.options.readTimeoutMs);
    this.sock.resume();
  }

  /** The body's reader left: this connection is mid-body, so it cannot be reused. */
  cancel(): void {
    this.body = undefined;
    this.destroy();
  }

  lend(on: boolean): void {
    if (this.sock instanceof NativeSocket) this.sock.lend = on;
  }

  /** The response is complete: back to idle (reusable) or closed. */
  private finish(clean: boolean): void {
    this.phase = "done";
    if (this.paused) this.sock.resume();
    this.paused = false;
    this.lend(false);
    // a pooled connection must not keep the last client's callback (and its connection) alive
    this.onEarlyHints = undefined;
    this.headWatcher = undefined;
    this.deadline = Infinity;
    const reusable = clean && !this.closeAfter && !this.writing && this.peer.options.idleTimeoutMs > 0;
    if (!reusable) this.destroy();
    else this.phase = "idle";
    this.release(reusable);
  }

  /** This request is over on the connection: uncount it, and pool the connection if it may be reused. */
  private release(reusable: boolean): void {
    if (!this.busy) return;
    this.busy = false;
    inFlight--;
    this.peer.active--;
    if (reusable) this.pool?.put(this);
  }

  /**
   * After a 101: from now on bytes from the upstream go to `onData` and its close to `onClose`
   * (called at once when it already closed). Bytes held since the 101 are delivered first.
   */
  startRaw(onData: (d: Uint8Array) => void, onClose: () => void): void {
    this.onRaw = onData;
    this.onRawClose = onClose;
    const held = this.rawPending ?? [];
    this.rawPending = undefined;
    for (const d of held) onData(d);
    if (this.phase === "closed") onClose();
  }

  onTimeout(): void {
    if (this.phase === "head") {
      this.failHead(new ProxyError(`upstream ${this.peer.addr} sent no response within ${this.peer.options.readTimeoutMs} ms`, "read_timeout", "upstream", false, this.uses > 1, true));
    } else if (this.phase === "body") this.failBody(new Error(`upstream ${this.peer.addr} stalled mid-body for ${this.peer.options.readTimeoutMs} ms`));
    else this.destroy(); // idle in the pool past idle_timeout
  }

  /**
   * The client left while this request waited for the response head (nginx's
   * proxy_ignore_client_abort off): the connection is closed — mid-request, it cannot be pooled —
   * which uncounts the request from peer.active, and the wait fails with client_closed (never
   * retried). Later phases are not touched: a body being streamed ends through its stream's cancel.
   */
  abandon(): void {
    if (this.phase !== "head") return;
    this.failHead(new ProxyError(`client closed the connection while waiting for ${this.peer.addr}`, "client_closed", "downstream", false, this.uses > 1, true));
  }

  onClose(err?: Error): void {
    if (this.phase === "closed") return;
    const was = this.phase;
    this.phase = "closed";
    watched.delete(this);
    this.headWatcher = undefined;
    const waiter = this.waiter;
    this.waiter = undefined;
    if (was === "body") {
      if (!this.chunked && this.remaining === 0 && this.body) {
        // read-until-close body: a close is the normal end
        this.body.end();
        this.body = undefined;
      } else this.failBody(new Error(`upstream ${this.peer.addr} closed the connection mid-body`));
    }
    for (const f of this.drainWaiters.splice(0)) f();
    this.idleIn?.remove(this);
    this.onRawClose?.();
    this.release(false);
    // told last, once the connection is uncounted: the waiter may retry at once (least_conn reads the counts)
    if (was === "head") {
      // nothing received on a reused connection: the upstream closed it while idle (stale), retry
      const stale = this.uses > 1 && !this.gotBytes;
      waiter?.onFailure(new ProxyError(`upstream ${this.peer.addr} closed the connection before responding${err ? `: ${err.message}` : ""}`, "closed", "upstream", stale, this.uses > 1, true));
    }
  }

  private failHead(e: ProxyError): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    this.destroy();
    waiter?.onFailure(e);
  }

  private failBody(e: Error): void {
    const body = this.body;
    this.body = undefined;
    // a failed body makes the front cut the client's connection without the final chunk, so the
    // client sees a truncated body, never a fake complete one
    if (body) this.onBodyError?.(this, e);
    body?.fail();
    this.destroy();
  }

  /** Told when the response body failed after the head was passed on (for the error log). */
  onBodyError?: (conn: H1Conn, e: Error) => void;

  private closedError(what: string): ProxyError {
    return new ProxyError(`upstream ${this.peer.addr} connection closed during ${what}`, "closed", "upstream", this.uses > 1 && !this.gotBytes, this.uses > 1, true);
  }

  destroy(): void {
    if (this.phase !== "closed") {
      try {
        this.sock?.terminate();
      } catch {}
      this.onClose();
    }
  }
}
