/**
 * The raw HTTP/1.1 front (listen/raw-front.ts) against real clients: raw sockets writing bytes,
 * fetch and curl. What it serves itself and what it passes through to the internal Bun.serve.
 */
import { describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { NestedLoop } from "../../../src/core/native/nested-loop.ts";
import { eventually } from "../../harness.ts";
import { indent, origin, raw, rawOrigin, startProxy } from "../helpers.ts";

const echo = origin(async (req, server) => {
  const url = new URL(req.url);
  if (url.pathname === "/204") return new Response(null, { status: 204 });
  if (url.pathname === "/304") return new Response(null, { status: 304, headers: { etag: '"x"' } });
  const body = req.body ? new Uint8Array(await req.arrayBuffer()) : new Uint8Array();
  return Response.json({
    method: req.method,
    path: url.pathname + url.search,
    bytes: body.length,
    sum: body.reduce((a, b) => (a + b) % 65521, 0),
    xff: req.headers.get("x-forwarded-for"),
    te: req.headers.get("transfer-encoding"),
    peer: server.requestIP(req)?.address,
  });
});

// an upstream that promises 1000 bytes, sends 10 and dies
const dying = rawOrigin((s) => {
  s.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
  setTimeout(() => s.end(), 20);
});

// a chunked upstream body (the front passes it on as a stream)
const chunky = rawOrigin((s) => s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\npart1;\r\n6\r\npart2;\r\n6\r\npart3;\r\n0\r\n\r\n"));

// 64 MiB, made as it is read: more than loopback socket buffers hold (~10 MiB between the three
// sockets), so a client that stops reading stalls the transfer
const BIG = 64 * 1024 * 1024;
const big = origin(() => {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(120);
  return new Response(new ReadableStream({ pull: (c) => void (sent < BIG ? (c.enqueue(chunk), (sent += chunk.length)) : c.close()) }));
});

// interim responses before the final one: a stray 100 Continue and 103 Early Hints
const hints = rawOrigin((s) => s.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));

// chunked with a trailer section: one field to pass on, framing ones that must not be
const trailing = rawOrigin((s) => s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: abc123\r\nContent-Length: 99\r\nSet-Cookie: a=b\r\n\r\n"));
// a trailer line that is not a field: the body cannot be vouched for
const badTrailer = rawOrigin((s) => s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nnot a field\r\n\r\n"));

const proxy = await startProxy(indent(`listen: ["127.0.0.1:0"]
client_timeout: 1
max_header_size: 4k
upstreams:
  echo: { servers: ["${echo.addr}"] }
  dying: { servers: ["${dying.addr}"], max_retries: 0 }
  chunky: { servers: ["${chunky.addr}"] }
  trailing: { servers: ["${trailing.addr}"] }
  big: { servers: ["${big.addr}"] }
  hints: { servers: ["${hints.addr}"] }
  badtrailer: { servers: ["${badTrailer.addr}"], max_retries: 0 }
routes:
  - match: { path: /hints }
    upstream: hints
  - match: { path: /big }
    upstream: big
  - match: { path: /trailers-edited }
    upstream: trailing
    response_headers: { remove: [x-checksum] }
  - match: { path: /trailers }
    upstream: trailing
  - match: { path: /bad-trailer }
    upstream: badtrailer
  - match: { path: /respond }
    respond: { status: 204 }
  - match: { path: /stream }
    upstream: chunky
  - match: { path: /dying }
    upstream: dying
  - match: { path: /gz }
    upstream: echo
    compress: [gzip]
  - upstream: echo
`));

/** A keep-alive raw client (node:net, so it can bind a source address). */
class Client {
  private text = "";
  private waiters: Array<() => void> = [];
  closed = false;
  private constructor(readonly sock: Socket) {
    sock.on("data", (d) => {
      this.text += d.toString("latin1");
      this.wake();
    });
    sock.on("close", () => {
      this.closed = true;
      this.wake();
    });
    sock.on("error", () => {});
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  static open(port: number, localAddress?: string, halfOpen = false): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port, localAddress, allowHalfOpen: halfOpen } as any, () => resolve(new Client(s)));
      s.once("error", reject);
    });
  }
  send(s: string | Uint8Array): void {
    this.sock.write(s);
  }
  /** Everything received once `done(text)` holds (or the connection closed, or 5 s passed). */
  async until(done: (t: string) => boolean): Promise<string> {
    const end = Date.now() + 5000;
    while (!done(this.text) && !this.closed && Date.now() < end) {
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), Bun.sleep(100)]);
    }
    return this.text;
  }
  /** Responses received so far, counted by status line. */
  count(): number {
    return this.text.split("HTTP/1.1 ").length - 1;
  }
  close(): void {
    this.sock.destroy();
  }
}

