/**
 * One attempt to send a request to a peer: take a pooled connection (or open one), write the head
 * and stream the body; the waiter (ResponseWaiter) hears the response head or the failure. Errors
 * are ProxyErrors that say whether the attempt may be retried (see retry.ts for Pingora's rules).
 */
import { ProxyError } from "../errors.ts";
import type { HeadParts } from "../head-parts.ts";
import type { BodySource, ClientBodyRelay } from "./body-source.ts";
import type { RelaySink } from "./response-body.ts";
import { H1Conn, type ResponseWaiter } from "./connection.ts";
import type { ResponseHead } from "./h1-parser.ts";
import type { Peer } from "./peer.ts";
import type { ConnectionPool } from "./pool.ts";

export interface OutgoingRequest {
  method: string;
  /** Request target: path and query. */
  target: string;
  /** Header block lines, already filtered, without framing headers. */
  headers: HeadParts;
  /** null: no body. */
  body: BodySource | null;
  /** Known body length (Content-Length) or undefined for chunked. */
  bodyLength?: number;
  /** Called with each 103 Early Hints head that comes before the final response. */
  onEarlyHints?: (head: ResponseHead) => void;
  /** The client this request is for (`gone` once it left): a request is not sent for a client gone during the connect. */
  client?: { readonly gone: boolean };
}

/** The end of a request head by its framing: chunked, an empty body, no body. */
const CHUNKED = ["transfer-encoding: chunked\r\n\r\n"];
const EMPTY = ["content-length: 0\r\n\r\n"];
const NONE = ["\r\n"];

const enc = new TextEncoder();
const CRLF = enc.encode("\r\n");
const LAST_CHUNK = enc.encode("0\r\n\r\n");

/**
 * Start the request on a pooled connection (synchronously, the common case) or on a new one; the
 * waiter hears how it goes (see ResponseWaiter), connect failures included. The connection goes back
 * to the pool by itself when the response completes (if reusable), and counts the request in
 * `peer.active` (the selected peer) while it is in flight.
 */
export function sendOnce(peer: Peer, pool: ConnectionPool, req: OutgoingRequest, waiter: ResponseWaiter): void {
  const conn = pool.take(peer.key);
  if (conn) start(conn, peer, req, true, 0, waiter);
  // openAndStart reports its own failures to the waiter; this only keeps a fault in it from being an unhandled rejection (which ends Bun)
  else openAndStart(peer, pool, req, waiter).catch((e) => waiter.onFailure(new ProxyError(`sending to ${peer.addr} failed: ${(e as Error).message}`, "connect", "internal", false)));
}

async function openAndStart(peer: Peer, pool: ConnectionPool, req: OutgoingRequest, waiter: ResponseWaiter): Promise<void> {
  const t0 = performance.now();
  let conn: H1Conn;
  try {
    conn = await H1Conn.open(peer, pool.native);
  } catch (e) {
    return waiter.onFailure(e instanceof ProxyError ? e : new ProxyError(`connect to ${peer.addr} failed: ${(e as Error).message}`, "connect", "upstream", true));
  }
  conn.pool = pool;
  if (req.client?.gone) {
    // as nginx: a request whose client left is not sent (a POST would still take effect upstream);
    // the fresh connection is idle and reusable
    pool.put(conn);
    return waiter.onFailure(new ProxyError(`client closed the connection while connecting to ${peer.addr}`, "client_closed", "downstream", false));
  }
  start(conn, peer, req, false, performance.now() - t0, waiter);
}

function start(conn: H1Conn, peer: Peer, req: OutgoingRequest, reused: boolean, connectMs: number, waiter: ResponseWaiter): void {
  conn.writing = req.body !== null;
  const framing = req.body ? (req.bodyLength !== undefined ? ["content-length: ", String(req.bodyLength), "\r\n\r\n"] : CHUNKED) : req.bodyLength === 0 ? EMPTY : NONE;
  conn.expectResponse(req.method, req.target, peer, req.onEarlyHints, waiter);
  waiter.onStart(conn, reused, connectMs);
  // latin1: header values hold the bytes as the client sent them (one char per byte); UTF-8 would
  // encode non-ASCII bytes twice
  const w = conn.writeStaged(req.headers.stageRequest(req.method, req.target, framing));
  // a head the socket could not take at once: the body follows it; a failed write reaches the
  // waiter through the connection (write_timeout, or its close), so the rejection is only absorbed
  if (w) w.then(req.body ? () => startBody(conn, req) : undefined, () => {});
  else if (req.body) startBody(conn, req);
}

function startBody(conn: H1Conn, req: OutgoingRequest): void {
  void pumpBody(conn, req.body!, req.bodyLength === undefined).finally(() => {
    conn.writing = false;
  });
}

/**
 * The rest of a client's body from its socket's reads to `conn` (BodySource.relayRest): true once
 * whole; undefined when the body cannot be relayed after all (the stream goes on).
 */
function relayTo(conn: H1Conn, relay: ClientBodyRelay): Promise<boolean> | undefined {
  let done!: (ok: boolean) => void;
  const ended = new Promise<boolean>((r) => (done = r));
  let waiting = false;
  const sink: RelaySink = {
    body(buf, at, n) {
      if (conn.writeBorrowed(buf, at, n)) return true;
      if (!waiting) {
        waiting = true;
        conn.drained().then(
          () => {
            waiting = false;
            relay.resume();
          },
          () => {
            relay.cancel();
            done(false);
          },
        );
      }
      return false;
    },
    // whole: once the upstream took the last bytes too (until then the connection is still writing, so never pooled)
    end: (ok) => (ok ? conn.drained().then(() => done(true), () => done(false)) : done(false)),
  };
  return relay.relay(sink) ? ended : undefined;
}

/**
 * Stream the body concurrently with reading the response (full duplex: an upstream may answer
 * before the upload ends). Write errors surface through the response side (the socket closes).
 */
async function pumpBody(conn: H1Conn, body: BodySource, chunked: boolean): Promise<void> {
  // the client leaving must end the attempt even while a write waits for an upstream that stopped
  // reading (until write_timeout otherwise): the connection is mid-request, so it is destroyed,
  // which wakes the write and fails the response; the handler then sees body.failed
  if (body.failed) return conn.destroy();
  // a retry's pump shares the body with the attempt before it: each clears only its own hook
  const mine = () => conn.destroy();
  body.onAbandon = mine;
  try {
    for await (const chunk of body.iterate()) {
      if (!conn.alive) return;
      if (chunk.byteLength === 0) continue;
      if (chunked) {
        const w0 = conn.write(`${chunk.byteLength.toString(16)}\r\n`);
        if (w0) await w0;
        const w1 = conn.write(chunk);
        if (w1) await w1;
        const w2 = conn.write(CRLF);
        if (w2) await w2;
      } else {
        const w = conn.write(chunk);
        if (w) await w;
        const relay = body.relayRest();
        const relayed = relay && conn.alive ? relayTo(conn, relay) : undefined;
        if (relayed) {
          // cut short (the client left, the answer came first, the upstream failed): the connection is mid-request
          if (!(await relayed)) conn.destroy();
          return;
        }
      }
    }
    if (chunked && conn.alive) {
      const w = conn.write(LAST_CHUNK);
      if (w) await w;
    }
  } catch (e) {
    // the client aborted its upload or the upstream stopped reading: this connection is unusable
    if (!(e instanceof ProxyError)) conn.destroy();
  } finally {
    if (body.onAbandon === mine) body.onAbandon = undefined;
  }
}
