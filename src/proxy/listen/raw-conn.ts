/**
 * One client connection of the raw front (./raw-front.ts): requests answered one at a time
 * (pipelined ones wait in `buf`), bodies streamed with backpressure, an Upgrade turned into a byte
 * tunnel to the upstream, or the whole connection passed through to the internal Bun.serve.
 */
import type { Socket } from "bun";
import { NativeSocket, type ByteSocket } from "../../core/native/tcp.ts";
import { STATUS_CODES } from "node:http";
import { clientGone, ProxyHandler, type ClientRequest } from "../handler.ts";
import type { ReplySink } from "../exchange.ts";
import type { Proxied, Reply } from "../reply.ts";
import { proxyMetrics } from "../metrics.ts";
import type { H1Conn } from "../upstream/connection.ts";
import { ChunkedDecoder, type ResponseHead } from "../upstream/h1-parser.ts";
import { relayOf, type RelaySink, type ResponseBody } from "../upstream/response-body.ts";
import { relayableBody, type ClientBodyRelay } from "../upstream/body-source.ts";
import type { RawFront } from "./raw-front.ts";
import { parseRequest, withFields, type RawHeaders, type RequestHead } from "./request-head.ts";
import { copyOut } from "../../core/bytes.ts";
import { HeadParts, staged } from "../head-parts.ts";
import { formatStatusLine, forwardText, httpDate, latin1, statusLine, upstreamPrefix } from "./response-head.ts";

const CRLF2 = Buffer.from("\r\n\r\n");
const LFLF = Buffer.from("\n\n");
const CRLF = Buffer.from("\r\n");
const LAST_CHUNK = Buffer.from("0\r\n\r\n");
/** The bytes that tell a closed client from a half-closed one (see onEnd). */
const PROBE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n");
/** The longest chunk-size line (with extensions) or trailer line a client may send. */
const CHUNK_LINE_MAX = 1024;
/** Input held while a request is answered (pipelined requests, an unread body) before reading pauses. */
const MAX_HELD = 256 * 1024;
/** Request body bytes the stream holds for a slow reader before the socket pauses. */
const BODY_HWM = 64 * 1024;
/** Request heads up to this size are remembered for reuse (see parseHead); most heads are well under it. */
const MAX_REUSED_HEAD = 4096;
/** Connection-level response headers the front writes itself. */
const OWN = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

const tunnelHandlers = {
  data: (t: Socket<RawConn>, d: Buffer) => t.data.fromTunnel(d),
  drain: (t: Socket<RawConn>) => t.data.onTunnelDrain(),
  end: (t: Socket<RawConn>) => t.data.onTunnelClose(),
  close: (t: Socket<RawConn>) => t.data.onTunnelClose(),
  error: (t: Socket<RawConn>) => t.data.onTunnelClose(),
};

/** The head of every upstream answer: built and staged without a pause, so one serves them all. */
const REPLY_HEAD = new HeadParts();

/** A response's edited header fields onto its head (the upstream's Server dropped when the proxy sets its own). */
function addEdited(h: HeadParts, headers: Headers, ownServer: boolean): void {
  headers.forEach((v, k) => {
    if (!(ownServer && k === "server")) h.line(k, v);
  });
}

/**
 * An upstream body relayed to the client: each read is written while it is lent (no stream, no
 * buffer per read); what the client does not take is copied and the upstream waits for the drain.
 */
class ClientRelay implements RelaySink {
  private done!: (ok: boolean) => void;
  readonly finished = new Promise<boolean>((r) => (this.done = r));
  constructor(
    private readonly conn: RawConn,
    readonly source: ResponseBody,
  ) {}
  body(buf: Uint8Array, at: number, n: number): boolean {
    return this.conn.writeBorrowed(buf, at, n);
  }
  end(ok: boolean): void {
    this.done(ok);
  }
}