const bodyOf = (t: string) => t.slice(t.indexOf("\r\n\r\n") + 4);

/** An upstream that records each request head it gets (bodies aside) and answers "ok". */
function recordingOrigin(): { heads: string[]; up: ReturnType<typeof rawOrigin> } {
  const heads: string[] = [];
  let pending = "";
  const up = rawOrigin((sock, d) => {
    pending += d;
    let end: number;
    while ((end = pending.indexOf("\r\n\r\n")) >= 0) {
      heads.push(pending.slice(0, end));
      pending = pending.slice(end + 4);
      sock.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
  });
  return { heads, up };
}

describe("raw front: requests it serves itself", () => {
  test("keep-alive: several requests on one connection, each answered with Content-Length", async () => {
    const c = await Client.open(proxy.port);
    for (let i = 0; i < 3; i++) {
      c.send(`GET /k${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
      const t = await c.until(() => c.count() === i + 1 && /\}$/.test(c["text"]));
      expect(t.split("HTTP/1.1 200").length - 1).toBe(i + 1);
    }
    expect(c.closed).toBe(false);
    c.close();
  });

  test("a head is reused only when its bytes repeat exactly (request and response heads, HEAD apart)", async () => {
    // the upstream answers each request on its connection with a head of the same length
    const up = rawOrigin((sock, d) => {
      const [method, path] = d.split(" ");
      const head = (status: string, n: string) => `HTTP/1.1 ${status} OK\r\nx-n: ${n}\r\ncontent-length: 5\r\n\r\n`;
      if (method === "HEAD") sock.write(head("200", "1"));
      else if (path === "/s201") sock.write(head("201", "1") + "hello");
      else sock.write(head("200", path!.slice(-1)) + "hello");
    });
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  u: { servers: ["${up.addr}"] }\nroutes:\n  - { upstream: u }\n`));
    const c = await Client.open(p.port);
    const order = ["/n/1", "/n/1", "/n/2", "/s201", "HEAD /n/1", "/n/1"];
    for (const [i, r] of order.entries()) {
      c.send(r.startsWith("HEAD") ? `${r} HTTP/1.1\r\nHost: a\r\n\r\n` : `GET ${r} HTTP/1.1\r\nHost: a\r\n\r\n`);
      await c.until(() => c.count() === i + 1 && (r.startsWith("HEAD") || c["text"].endsWith("hello")));
    }
    const heads = c["text"].split("HTTP/1.1 ").slice(1);
    expect(heads.map((h: string) => `${h.slice(0, 3)} ${/x-n: (\d)/.exec(h)![1]}`)).toEqual(["200 1", "200 1", "200 2", "201 1", "200 1", "200 1"]);
    // the HEAD answer has no body even though its head's bytes equal a GET's: the next answer is intact
    expect(heads[4]).not.toContain("hello");
    expect(heads[5]!.endsWith("\r\n\r\nhello")).toBe(true);
    expect(up.connections()).toBe(1);
    c.close();
    await p.stop();
  });

  test("header fields go upstream as the client's lines: case and order kept, hop-by-hop and Connection-named ones dropped", async () => {
    let seen = "";
    const up = rawOrigin((sock, d) => {
      seen += d;
      if (seen.includes("\r\n\r\n")) sock.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    });
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  u: { servers: ["${up.addr}"] }\nroutes:\n  - { upstream: u }\n`));
    const out = await raw(p.port, "GET /h HTTP/1.1\r\nHost: a.test\r\nX-Custom:  v1 \r\nConnection: X-Drop\r\nX-Drop: gone\r\nKeep-Alive: 5\r\nUser-Agent: t/1\r\nx-custom: v2\r\nTE: trailers\r\n\r\n", 300);
    expect(out).toContain("\r\n\r\nok");
    const lines = seen.split("\r\n\r\n")[0]!.split("\r\n");
    expect(lines[0]).toBe("GET /h HTTP/1.1");
    expect(lines.filter((l) => /^(x-custom|user-agent|host):/i.test(l))).toEqual(["host: a.test", "X-Custom:  v1", "User-Agent: t/1", "x-custom: v2"]);
    expect(seen).not.toMatch(/x-drop|keep-alive|^te:|connection: x-drop/im);
    await p.stop();
  });

  test("a repeated head goes upstream the same every time (its block kept as bytes), and heads that never repeat each go as sent", async () => {
    const { heads, up } = recordingOrigin();
    // the peer is trusted: its X-Forwarded-For is extended, not replaced (part of the kept block)
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\ntrusted_proxies: [127.0.0.1/32]\nupstreams:\n  u: { servers: ["${up.addr}"] }\nroutes:\n  - { upstream: u }\n`));
    const c = await Client.open(p.port);
    const same = "GET /same HTTP/1.1\r\nHost: a.test\r\nX-Forwarded-For: 10.0.0.9\r\nX-Custom: v\r\n\r\n";
    const order: string[] = [same, same, same];
    for (let i = 0; i < 12; i++) order.push(`GET /new/${i} HTTP/1.1\r\nHost: b.test\r\nX-Custom: n${i}\r\n\r\n`);
    order.push(same, same, same);
    for (const [i, r] of order.entries()) {
      c.send(r);
      await c.until(() => c.count() === i + 1 && c["text"].endsWith("ok"));
    }
    expect(heads.length).toBe(order.length);
    const sameHead = "GET /same HTTP/1.1\r\nhost: a.test\r\nX-Custom: v\r\nx-forwarded-for: 10.0.0.9, 127.0.0.1\r\nx-forwarded-proto: http\r\nx-forwarded-host: a.test";
    for (const i of [0, 1, 2, 15, 16, 17]) expect(heads[i]).toBe(sameHead);
    for (let i = 0; i < 12; i++) expect(heads[3 + i]).toBe(`GET /new/${i} HTTP/1.1\r\nhost: b.test\r\nX-Custom: n${i}\r\nx-forwarded-for: 127.0.0.1\r\nx-forwarded-proto: http\r\nx-forwarded-host: b.test`);
    c.close();
    await p.stop();
  });

  test("heads that never repeat, pipelined on one connection: each request is routed and forwarded by its own values, never an earlier head's", async () => {
    // the front refills one set of parsed fields per connection for heads it does not remember
    const { heads, up } = recordingOrigin();
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  u: { servers: ["${up.addr}"] }\nroutes:\n  - { match: { headers: { x-tenant: "/^a/" } }, upstream: u }\n  - { respond: { status: 203, body: "b" } }\n`));
    const c = await Client.open(p.port);
    const n = 40;
    let burst = "";
    for (let i = 0; i < n; i++) burst += `GET /r/${i} HTTP/1.1\r\nHost: h${i}.test\r\nX-Tenant: ${i % 3 ? "a" : "b"}${i}\r\nX-Id: ${i}\r\n\r\n`;
    c.send(burst);
    const out = await c.until(() => c.count() === n);
    c.close();
    expect(out.split("HTTP/1.1 ").slice(1).map((r) => r.slice(0, 3))).toEqual(Array.from({ length: n }, (_, i) => (i % 3 ? "200" : "203")));
    const want = [];
    for (let i = 0; i < n; i++) if (i % 3) want.push(`GET /r/${i} HTTP/1.1\r\nhost: h${i}.test\r\nX-Tenant: a${i}\r\nX-Id: ${i}\r\nx-forwarded-for: 127.0.0.1\r\nx-forwarded-proto: http\r\nx-forwarded-host: h${i}.test`);
    expect(heads).toEqual(want);
    await p.stop();
  });

  test("the same fields under new request lines (a client walking paths) go upstream right, each with its own line; HTTP/1.0 among them closes", async () => {
    const { heads, up } = recordingOrigin();
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  u: { servers: ["${up.addr}"] }\nroutes:\n  - { upstream: u }\n`));
    const c = await Client.open(p.port);
    const fields = "Host: a.test\r\nUser-Agent: walker/1\r\nAccept: application/json\r\n\r\n";
    const lines = ["GET /one HTTP/1.1", "GET /two?x=1 HTTP/1.1", "HEAD /three HTTP/1.1", "GET /\x01bad HTTP/1.1", "GET /four HTTP/1.0"];
    for (const [i, line] of lines.entries()) {
      c.send(`${line}\r\n${fields}`);
      await c.until(() => c.count() === i + 1 && (c["text"].endsWith("ok") || c.closed || i === 2 || i === 3));
      if (i === 3) break; // a bad request line: 400 and the connection closes
    }
    const t = await c.until(() => c.closed);
    expect(t.split("HTTP/1.1 ").slice(1).map((r: string) => r.slice(0, 3))).toEqual(["200", "200", "200", "400"]);
    const fwd = "host: a.test\r\nUser-Agent: walker/1\r\nAccept: application/json\r\nx-forwarded-for: 127.0.0.1\r\nx-forwarded-proto: http\r\nx-forwarded-host: a.test";
    expect(heads).toEqual([`GET /one HTTP/1.1\r\n${fwd}`, `GET /two?x=1 HTTP/1.1\r\n${fwd}`, `HEAD /three HTTP/1.1\r\n${fwd}`]);
    // HTTP/1.0 with the same (keep-alive-less) fields: answered, then closed
    const c2 = await Client.open(p.port);
    c2.send(`GET /one HTTP/1.1\r\n${fields}`);
    await c2.until(() => c2.count() === 1 && c2["text"].endsWith("ok"));
    c2.send(`GET /four HTTP/1.0\r\n${fields}`);
    const t2 = await c2.until(() => c2.closed);
    expect(t2.split("HTTP/1.1 200").length - 1).toBe(2);
    expect(heads.at(-1)).toBe(`GET /four HTTP/1.1\r\n${fwd}`);
    await p.stop();
  });

  test("pipelined requests are answered in order", async () => {
    const out = await raw(proxy.port, "GET /p1 HTTP/1.1\r\nHost: a\r\n\r\nGET /p2 HTTP/1.1\r\nHost: a\r\n\r\nGET /p3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    const paths = [...out.matchAll(/"path":"(\/p\d)"/g)].map((m) => m[1]);
    expect(paths).toEqual(["/p1", "/p2", "/p3"]);
    expect(out).toContain("connection: close");
  });

  test("2000 pipelined requests in one write, proxied and answered locally, all come back in order", async () => {
    // an answer is written from the upstream connection's callback and the next request starts
    // from there: the requests must not pile up on the stack (nor be dropped) however many wait
    const n = 2000;
    let req = "";
    for (let i = 0; i < n; i++) req += i % 2 ? `GET /respond HTTP/1.1\r\nHost: a\r\n\r\n` : `GET /q${i} HTTP/1.1\r\nHost: a\r\n\r\n`;
    const c = await Client.open(proxy.port);
    c.send(req);
    const out = await c.until((t) => t.split("HTTP/1.1 ").length - 1 >= n);
    c.close();
    expect(out.split("HTTP/1.1 ").length - 1).toBe(n);
    const paths = [...out.matchAll(/"path":"\/q(\d+)"/g)].map((m) => Number(m[1]));
    expect(paths).toEqual(Array.from({ length: n / 2 }, (_, k) => 2 * k));
    expect(out.split("HTTP/1.1 204").length - 1).toBe(n / 2);
  });

  test("HEAD, 204 and 304 carry no body, and the connection stays in sync", async () => {
    const c = await Client.open(proxy.port);
    c.send("HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /204 HTTP/1.1\r\nHost: a\r\n\r\nGET /304 HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n");
    const t = await c.until((x) => x.includes('"path":"/after"'));
    const heads = t.split("HTTP/1.1 ").slice(1);
    expect(heads.map((h) => h.slice(0, 3))).toEqual(["200", "204", "304", "200"]);
    // HEAD keeps the upstream's length; nothing follows its head but the next response
    expect(heads[0]).toMatch(/content-length: [1-9]\d*\r\n/i);
    expect(heads[0]!.endsWith("\r\n\r\n")).toBe(true);
    expect(heads[1]!.endsWith("\r\n\r\n")).toBe(true);
    expect(heads[2]!.endsWith("\r\n\r\n")).toBe(true);
    c.close();
  });

  test("a Content-Length upload streams through (fetch, 300 KiB)", async () => {
    const data = crypto.getRandomValues(new Uint8Array(300 * 1024));
    const res = await fetch(`${proxy.base}/up`, { method: "POST", body: data });
    const j = (await res.json()) as { bytes: number; sum: number };
    expect(j.bytes).toBe(data.length);
    expect(j.sum).toBe(data.reduce((a, b) => (a + b) % 65521, 0));
  });

  test("a body the pipeline never reads (an answer without the upstream) is dropped and the connection stays in sync", async () => {
    const c = await Client.open(proxy.port);
    c.send("POST /respond HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /after-body HTTP/1.1\r\nHost: a\r\n\r\n");
    const t = await c.until((x) => x.includes("/after-body"));
    expect(t).toStartWith("HTTP/1.1 204");
    expect(c.closed).toBe(false);
    c.close();
  });

  test("a streamed upstream body is re-framed as chunked; an HTTP/1.0 client gets it close-delimited", async () => {
    const out = await raw(proxy.port, "GET /stream HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(out).toContain("transfer-encoding: chunked");
    expect(out).toEndWith("0\r\n\r\n");
    const old = await raw(proxy.port, "GET /stream HTTP/1.0\r\nHost: a\r\n\r\n");
    expect(old).not.toContain("transfer-encoding");
    expect(bodyOf(old)).toBe("part1;part2;part3;");
  });

  test("a client that stops reading a response is cut after client_timeout (downstream write timeout)", async () => {
    const sock = connect({ host: "127.0.0.1", port: proxy.port });
    await new Promise((r) => sock.once("connect", r));
    let got = 0;
    let closed = false;
    sock.on("data", (d: Buffer) => (got += d.length));
    sock.on("close", () => (closed = true));
    sock.write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
    await eventually(() => got > 0);
    sock.pause();
    // client_timeout is 1 s here, checked once a second: the front gives up within ~3 s
    await Bun.sleep(3500);
    sock.resume();
    await eventually(() => closed, 5000);
    expect(got).toBeLessThan(BIG);
  });

  test("an upstream's 103 Early Hints are passed on before the final response (not 100, not to HTTP/1.0)", async () => {
    const out = await raw(proxy.port, "GET /hints HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(out).toStartWith("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\n");
    expect(out).not.toContain("100 Continue");
    expect(out).toEndWith("\r\n\r\nok");
    const old = await raw(proxy.port, "GET /hints HTTP/1.0\r\nHost: a\r\n\r\n");
    expect(old).toStartWith("HTTP/1.1 200 OK\r\n");
  });

  test("an upstream's trailer fields are passed on after the last chunk (framing fields dropped)", async () => {
    const out = await raw(proxy.port, "GET /trailers HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nConnection: close\r\n\r\n");
    expect(out).toContain("transfer-encoding: chunked");
    expect(out).toEndWith("5\r\nhello\r\n0\r\nX-Checksum: abc123\r\n\r\n");
    expect(out).not.toContain("Content-Length: 99");
    expect(out).not.toContain("a=b");
  });

  test("trailers are not passed on by a route that edits response headers (the edits do not reach them)", async () => {
    const out = await raw(proxy.port, "GET /trailers-edited HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(out).toEndWith("5\r\nhello\r\n0\r\n\r\n");
    expect(out).not.toContain("abc123");
  });

  test("a malformed trailer section cuts the response after the head: no last chunk, the client sees it incomplete", async () => {
    const out = await raw(proxy.port, "GET /bad-trailer HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(out).toStartWith("HTTP/1.1 200 OK\r\n");
    expect(out).toContain("transfer-encoding: chunked");
    expect(out).not.toContain("0\r\n\r\n");
  });

  test("Connection: close is honoured: the response says so and the connection closes", async () => {
    const c = await Client.open(proxy.port);
    c.send("GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    const t = await c.until(() => false);
    expect(c.closed).toBe(true);
    expect(t).toContain("connection: close");
  });

  test("a client that half-closes after its request still gets the answer (Bun.serve drops it)", async () => {
    const c = await Client.open(proxy.port, undefined, true);
    c.send("GET /half HTTP/1.1\r\nHost: a\r\n\r\n");
    c.sock.end();
    const t = await c.until((x) => x.includes("/half"));
    expect(t).toContain('"path":"/half"');
    c.close();
  });

  test("an idle connection is closed after client_timeout", async () => {
    const c = await Client.open(proxy.port);
    c.send("GET /idle HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.until((t) => t.includes("/idle"));
    await eventually(() => c.closed, 10_000, 100);
  });

  test("a connection in use is not cut by client_timeout (1 s here); only idleness counts", async () => {
    const c = await Client.open(proxy.port);
    // 12 requests 300 ms apart: 3.6 s of traffic, never a second idle
    for (let i = 0; i < 12; i++) {
      c.send(`GET /busy${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
      await c.until((t) => t.includes(`/busy${i}"`));
      await Bun.sleep(300);
    }
    expect(c.closed).toBe(false);
    expect(c.count()).toBe(12);
    c.close();
  });

  test("the upstream dying mid-body: the client gets fewer bytes than Content-Length and a closed connection", async () => {
    const c = await Client.open(proxy.port);
    c.send("GET /dying HTTP/1.1\r\nHost: a\r\n\r\n");
    const t = await c.until(() => false);
    expect(c.closed).toBe(true);
    expect(t).toContain("content-length: 1000");
    expect(bodyOf(t).length).toBeLessThan(1000);
  });

  test("curl: keep-alive reuse across two URLs", async () => {
    const p = Bun.spawn(["curl", "-sv", `${proxy.base}/c1`, `${proxy.base}/c2`], { stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    await p.exited;
    expect(out).toContain('"path":"/c1"');
    expect(out).toContain('"path":"/c2"');
    expect(err).toMatch(/Re-using existing connection|Reusing existing connection/);
  });
});

describe("raw front: bad input", () => {
  test("conflicting Content-Length / Transfer-Encoding → 400 and close", async () => {
    expect(await raw(proxy.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")).toStartWith("HTTP/1.1 400");
  });

  test("a head over max_header_size → 431", async () => {
    expect(await raw(proxy.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"x".repeat(5000)}\r\n\r\n`)).toStartWith("HTTP/1.1 431");
  });

  test("garbage request lines and header lines → 400", async () => {
    expect(await raw(proxy.port, "garbage\r\n\r\n")).toStartWith("HTTP/1.1 400");
    expect(await raw(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n")).toStartWith("HTTP/1.1 400");
    expect(await raw(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n")).toStartWith("HTTP/1.1 400");
    expect(await raw(proxy.port, "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n")).toStartWith("HTTP/1.1 400");
  });
});

describe("raw front: passed through to Bun.serve", () => {
  test("a chunked upload is decoded by the front and sent on chunked; a pipelined request after it is answered too", async () => {
    const c = await Client.open(proxy.port);
    // chunks split across writes, an extension and a trailer; then a pipelined GET in the same write
    // (Bun.serve 1.4.5 drops such a connection: the front no longer passes chunked uploads to it)
    c.send("POST /ch HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhel");
    await Bun.sleep(20);
    c.send("lo\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n");
    const t = await c.until((x) => x.includes('"path":"/next"'));
    expect(t).toContain('"bytes":11');
    expect(t).toContain('"te":"chunked"');
    expect(t.split("HTTP/1.1 200").length - 1).toBe(2);
    c.close();
  });

  test("a malformed chunked upload is 400 and the connection closes", async () => {
    const out = await raw(proxy.port, "POST /ch HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
    expect(out).toStartWith("HTTP/1.1 400 ");
    expect(out).toContain("connection: close");
  });

  test("the upstream sees the real client address through both paths", async () => {
    // bound to 127.0.0.2, unlike the tunnel to the internal server (127.0.0.1)
    const c = await Client.open(proxy.port, "127.0.0.2");
    c.send("GET /direct HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.until((x) => x.includes("/direct"));
    c.send("POST /tunnel HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    const t = await c.until((x) => x.includes("/tunnel"));
    const xffs = [...t.matchAll(/"xff":"([^"]+)"/g)].map((m) => m[1]);
    expect(xffs).toEqual(["127.0.0.2", "127.0.0.2"]);
    c.close();
  });

  test("a compressing route goes through Bun.serve and still compresses", async () => {
    const res = await fetch(`${proxy.base}/gz/${"x".repeat(2000)}`, { headers: { "accept-encoding": "gzip" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("vary")).toContain("Accept-Encoding");
  });
});

describe("raw front: HTTP Upgrade", () => {
  // an origin speaking a made-up protocol after its 101: it echoes bytes upper-cased
  let seenHead = "";
  const upper = rawOrigin((s, data) => {
    if (!s.data?.switched) {
      seenHead = data;
      s.data = { switched: true };
      s.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n");
      const early = data.slice(data.indexOf("\r\n\r\n") + 4);
      if (early) s.write(early.toUpperCase());
      return;
    }
    s.write(data.toUpperCase());
  });

  test("any protocol: the 101 is passed on, then bytes flow both ways (early bytes included)", async () => {
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  u: { servers: ["${upper.addr}"] }\nroutes:\n  - { upstream: u }\n`));
    const c = await Client.open(p.port, "127.0.0.2");
    c.send("GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\nhello");
    expect(await c.until((t) => t.includes("HELLO"))).toStartWith("HTTP/1.1 101 Switching Protocols\r\n");
    expect(c["text"]).toMatch(/upgrade: shout\r\n/i);
    c.send("more");
    await c.until((t) => t.includes("MORE"));
    expect(seenHead).toMatch(/connection: upgrade\r\nupgrade: shout\r\n/);
    expect(seenHead).toContain("x-forwarded-for: 127.0.0.2");
    c.close();
    await p.stop();
  });

  test("a client's half-close goes through the tunnel as a half-close: what the upstream sends after it still arrives", async () => {
    // after the 101 this origin answers 100 ms late, and answers the client's FIN with BYE and its own
    const late = Bun.listen<{ switched?: boolean }>({
      hostname: "127.0.0.1",
      port: 0,
      allowHalfOpen: true,
      socket: {
        open: (s) => void (s.data = {}),
        data(s, d) {
          if (!s.data.switched) {
            s.data.switched = true;
            s.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n");
            return;
          }
          const t = Buffer.from(d).toString();
          setTimeout(() => s.write(t.toUpperCase()), 100);
        },
        end: (s) => void setTimeout(() => (s.write("BYE"), s.end()), 200),
      },
    });
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  u: { servers: ["127.0.0.1:${late.port}"] }\nroutes:\n  - { upstream: u }\n`));
    try {
      const text = await new Promise<string>((resolve) => {
        let t = "";
        const c = connect({ host: "127.0.0.1", port: p.port, allowHalfOpen: true }, () => c.write("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n"));
        c.on("data", (d: Buffer) => {
          const switched = t.includes("\r\n\r\n");
          t += d.toString();
          if (!switched && t.includes("\r\n\r\n")) c.end("more");
        });
        c.on("error", () => {});
        c.on("close", () => resolve(t));
        setTimeout(() => (c.destroy(), resolve(t)), 3000);
      });
      expect(text).toStartWith("HTTP/1.1 101 ");
      expect(text.slice(text.indexOf("\r\n\r\n") + 4)).toBe("MOREBYE");
    } finally {
      late.stop(true);
      await p.stop();
    }
  });

  const wsOrigin = origin(
    (req, server) => (server.upgrade(req, { data: req.headers.get("x-forwarded-for") }) ? undefined : new Response("no", { status: 400 })),
    { websocket: { open: (s: any) => s.send(`hi ${s.data}`), message: (s: any, m: any) => s.send(`echo:${m}`) } },
  );

  for (const raw of [true, false]) {
    test(`WebSocket ${raw ? "as a byte tunnel (raw front)" : "through Bun.serve's message bridge (raw: false)"}`, async () => {
      const p = await startProxy(indent(`listen: [{ addr: "127.0.0.1:0", raw: ${raw} }]\nupstreams:\n  ws: { servers: ["${wsOrigin.addr}"] }\nroutes:\n  - { upstream: ws }\n`));
      const sock = new WebSocket(`ws://127.0.0.1:${p.port}/`);
      const got: string[] = [];
      sock.onmessage = (e) => got.push(String(e.data));
      await eventually(() => got.length === 1);
      sock.send("x");
      await eventually(() => got.length === 2);
      expect(got).toEqual(["hi 127.0.0.1", "echo:x"]);
      sock.close();
      await p.stop();
    });
  }
});

describe("raw front: switch and lifecycle", () => {
  for (const graceful of [true, false])
    test(`a ${graceful ? "graceful" : "hard"} stop leaves none of its descriptors on the native loop: listener, clients, pooled upstream connections`, async () => {
      const o = origin(() => new Response("hi"));
      const before = NestedLoop.get()?.watching ?? 0;
      const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  u: { servers: ["${o.addr}"] }\nroutes:\n  - upstream: u\n`));
      const kept = await Client.open(p.port);
      kept.send("GET /k HTTP/1.1\r\nHost: a\r\n\r\n");
      await kept.until((x) => x.endsWith("hi"));
      for (let i = 0; i < 3; i++) expect(await (await fetch(`${p.base}/x`)).text()).toBe("hi");
      if (process.env.SECURELY_PROXY__IO !== "eventloop") expect(NestedLoop.get()!.watching).toBeGreaterThan(before + 2);
      await p.stop(graceful);
      await eventually(() => (NestedLoop.get()?.watching ?? 0) === before && kept.closed);
    });

  test("listen.raw: false serves through Bun.serve (streamed bodies re-chunked by Bun)", async () => {
    const p = await startProxy(indent(`listen: [{ addr: "127.0.0.1:0", raw: false }]\nupstreams:\n  echo: { servers: ["${echo.addr}"] }\nroutes:\n  - { upstream: echo }\n`));
    const out = await raw(p.port, "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(out).toStartWith("HTTP/1.1 200");
    expect(out).toContain('"path":"/x"');
    await p.stop();
  });

  test("graceful stop: an idle keep-alive connection is closed, an in-flight one finishes with Connection: close", async () => {
    const slow = origin(async () => {
      await Bun.sleep(300);
      return new Response("slow done");
    });
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  s: { servers: ["${slow.addr}"] }\nroutes:\n  - { upstream: s }\n`));
    const idle = await Client.open(p.port);
    const busy = await Client.open(p.port);
    const stopping = p.stop(true);
    await Bun.sleep(50);
    busy.send("GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
    const t = await busy.until((x) => x.includes("slow done"));
    expect(t).toContain("connection: close");
    await stopping;
    await eventually(() => idle.closed && busy.closed);
  });

  test("graceful stop: a response still running at the deadline is cut, and the stop resolves", async () => {
    const stuck = origin(async () => {
      await Bun.sleep(10_000);
      return new Response("too late");
    });
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  s: { servers: ["${stuck.addr}"], read_timeout: 60s }\nroutes:\n  - { upstream: s }\n`));
    const busy = await Client.open(p.port);
    busy.send("GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
    await eventually(() => p.services[0]!.status!().active === 1, 3000);
    await p.services[0]!.stop({ graceful: true, timeoutMs: 300 });
    await eventually(() => busy.closed, 3000);
    expect(busy.count()).toBe(0);
    // a second stop (the harness's) finds nothing left and does not throw
    await p.stop();
  });

  test("graceful stop: two at once both resolve when the busy response ends (not at the deadline)", async () => {
    const slow = origin(async () => {
      await Bun.sleep(1500);
      return new Response("done");
    });
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  s: { servers: ["${slow.addr}"] }\nroutes:\n  - { upstream: s }\n`));
    const busy = await Client.open(p.port);
    busy.send("GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
    await eventually(() => p.services[0]!.status!().active === 1, 3000);
    const t0 = Date.now();
    const first = p.services[0]!.stop({ graceful: true, timeoutMs: 8000 }).then(() => Date.now() - t0);
    await Bun.sleep(150);
    const second = p.services[0]!.stop({ graceful: true, timeoutMs: 8000 }).then(() => Date.now() - t0);
    const [a, b] = await Promise.all([first, second]);
    // the response ends at ~1.5 s; the deadline is 8 s (waiting for it was the defect)
    expect(a).toBeLessThan(6000);
    expect(b).toBeLessThan(6000);
    expect(await busy.until((x) => x.includes("done"))).toContain("connection: close");
    await p.stop();
  }, 15_000);
});
