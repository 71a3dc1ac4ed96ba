/**
 * HTTP/2 downstream through node:http2, because Bun.serve speaks HTTP/1.1 only (no ALPN h2, no h2c).
 * Over TLS the server offers ALPN h2 and http/1.1 (allowHTTP1), so both kinds of client work on one
 * port; without TLS it is h2c with prior knowledge only (node cannot fall back to HTTP/1.1 there).
 * Each request is adapted to a fetch Request, run through the same ProxyHandler, and the Response is
 * written back with backpressure. An upstream that dies mid-body resets the stream (RST_STREAM
 * INTERNAL_ERROR) for HTTP/2 clients, or cuts the connection for HTTP/1.1 ones.
 */
import http2 from "node:http2";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import type { ProxyHandler, ListenerInfo } from "../handler.ts";

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2); node throws if they are set. */
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

export interface TlsEntry {
  cert: string;
  key: string;
  serverName?: string;
  ca?: string;
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
}

export interface H2Listener {
  port: number;
  hostname: string;
  stop(graceful: boolean, timeoutMs: number): Promise<void>;
}

export async function listenHttp2(host: string, port: number, tls: TlsEntry[] | undefined, rt: { handler?: ProxyHandler }, info: ListenerInfo, idleMs: number): Promise<H2Listener> {
  let server: http2.Http2Server | http2.Http2SecureServer;
  if (tls && tls.length > 0) {
    const def = tls.find((t) => !t.serverName) ?? tls[0]!;
    const s = http2.createSecureServer({ cert: def.cert, key: def.key, ca: def.ca, requestCert: def.requestCert, rejectUnauthorized: def.rejectUnauthorized, allowHTTP1: true });
    for (const t of tls) if (t.serverName) s.addContext(t.serverName, { cert: t.cert, key: t.key });
    server = s;
  } else server = http2.createServer();
  const sockets = new Set<Socket>();
  server.on("connection", (sock: Socket) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
  });
  server.on("secureConnection", (sock: Socket) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
  });
  if (idleMs > 0) server.setTimeout(idleMs);
  server.on("request", (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    void serve(req, res, rt.handler!, info).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as { address: string; port: number };
  return {
    port: addr.port,
    hostname: addr.address,
    async stop(graceful, timeoutMs) {
      const closed = new Promise<void>((r) => server.close(() => r()));
      if (graceful) await Promise.race([closed, Bun.sleep(timeoutMs)]);
      for (const s of sockets) s.destroy();
      await Promise.race([closed, Bun.sleep(100)]);
    },
  };
}

async function serve(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, handler: ProxyHandler, info: ListenerInfo): Promise<void> {
  const h2 = req.httpVersionMajor === 2;
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (k[0] === ":" || v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else headers.set(k, v);
  }
  const authority = (req.headers[":authority"] as string | undefined) ?? (req.headers.host as string | undefined) ?? "localhost";
  if (!headers.has("host")) headers.set("host", authority);
  const method = req.method;
  // HEADERS with END_STREAM (h2), or no Content-Length/Transfer-Encoding (h1): no body
  const noBody = method === "GET" || method === "HEAD" || (h2 ? (req.stream as any).endAfterHeaders === true : !headers.has("content-length") && !headers.has("transfer-encoding"));
  const body = noBody ? null : (Readable.toWeb(req as unknown as Readable) as unknown as ReadableStream<Uint8Array>);
  // the client leaving (a stream reset, the connection closed) before its answer ended: told to the
  // pipeline the way Bun.serve tells it, through the Request's signal (499, the upstream attempt ends)
  const gone = new AbortController();
  res.once("close", () => {
    if (!res.writableEnded) gone.abort();
  });
  const request = new Request(`${info.tls ? "https" : "http"}://${authority}${req.url}`, { method, headers, body, duplex: "half", signal: gone.signal } as RequestInit);
  const sock = req.socket;
  const shim = {
    requestIP: () => ({ address: sock.remoteAddress ?? "", port: sock.remotePort ?? 0, family: sock.remoteFamily ?? "IPv4" }),
    upgrade: () => false,
  };
  const response = await handler.handle(request, shim as any, info);
  if (!response) {
    res.writeHead(400);
    res.end();
    return;
  }
  const out: Record<string, string | string[]> = {};
  response.headers.forEach((v, k) => {
    if (h2 && CONNECTION_SPECIFIC.has(k)) return;
    if (k === "set-cookie") (out[k] = (out[k] as string[] | undefined) ?? []) && (out[k] as string[]).push(v);
    else out[k] = v;
  });
  res.writeHead(response.status, out);
  if (!response.body || method === "HEAD") {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise<void>((r) => res.once("drain", () => r()));
    }
    res.end();
  } catch {
    // upstream died mid-body: never end the stream cleanly. Under Bun, stream.close(NGHTTP2_CANCEL)
    // ends the stream with a clean END_STREAM (measured with curl), so destroy it instead, which
    // sends RST_STREAM(INTERNAL_ERROR)
    if (h2) res.stream.destroy(new Error("upstream closed mid-body"));
    else res.destroy();
  }
}