/** One client connection: a request at a time (pipelined ones wait in `buf`), or a tunnel. */
export class RawConn implements ReplySink {
  private buf: Buffer | undefined;
  /** A request is being answered. */
  private busy = false;
  private dead = false;
  /** Close once the current response is written. */
  private closing = false;
  private served = 0;
  /** RawFront.tick of the last progress (client bytes, drained writes, a finished response). */
  private seen = 0;
  /** RawFront.tick when the head being received began (a head must complete within client_timeout). */
  private headSince: number | undefined;
  /** Empty-line bytes dropped before the current request line. */
  private blank = 0;
  /** The client half-closed: answer the requests already received, then close. */
  private ended = false;
  /** An answer went out before its body was read: the rest is read and dropped until this tick, then close. */
  private lingerUntil: number | undefined;
  private paused = false;
  /** The request head being answered (its method and version shape the answer). */
  private reqHead?: RequestHead;
  /** The request the pipeline is working on, until its answer is about to be written (clientGone when the client leaves). */
  private cr: ClientRequest | undefined;
  /** That request may get an interim 1xx (HTTP/1.1; RFC 9110 §15.2 forbids them for HTTP/1.0). */
  private interimOk = false;
  // the request body in flight
  private bodyLeft = 0;
  private bodyCtrl?: ReadableStreamDefaultController<Uint8Array>;
  private bodyDiscard = false;
  /** The request body is chunked: its decoder (until the last chunk). */
  private chunkedIn: ChunkedDecoder | undefined;
  /** Where the rest of the request body goes instead of its stream (see bodyRelay). */
  private bodySink?: RelaySink;
  // output not yet taken by the socket
  private out: Buffer | undefined;
  private drainWaiters: Array<() => void> = [];
  private reader?: { cancel(): Promise<void> };
  /** The response body being relayed (see ClientRelay). */
  private relay?: ClientRelay;
  /** After a 101: the upstream connection the bytes go to. */
  private upgraded?: H1Conn;
  // pass-through
  private tunnelMode = false;
  private tunnel?: Socket<RawConn>;
  private tunnelQueue: Buffer[] = [];
  private tunnelOut: Buffer | undefined;
  private tunnelPort = 0;

  constructor(
    private readonly front: RawFront,
    private readonly sock: ByteSocket,
  ) {
    sock.setNoDelay?.(true);
    this.seen = front.tick;
  }

  onData(d: Buffer): void {
    this.seen = this.front.tick;
    if (this.tunnelMode) return this.toTunnel(d);
    if (this.upgraded) return this.toUpstream(d);
    if (this.bodyLeft > 0 && (this.bodyCtrl || this.bodyDiscard)) {
      const rest = this.feedBody(d);
      if (!rest) return;
      d = rest;
    }
    this.buf = this.buf ? Buffer.concat([this.buf, d]) : d;
    if (!this.busy) this.next();
    else if (this.buf.length > MAX_HELD) this.pause();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.sock.pause();
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.sock.resume();
  }

  /** Parse the next request in `buf` and answer it (or pass the connection through). */
  private next(): void {
    const buf = this.buf;
    if (!buf || this.dead || this.closing) return;
    const max = this.front.cfg.max_header_size;
    // RFC 9112 §2.2: empty lines before a request line are ignored — and dropped, so they cannot
    // grow the buffer; more than a head's worth of them is not a client that means well
    let start = 0;
    while (start + 1 < buf.length && buf[start] === 13 && buf[start + 1] === 10) start += 2;
    this.blank += start;
    if (this.blank > max) return this.refuse(400, "bad request: too many empty lines before the request line\n");
    const end = buf.indexOf(CRLF2, start);
    if (end < 0 || end + 4 - start > max) {
      if (end >= 0 || buf.length - start > max) return this.refuse(431, `request header fields too large (limit ${max} bytes)\n`);
      // lines ended by a bare LF never make CRLFCRLF: answer instead of waiting for the timeout
      if (buf.indexOf(LFLF, start) >= 0) return this.refuse(400, "bad request: header lines must end with CRLF\n");
      if (start === buf.length) {
        this.buf = undefined; // only empty lines (a stray CRLF after a body): still idle, no head begun
        return;
      }
      this.buf = start > 0 ? buf.subarray(start) : buf;
      // a head trickling in (slowloris) gets client_timeout in all, not per byte
      this.headSince ??= this.front.tick;
      return;
    }
    this.headSince = undefined;
    this.blank = 0;
    const head = this.parseHead(buf, start, end);
    if (typeof head === "string") return this.refuse(400, `bad request: ${head}\n`);
    const cfg = this.front.cfg;
    if (head.passThrough || (cfg.max_body_size > 0 && head.length > cfg.max_body_size)) return this.startTunnel();
    const handler = this.front.o.rt.handler!;
    const cr: ClientRequest = {
      method: head.method,
      target: head.target,
      headers: head.headers,
      peerIp: this.sock.remoteAddress,
      body: this.bodyFn,
      upgrade: head.upgrade,
      // set below once the route is known; declared here so every request object has one shape
      earlyHints: undefined,
      gone: false,
      waiting: undefined,
      onSlowHead: undefined,
    };
    const p = handler.prepare(cr);
    // 103s go out as the upstream sent them: not to HTTP/1.0 clients (no 1xx, RFC 9110 §15.2) and
    // not on routes that edit response headers (the hints would carry what the edits remove)
    if (!head.http10 && (p.route?.extra.resOps.empty ?? true)) cr.earlyHints = this.earlyHints;
    if (!ProxyHandler.rawServable(p.route)) return this.startTunnel();
    this.buf = end + 4 < buf.length ? buf.subarray(end + 4) : undefined;
    // a chunked body's length is unknown until its last chunk: "left" is everything until then
    this.chunkedIn = head.chunked ? new ChunkedDecoder(CHUNK_LINE_MAX) : undefined;
    this.bodyLeft = head.chunked ? Number.MAX_SAFE_INTEGER : head.length > 0 ? head.length : 0;
    this.bodyCtrl = undefined;
    this.bodyDiscard = false;
    this.busy = true;
    this.served++;
    if (head.close) this.closing = true;
    this.cr = cr;
    this.reqHead = head;
    this.interimOk = !head.http10;
    handler.process(cr, p, this.front.info, this);
  }

  /**
   * The head in buf[start, end), reusing the last one's parse when the client sent the same bytes
   * again (keep-alive clients repeat their heads: API polling, health checks, load generators), or
   * the last one's fields when only the request line is new (a client walking paths with the same
   * headers). Comparing bytes creates no string; parsing was the front's largest cost per
   * request (measured). A parsed head or fields are only added to (values cut out of a head's bytes
   * when first read), so sharing them is safe.
   */
  private parseHead(buf: Buffer, start: number, end: number): RequestHead | string {
    const n = end - start;
    const last = this.lastHead;
    if (last && last.bytes.length === n && buf.compare(last.bytes, 0, n, start, end) === 0) {
      last.reused = true;
      return last.head;
    }
    let eol = buf.indexOf(CRLF, start);
    if (eol < 0 || eol > end) eol = end;
    const fieldsAt = Math.min(eol + 2, end);
    if (last && end - fieldsAt === last.bytes.length - last.fieldsAt && buf.compare(last.bytes, last.fieldsAt, last.bytes.length, fieldsAt, end) === 0) {
      last.reused = true;
      const head = withFields(buf, start, eol, last.head.headers, this.spareHead);
      if (typeof head !== "string") this.spareHead = head;
      return head;
    }
    // a client whose heads never repeat would pay a copy per request for nothing: after a head
    // that was not reused, only every 8th new head is remembered. A remembered head is parsed from
    // its copy, so what its fields reference does not pin the read buffer.
    const keep = n <= MAX_REUSED_HEAD && (!last || last.reused || (++this.unreused & 7) === 0);
    const bytes = keep ? copyOut(buf, start, n) : buf;
    const parsed = keep ? parseRequest(bytes, 0, n) : parseRequest(buf, start, end, this.spareFields, this.spareHead);
    if (typeof parsed === "string") return parsed;
    if (keep) this.lastHead = { bytes, fieldsAt: fieldsAt - start, head: parsed, reused: false };
    else {
      this.spareFields = parsed.headers;
      this.spareHead = parsed;
    }
    return parsed;
  }
  /**
   * The fields and the head of this connection's last request that was not remembered, refilled
   * by its next one: a client whose heads never repeat would otherwise leave a RawHeaders, its two
   * arrays and a RequestHead behind per request (~380 of ~1,270 bytes of garbage, JSC logGC),
   * one whose request lines are new the RequestHead. Never the remembered head or its fields. Safe
   * because a head is parsed only once the answer to the one before is written, and nothing reads
   * a request's head or fields after that.
   */
  private spareFields?: RawHeaders;
  private spareHead?: RequestHead;
  private lastHead?: { bytes: Buffer; fieldsAt: number; head: RequestHead; reused: boolean };
  private unreused = 0;

  /** `body` of every ClientRequest on this connection (bound once, not a closure per request). */
  private readonly bodyFn = () => this.body();

  /** The request body as a stream, fed from the socket with backpressure. */
  private body(): ReadableStream<Uint8Array> | null {
    if (this.bodyLeft === 0) return null;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.bodyCtrl = c;
          const held = this.buf;
          this.buf = undefined;
          if (held) this.buf = this.feedBody(held);
        },
        pull: () => {
          if (this.buf === undefined || this.buf.length < MAX_HELD) this.resume();
        },
        cancel: () => {
          // the pipeline gave up on the body (413, an error answer): the rest is read and dropped
          this.endRelay(false);
          this.bodyCtrl = undefined;
          this.bodyDiscard = true;
          if (this.buf) this.buf = this.feedBody(this.buf);
          this.resume();
        },
      },
      { highWaterMark: BODY_HWM, size: (c?: Uint8Array) => c?.byteLength ?? 0 },
    );
    // a chunked body is re-framed for the upstream: only a length-framed one can go as it came
    return this.chunkedIn ? stream : relayableBody(stream, this.bodyRelay);
  }

  /**
   * The request body's relay (BodySource.relayRest): once it cannot be replayed, the rest is written
   * to the upstream from each read of the client's socket, lent (no buffer, chunk or promise per
   * read); the client's socket pauses while the upstream's holds what it did not take.
   */
  private readonly bodyRelay: ClientBodyRelay = {
    queued: () => (this.bodyCtrl ? BODY_HWM - (this.bodyCtrl.desiredSize ?? BODY_HWM) : 0),
    relay: (sink) => {
      if (!this.bodyCtrl || this.bodyLeft === 0 || this.bodySink || this.dead) return false;
      this.bodySink = sink;
      this.lend(true);
      this.resume();
      return true;
    },
    resume: () => {
      if (this.bodySink) this.resume();
    },
    cancel: () => {
      if (this.dropRelay()) this.resume();
    },
  };

  /** The relayed body ended: whole (`ok`), or cut short — the upstream connection cannot be reused. */
  private endRelay(ok: boolean): void {
    this.dropRelay()?.end(ok);
  }

  /** Reads go to the body's stream again (or to the next request); the sink the relay had, if any. */
  private dropRelay(): RelaySink | undefined {
    const sink = this.bodySink;
    if (sink) {
      this.bodySink = undefined;
      this.lend(false);
    }
    return sink;
  }

  private lend(on: boolean): void {
    if (this.sock instanceof NativeSocket) this.sock.lend = on;
  }

  /** A read lent by the native socket (only while a body is relayed): the body's part goes on as it is, the rest is copied. */
  onLent(b: Buffer, at: number, n: number): void {
    const sink = this.bodySink;
    if (!sink || this.bodyLeft === 0) return this.onData(copyOut(b, at, n));
    this.seen = this.front.tick;
    const k = Math.min(this.bodyLeft, n);
    this.bodyLeft -= k;
    const took = sink.body(b, at, k);
    if (this.bodyLeft === 0) this.bodyOver();
    else if (!took) this.pause();
    if (k < n) this.onData(copyOut(b, at + k, n - k));
  }

  /** Hand body bytes to the stream; returns what follows the body (the next request). */
  private feedBody(d: Buffer): Buffer | undefined {
    if (this.chunkedIn) return this.feedChunked(d, this.chunkedIn);
    const n = Math.min(this.bodyLeft, d.length);
    this.bodyLeft -= n;
    const ctrl = this.bodyCtrl;
    const took = this.bodySink ? this.bodySink.body(d, 0, n) : (ctrl?.enqueue(n === d.length ? d : d.subarray(0, n)), !ctrl || (ctrl.desiredSize ?? 1) > 0);
    if (this.bodyLeft === 0) this.bodyOver();
    else if (!took) this.pause();
    return n < d.length ? d.subarray(n) : undefined;
  }

  /** The request body ended (or, with `err`, cannot go on): its stream settles, a lingering close finishes. */
  private bodyOver(err?: Error): void {
    this.chunkedIn = undefined;
    this.bodyLeft = 0;
    this.detachBody(err);
    if (this.lingerUntil !== undefined) {
      this.lingerUntil = undefined;
      void this.endAfterFlush();
    }
  }

  /** Stop feeding the body stream: closed when complete, else errored with `err` (the pipeline sees why). */
  private detachBody(err?: Error): void {
    this.endRelay(!err);
    const ctrl = this.bodyCtrl;
    this.bodyCtrl = undefined;
    try {
      if (err) ctrl?.error(err);
      else ctrl?.close();
    } catch {}
  }

  /** feedBody for a chunked body: decoded chunks to the stream; the end is the last chunk (trailers dropped). */
  private feedChunked(d: Buffer, dec: ChunkedDecoder): Buffer | undefined {
    const out: Uint8Array[] = [];
    let rest: Uint8Array | undefined;
    const ctrl = this.bodyCtrl;
    try {
      rest = dec.push(d, out);
    } catch (e) {
      // malformed chunking: the body cannot be delimited, so neither can the next request. The
      // answer (400 from the pipeline, or the one already decided) still goes out, then we close
      this.closing = true;
      this.bodyDiscard = false;
      this.bodyOver(new Error(`malformed chunked body: ${(e as Error).message}`));
      return undefined;
    }
    if (ctrl) for (const c of out) ctrl.enqueue(c);
    if (dec.done) this.bodyOver();
    else if (ctrl && (ctrl.desiredSize ?? 1) <= 0) this.pause();
    return rest ? Buffer.from(rest.buffer, rest.byteOffset, rest.byteLength) : undefined;
  }

  /**
   * The pipeline's answer (ReplySink), written; then the next request. Called from the upstream
   * connection's callback for a proxied request (no promise in between): it must not throw.
   */
  onReply(reply: Reply | undefined): void {
    try {
      this.reply(reply);
    } catch (e) {
      this.front.o.rt.handler?.log.error(`proxy raw front: writing an answer failed: ${(e as Error).message}`);
      this.kill();
    }
  }

  private reply(reply: Reply | undefined): void {
    const head = this.reqHead!;
    this.cr = undefined;
    this.reqHead = undefined;
    if (this.dead) {
      if (reply && !(reply instanceof Response)) {
        if (reply.body instanceof ReadableStream) reply.body.cancel().catch(() => {});
        // the client left before the 101: the upstream connection is ours to close (it is busy)
        reply.upgraded?.destroy();
      }
      return;
    }
    const w = reply ? (reply instanceof Response ? this.writeLocal(reply, head) : this.writeReply(reply, head)) : false;
    // a promise only when a body is streamed or a local answer is read
    if (w instanceof Promise) this.whenWritten(w);
    else this.written(w);
  }

  // callbacks sit in methods of their own: a closure in reply() or written() would give every
  // request a scope object (see Exchange)
  private whenWritten(w: Promise<boolean>): void {
    w.then((ok) => this.written(ok), () => this.written(false));
  }

  private proceedWhenDrained(): void {
    void this.drained().then(() => {
      if (!this.dead) this.proceed();
    });
  }

  /** The answer is out (false: the connection must be cut): the next request, a linger, or the close. */
  private written(ok: boolean | "upgraded"): void {
    if (ok === "upgraded") return;
    this.busy = false;
    this.relay = undefined;
    this.seen = this.front.tick;
    if (!ok || this.dead) return this.kill();
    // answered before the body was read (413, 404…): read and drop the rest, then close — closing
    // on unread bytes makes the kernel send RST, and a client still uploading loses the answer
    if (this.bodyLeft > 0) {
      this.lingerUntil = this.front.tick + Math.max(2, Math.round(this.front.cfg.client_timeout));
      // the pipeline stopped reading it: drop the rest instead of queueing it
      this.detachBody(new Error("answered before the request body ended"));
      this.bodyDiscard = true;
      this.resume();
      return;
    }
    if (this.closing) return void this.endAfterFlush();
    // a client that pipelines without reading must not grow `out` without bound
    if (this.out) {
      this.pause();
      return this.proceedWhenDrained();
    }
    this.proceed();
  }

  private proceed(): void {
    this.resume();
    this.next();
    // half-closed: the requests it sent before are answered; with none left, close
    if (this.ended && !this.busy && !this.tunnelMode && !this.dead) void this.endAfterFlush();
  }

  /** A local answer (error page, respond, redirect): small, so read whole. */
  private async writeLocal(res: Response, req: RequestHead): Promise<boolean> {
    const server = this.front.cfg.server_header;
    const status = res.status;
    const h = new HeadParts().add(formatStatusLine(status, res.statusText));
    let date = false;
    res.headers.forEach((v, k) => {
      if (OWN.has(k) || (server && k === "server")) return;
      if (k === "date") date = true;
      h.line(k, v);
    });
    if (!date) h.line("date", httpDate());
    const body = res.body ? new Uint8Array(await res.arrayBuffer()) : null;
    if (this.dead) return false;
    return this.finishHead(h, status, body, -1, req) as boolean;
  }

  /** An upstream's 103 Early Hints, passed on before the final response (the hints only: no server header). */
  private readonly earlyHints = (h: ResponseHead): void => {
    if (!this.dead) this.write(latin1(`HTTP/1.1 103 ${h.statusText || "Early Hints"}\r\n${forwardText(h, !!this.front.cfg.server_header)}\r\n`));
  };

  /** An upstream's response: its cached header text, then the body as it came. */
  private writeReply(pr: Proxied, req: RequestHead): boolean | "upgraded" | Promise<boolean> {
    if (pr.upgraded) return this.switchProtocols(pr, pr.upgraded);
    const server = !!this.front.cfg.server_header;
    const status = pr.status;
    // built and staged without a pause (finishHead stages before any await): one HeadParts serves every answer
    const h = REPLY_HEAD.reset();
    if (pr.headers) addEdited(h.add(statusLine(pr.head)), pr.headers, server);
    else h.addBytes(upstreamPrefix(pr.head, server));
    if (pr.extra) for (const k in pr.extra) h.line(k, pr.extra[k]!);
    // RFC 9110 §6.6.1: a response without Date gets one from the proxy (as Bun.serve adds it)
    if (!pr.head.hasDate && !pr.headers?.has("date")) h.line("date", httpDate());
    let known = -1;
    if (pr.head.framing.kind === "length") known = pr.head.framing.length;
    else if (req.method === "HEAD") {
      // a HEAD answer keeps the upstream's Content-Length (the parser drops framing headers)
      const cl = pr.head.headers.find(([k]) => k.length === 14 && k.toLowerCase() === "content-length");
      if (cl) known = Number(cl[1]);
    }
    return this.finishHead(h, status, pr.body, known, req, pr.trailers);
  }

  /**
   * Connection and framing headers, then the head and body on the socket. `known`: the body's
   * length when the upstream declared it (-1: unknown). false: the connection must be cut.
   */
  private finishHead(h: HeadParts, status: number, body: Uint8Array | ReadableStream<Uint8Array> | null, known: number, req: RequestHead, trailers?: { text: string }): boolean | Promise<boolean> {
    const cfg = this.front.cfg;
    if (cfg.server_header) h.line("server", cfg.server_header);
    if (this.bodyLeft > 0 && !this.bodyCtrl && !this.bodyDiscard) {
      // answered without reading the body (404, 403, a redirect): drop it, so the connection can stay open
      this.bodyDiscard = true;
      if (this.buf) this.buf = this.feedBody(this.buf);
    }
    const limit = cfg.keepalive_request_limit;
    if (this.front.draining || (limit > 0 && this.served >= limit) || this.bodyLeft > 0) this.closing = true;
    const noBody = req.method === "HEAD" || status === 204 || status === 304 || status < 200;
    let chunked = false;
    if (noBody) {
      // HEAD: the length a GET would have, when known (a chunked upstream's is not: then none)
      const n = known >= 0 ? known : body instanceof Uint8Array ? body.byteLength : -1;
      if (req.method === "HEAD" && status !== 204 && status !== 304 && n >= 0) h.line("content-length", String(n));
    } else if (body === null) h.add("content-length: 0\r\n");
    else if (body instanceof Uint8Array) h.add("content-length: ").add(String(body.byteLength)).add("\r\n");
    else if (known >= 0) h.add("content-length: ").add(String(known)).add("\r\n");
    else if (req.http10) this.closing = true; // HTTP/1.0: the body ends with the connection
    else {
      chunked = true;
      h.add("transfer-encoding: chunked\r\n");
    }
    if (this.closing) h.add("connection: close\r\n");
    else if (req.http10) h.add("connection: keep-alive\r\n");
    h.add("\r\n");

    if (noBody || body === null) {
      this.writeStaged(h.stage());
      if (body instanceof ReadableStream) body.cancel().catch(() => {});
      return true;
    }
    if (body instanceof Uint8Array) {
      this.writeStaged(h.stage(body));
      return true;
    }
    this.writeStaged(h.stage());
    const source = chunked ? undefined : relayOf(body);
    if (source) {
      // set first: a client gone while the queued bytes are written cancels the relay (onClose)
      const relay = (this.relay = new ClientRelay(this, source));
      if (source.relay(relay)) return relay.finished;
      this.relay = undefined;
    }
    return this.pump(body, chunked, trailers);
  }

  /** A 101 from the upstream: pass its head on, then bytes both ways until either side closes. */
  private switchProtocols(pr: Proxied, up: H1Conn): "upgraded" {
    const server = this.front.cfg.server_header;
    let s = `HTTP/1.1 101 ${pr.statusText || "Switching Protocols"}\r\n${forwardText(pr.head, !!server)}`;
    const proto = pr.head.headers.find(([k]) => k.toLowerCase() === "upgrade");
    s += `connection: upgrade\r\n${proto ? `upgrade: ${proto[1]}\r\n` : ""}`;
    if (server) s += `server: ${server}\r\n`;
    this.write(latin1(`${s}\r\n`));
    this.upgraded = up;
    // an upgraded connection (a WebSocket, say) may idle for long: no client_timeout (checkIdle)
    const held = this.buf;
    this.buf = undefined;
    up.startRaw(
      (d) => {
        this.write(d);
        if (this.out) up.sock.pause();
      },
      () => {
        this.upgraded = undefined;
        if (!this.dead) void this.endAfterFlush();
      },
    );
    if (held) this.toUpstream(held);
    // the client half-closed before the 101 came: the upstream learns it now (and may still answer)
    if (this.ended) up.sock.shutdown();
    return "upgraded";
  }

  private toUpstream(d: Buffer): void {
    const up = this.upgraded;
    if (!up) return;
    const w = up.write(d);
    if (w) {
      this.pause();
      w.then(
        () => this.resume(),
        () => this.kill(),
      );
    }
  }

  /**
   * Stream a response body with backpressure; false when the upstream failed mid-body. A chunked
   * body ends with the upstream's trailer fields (filled in before its stream closed).
   */
  private async pump(body: ReadableStream<Uint8Array>, chunked: boolean, trailers?: { text: string }): Promise<boolean> {
    const reader = body.getReader();
    this.reader = reader;
    try {
      for (;;) {
        const r = await reader.read();
        if (this.dead) return false;
        if (r.done) break;
        const chunk = r.value!;
        if (chunk.byteLength === 0) continue;
        if (chunked) this.write(Buffer.concat([Buffer.from(`${chunk.byteLength.toString(16)}\r\n`), chunk, CRLF]));
        else this.write(chunk);
        if (this.out) await this.drained();
        if (this.dead) return false;
      }
    } catch {
      // the upstream died mid-body: cut the connection so the client sees a truncated body
      return false;
    } finally {
      this.reader = undefined;
    }
    if (chunked) this.write(trailers?.text ? latin1(`0\r\n${trailers.text}\r\n`) : LAST_CHUNK);
    return true;
  }

  private write(b: Uint8Array): void {
    if (this.dead) return;
    if (this.out) {
      this.out = Buffer.concat([this.out, b]);
      return;
    }
    const n = this.sock.write(b);
    // the rest is kept as a view: what comes here is owned (a stream's chunk, a socket's read, a
    // constant, a fresh head); the one reused buffer, the staging buffer, is copied by writeStaged
    if (n < b.byteLength) this.out = Buffer.from(b.buffer, b.byteOffset + Math.max(n, 0), b.byteLength - Math.max(n, 0));
  }

  /**
   * Bytes the caller will reuse (a relay's lent read, the staging buffer): written, and what the
   * socket does not take copied to wait for the drain — then false.
   */
  writeBorrowed(buf: Uint8Array, at: number, n: number): boolean {
    if (this.dead) return true;
    if (this.out) {
      this.write(copyOut(buf, at, n));
      return false;
    }
    const w = Math.max(this.sock.write(buf, at, n), 0);
    if (w === n) return true;
    this.out = copyOut(buf, at + w, n - w);
    return false;
  }

  /** The n bytes HeadParts staged, straight to the socket (the staging buffer is reused: see writeBorrowed). */
  private writeStaged(n: number): void {
    this.writeBorrowed(staged(), 0, n);
  }

  private drained(): Promise<void> {
    if (!this.out || this.dead) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  onDrain(): void {
    this.seen = this.front.tick;
    if (this.out) {
      const n = this.sock.write(this.out);
      if (n < this.out.length) {
        this.out = this.out.subarray(Math.max(n, 0));
        return;
      }
      this.out = undefined;
    }
    for (const w of this.drainWaiters.splice(0)) w();
    this.relay?.source.resume();
    if (this.tunnelMode) this.tunnel?.resume();
    this.upgraded?.sock.resume();
  }

  private async endAfterFlush(): Promise<void> {
    if (this.out) await this.drained();
    if (!this.dead) this.sock.end();
  }

  /** A malformed or oversized head: answer and close (no routing, no upstream). */
  private refuse(status: number, text: string): void {
    this.closing = true;
    this.headSince = undefined;
    this.buf = undefined;
    const body = Buffer.from(text);
    this.write(latin1(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\ndate: ${httpDate()}\r\n\r\n`, body));
    void this.endAfterFlush();
  }

  onEnd(): void {
    // the client finished sending: answer what is in flight, then close
    this.ended = true;
    // passed through: Bun.serve drops the answer of a half-closed connection, so the FIN is not
    // passed on; the connection closes when the internal server closes its side (its idle timeout)
    if (this.tunnelMode) return;
    // a half-close, passed on: what the upstream sends after it still reaches the client
    if (this.upgraded) return void this.upgraded.sock.shutdown();
    if (this.lingerUntil !== undefined) return void this.endAfterFlush(); // nothing more will come to drop
    // the upload stopped short of its end: the pipeline answers 400 at once
    if (this.bodyLeft > 0) this.detachBody(new Error("client closed the connection mid-upload"));
    if (this.busy) {
      // waiting for the upstream's answer: a FIN alone cannot tell a client that closed its socket
      // (gone: nginx ends the upstream attempt, 499) from one that shut down only its write side and
      // still reads (measured: Node's destroy() and end() arrive as the same FIN). Bytes tell: a
      // closed socket answers them with a reset (the close event follows within a millisecond,
      // onClose → clientGone), a half-closed client reads them. An HTTP/1.1 client must accept an
      // unexpected interim response (RFC 9110 §15.2), so a 100 Continue is the probe; to an
      // HTTP/1.0 client no 1xx may go, so its FIN stays a half-close and the upstream is awaited
      if (this.cr && this.interimOk && this.bodyLeft === 0) this.write(PROBE);
      return;
    }
    this.next();
    if (!this.busy && !this.tunnelMode) void this.endAfterFlush();
  }

  /** client_timeout: no progress from the client for `limit` seconds (waiting on the upstream does not count). */
  checkIdle(tick: number, limit: number): void {
    if (this.dead || this.tunnelMode || this.upgraded) return;
    if (this.lingerUntil !== undefined) {
      if (tick >= this.lingerUntil) this.kill();
      return;
    }
    if (!this.busy && this.headSince !== undefined && tick - this.headSince >= limit + 1) {
      return this.refuse(408, `request head not complete within client_timeout (${limit} s)\n`);
    }
    const waitingOnUpstream = this.busy && !this.out && !(this.bodyLeft > 0 && this.bodyCtrl && !this.paused);
    if (waitingOnUpstream) this.seen = tick;
    else if (tick - this.seen >= limit + 1) this.kill();
  }

  /** Graceful stop: idle keep-alive connections close now; busy ones close after their response. */
  closeIfIdle(): void {
    this.closing = true;
    if (!this.busy && !this.tunnelMode) void this.endAfterFlush();
  }

  kill(): void {
    if (this.dead) return;
    try {
      this.sock.terminate();
    } catch {}
    this.onClose();
  }

  onClose(): void {
    if (this.dead) return;
    this.dead = true;
    this.front.forget(this);
    proxyMetrics.connections.dec();
    for (const w of this.drainWaiters.splice(0)) w();
    this.reader?.cancel().catch(() => {});
    this.relay?.source.cancel();
    this.detachBody(new Error("client closed the connection mid-upload"));
    // before the answer was written: an attempt waiting for the upstream's head ends now (499)
    const cr = this.cr;
    this.cr = undefined;
    if (cr) clientGone(cr);
    this.tunnel?.end();
    const up = this.upgraded;
    this.upgraded = undefined;
    up?.destroy();
  }

  // --- pass-through -------------------------------------------------------------------------

  /** Hand this connection to the internal Bun.serve: the bytes read so far, then everything. */
  private startTunnel(): void {
    this.tunnelMode = true;
    if (this.buf) this.tunnelQueue.push(this.buf);
    this.buf = undefined;
    Bun.connect<RawConn>({ hostname: "127.0.0.1", port: this.front.o.internalPort, data: this, socket: tunnelHandlers as any }).then(
      (t) => {
        if (this.dead) return void t.end();
        this.tunnel = t;
        t.setNoDelay?.(true);
        this.tunnelPort = t.localPort;
        this.front.o.clients.set(this.tunnelPort, { address: this.sock.remoteAddress, port: this.sock.remotePort });
        // keepalive_request_limit counts the requests this connection had before it was passed through
        this.front.o.rt.handler?.carryOver(this.sock.remoteAddress, this.sock.remotePort, this.served);
        for (const q of this.tunnelQueue.splice(0)) this.toTunnel(q);
      },
      () => this.kill(),
    );
  }

  private toTunnel(d: Buffer): void {
    const t = this.tunnel;
    if (!t) return void this.tunnelQueue.push(d);
    if (this.tunnelOut) {
      this.tunnelOut = Buffer.concat([this.tunnelOut, d]);
      return;
    }
    const n = t.write(d);
    if (n < d.length) {
      this.tunnelOut = d.subarray(Math.max(n, 0));
      this.pause();
    }
  }

  onTunnelDrain(): void {
    const t = this.tunnel;
    if (!t || !this.tunnelOut) return;
    const n = t.write(this.tunnelOut);
    if (n < this.tunnelOut.length) {
      this.tunnelOut = this.tunnelOut.subarray(Math.max(n, 0));
      return;
    }
    this.tunnelOut = undefined;
    this.resume();
  }

  fromTunnel(d: Buffer): void {
    this.write(d);
    if (this.out) this.tunnel?.pause();
  }

  onTunnelClose(): void {
    if (this.tunnelPort) this.front.o.clients.delete(this.tunnelPort);
    this.tunnelPort = 0;
    const t = this.tunnel;
    this.tunnel = undefined;
    if (t) {
      try {
        t.end();
      } catch {}
    }
    if (!this.dead) void this.endAfterFlush();
  }
}
