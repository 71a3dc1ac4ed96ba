/**
 * The raw front against hostile or unusual clients and upstreams (one test per defect a review
 * found): header-name case in config, endless empty lines, a trickling head, repeated
 * Content-Length, bytes an upstream should not send, pipelining before a half-close, bare LF,
 * an early answer during a large upload, a client leaving before a 101, unmapped tunnel peers.
 */
import { describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { eventually } from "../../harness.ts";
import { indent, origin, raw, rawOrigin, startProxy } from "../helpers.ts";

const echo = origin(async (req) => {
  const body = req.body ? new Uint8Array(await req.arrayBuffer()) : new Uint8Array();
  return Response.json({ path: new URL(req.url).pathname, bytes: body.length, cl: req.headers.get("content-length"), keep: req.headers.get("x-keep"), drop: req.headers.get("x-drop") });
});
// a response head with a bare LF inside a value: a lenient client would see two Content-Lengths
const splitting = rawOrigin((s) => s.write("HTTP/1.1 200 OK\r\nX-A: a\nContent-Length: 0\r\nContent-Length: 2\r\n\r\nok"));
// no Date, and a header its Connection names (hop-by-hop)
const plainOrigin = rawOrigin((s) => s.write("HTTP/1.1 200 OK\r\nConnection: x-private\r\nX-Private: secret\r\nContent-Length: 2\r\n\r\nok"));
// answers a WebSocket-style upgrade only after 300 ms
let upOpen = 0;
const slowUpgrade = rawOrigin(
  (s) => setTimeout(() => s.write("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n"), 300),
  () => upOpen++,
);

const proxy = await startProxy(indent(`listen: ["127.0.0.1:0"]
client_timeout: 1
upstreams:
  echo: { servers: ["${echo.addr}"] }
  splitting: { servers: ["${splitting.addr}"], max_retries: 0 }
  plain: { servers: ["${plainOrigin.addr}"] }
  slowup: { servers: ["${slowUpgrade.addr}"], max_retries: 0, balance: least_conn }
routes:
  - match: { headers: { X-Env: prod } }
    respond: { status: 200, body: "prod route" }
  - match: { path: /small }
    max_body_size: 1k
    respond: { status: 200, body: "small" }
  - match: { path: /limited }
    max_body_size: 1k
    upstream: echo
  - match: { path: /split }
    upstream: splitting
  - match: { path: /plain }
    upstream: plain
  - match: { path: /up }
    upstream: slowup
  - upstream: echo
`));

const bodyOf = (r: string) => r.slice(r.indexOf("\r\n\r\n") + 4);

describe("raw front hardening", () => {
  test("config header names match whatever case the client or the config used", async () => {
    expect(bodyOf(await raw(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\nx-env: prod\r\nConnection: close\r\n\r\n"))).toBe("prod route");
    expect(bodyOf(await raw(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\nX-ENV: prod\r\nConnection: close\r\n\r\n"))).toBe("prod route");
  });

  test("a repeated identical Content-Length counts once: the upstream gets one valid length", async () => {
    const out = await raw(proxy.port, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
    expect(JSON.parse(bodyOf(out))).toMatchObject({ bytes: 5, cl: "5" });
    // and the route's body limit sees it
    const big = await raw(proxy.port, `POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n${"x".repeat(5000)}`);
    expect(big).toStartWith("HTTP/1.1 413 ");
  });

  /** Write `piece(i)` every `everyMs` until the proxy closes the connection (bounded); what came back. */
  async function feedUntilClosed(piece: (i: number) => string | Buffer, everyMs: number, maxMs: number): Promise<string> {
    const s = connect({ host: "127.0.0.1", port: proxy.port });
    let got = "";
    let closed = false;
    s.on("data", (d) => (got += d));
    s.on("close", () => (closed = true));
    s.on("error", () => {});
    const t0 = Date.now();
    for (let i = 0; !closed && Date.now() - t0 < maxMs; i++) {
      s.write(piece(i));
      await Bun.sleep(everyMs);
    }
    await eventually(() => closed, 3000);
    return got;
  }

  test("a chunked upload over a proxied route's max_body_size is 413 (counted as it is decoded)", async () => {
    const chunk = "x".repeat(600);
    const out = await raw(proxy.port, `POST /limited HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`);
    expect(out).toStartWith("HTTP/1.1 413 ");
  });

  test("a trailer section is bounded as a whole, dropped fields included (400, not an endless read)", async () => {
    const flood = "host: x\r\n".repeat(2000);
    const out = await raw(proxy.port, `POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n${flood}\r\n`);
    expect(out).toStartWith("HTTP/1.1 400 ");
    expect(out).toContain("trailer section over 8192 bytes");
  });

  test("the listener-wide max_body_size caps a chunked upload even where a route allows more", async () => {
    const capped = await startProxy(indent(`listen: ["127.0.0.1:0"]
max_body_size: 1k
upstreams:
  echo: { servers: ["${echo.addr}"] }
routes:
  - { match: { path: /roomy }, max_body_size: 10m, upstream: echo }
  - { match: { path: /unlimited }, max_body_size: 0, upstream: echo }
`));
    const body = "x".repeat(2048);
    for (const path of ["/roomy", "/unlimited"]) {
      const out = await raw(capped.port, `POST ${path} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n${body}\r\n0\r\n\r\n`);
      expect([path, out.slice(0, 13)]).toEqual([path, "HTTP/1.1 413 "]);
    }
    await capped.stop();
  });

  test("malformed chunking of a body nobody reads: the answer still goes out, then the connection closes", async () => {
    const out = await raw(proxy.port, "POST /small HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(out).toStartWith("HTTP/1.1 200 ");
    expect(out).toContain("connection: close");
    expect(out.match(/HTTP\/1\.1 /g)?.length).toBe(1);
  });

  test("an HTTP/1.0 request without Host reaches the upstream with the upstream's name as Host, not an empty one", async () => {
    const seen: string[] = [];
    const o = rawOrigin((sock, data) => {
      seen.push(data);
      sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  app: { servers: ["${o.addr}"] }\nroutes:\n  - upstream: app\n`));
    expect(await raw(p.port, "GET / HTTP/1.0\r\n\r\n")).toStartWith("HTTP/1.1 200 ");
    expect(seen.join("")).toContain("\r\nhost: app\r\n");
    await p.stop();
  });

  test("endless empty lines before a request line end in 400 (more than a head's worth), not in growing memory", async () => {
    const crlf = Buffer.alloc(64 * 1024, "\r\n");
    expect(await feedUntilClosed(() => crlf, 20, 4000)).toStartWith("HTTP/1.1 400 ");
  });

  test("a stray CRLF after a request body is not the start of a head: no 408, the idle connection just closes", async () => {
    const out = await raw(proxy.port, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi\r\n", 3500);
    expect(out.match(/HTTP\/1\.1 \d+/g)).toEqual(["HTTP/1.1 200"]);
  });

  test("a head trickling in a byte at a time gets client_timeout in all (408), not per byte", async () => {
    const head = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + "y".repeat(100);
    expect(await feedUntilClosed((i) => head[i % head.length]!, 200, 8000)).toStartWith("HTTP/1.1 408 ");
  });

  test("header lines ended by a bare LF are answered 400 at once", async () => {
    expect(await raw(proxy.port, "GET / HTTP/1.1\nHost: a\n\n", 500)).toStartWith("HTTP/1.1 400 ");
  });

  test("an upstream head with a bare LF or control byte is a bad response (502), never passed on", async () => {
    const out = await raw(proxy.port, "GET /split HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(out).toStartWith("HTTP/1.1 502 ");
    expect(out).not.toContain("X-A");
  });

  test("a response without Date gets one; headers named by Connection are dropped both ways", async () => {
    const out = await raw(proxy.port, "GET /plain HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(out).toMatch(/\r\ndate: \w{3}, \d\d \w{3} \d{4} /);
    expect(out).not.toContain("X-Private");
    const req = await raw(proxy.port, "GET /x HTTP/1.1\r\nHost: a\r\nConnection: x-drop, close\r\nX-Drop: 1\r\nX-Keep: 2\r\n\r\n");
    expect(JSON.parse(bodyOf(req))).toMatchObject({ keep: "2", drop: null });
  });

  /** Write `data`, half-close, and collect the answer until the proxy closes, `done(got)` holds, or 5 s. */
  function halfClosed(data: string, done: (got: string) => boolean = () => false): Promise<string> {
    return new Promise<string>((resolve) => {
      let got = "";
      const s = connect({ host: "127.0.0.1", port: proxy.port }, () => {
        s.write(data);
        s.end();
      });
      s.on("data", (d) => {
        got += d;
        if (done(got)) resolve(got);
      });
      s.on("close", () => resolve(got));
      setTimeout(() => resolve(got), 5000);
    });
  }

  test("pipelined requests followed by a half-close are all answered, then the connection closes", async () => {
    const out = await halfClosed("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(out.match(/HTTP\/1\.1 200 /g)?.length).toBe(3);
    expect([...out.matchAll(/"path":"(\/\w)"/g)].map((m) => m[1])).toEqual(["/a", "/b", "/c"]);
  });

  /** A client socket that records what came back, its error and its close. */
  async function watched() {
    const s = connect({ host: "127.0.0.1", port: proxy.port });
    await new Promise((r) => s.once("connect", r));
    const w = { s, got: "", err: "", closed: new Promise((r) => s.once("close", r)) };
    s.on("data", (d) => (w.got += d));
    s.on("error", (e) => (w.err = e.message));
    return w;
  }

  test("an answer sent before a large upload ended still reaches a client that reads only after sending", async () => {
    const w = await watched();
    const s = w.s;
    const size = 8 << 20;
    s.write(`POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`);
    s.pause();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let sent = 0; sent < size && !s.destroyed; sent += chunk.length) {
      if (!s.write(chunk)) await Promise.race([new Promise((r) => s.once("drain", r)), Bun.sleep(500)]);
    }
    s.resume();
    await Promise.race([w.closed, Bun.sleep(5000)]);
    expect(w.err).toBe("");
    expect(w.got).toStartWith("HTTP/1.1 413 ");
  });

  test("a client that half-closes after a passed-through request (Expect: 100-continue) still gets the answer", async () => {
    // the internal server closes only at its idle timeout: stop reading once the answer is in
    const out = await halfClosed("POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", (got) => got.includes('"bytes":5'));
    expect(out).toContain("HTTP/1.1 200 ");
    expect(out).toContain('"bytes":5');
  });

  test("a half-close while the rest of an answered upload is being dropped closes cleanly (no reset)", async () => {
    const w = await watched();
    w.s.write(`POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n${"x".repeat(100)}`);
    await eventually(() => w.got.includes("413"));
    w.s.end();
    await Promise.race([w.closed, Bun.sleep(4000)]);
    expect(w.got).toStartWith("HTTP/1.1 413 ");
    expect(w.err).toBe("");
  });

  test("a client that leaves before the upstream's 101 does not leave the upstream connection busy", async () => {
    const active = () => (proxy.services[0]!.status!() as any).upstreams.find((u: any) => u.name === "slowup").servers[0].active;
    for (let i = 0; i < 3; i++) {
      const s = await Bun.connect({ hostname: "127.0.0.1", port: proxy.port, socket: { data() {} } });
      s.write("GET /up HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n");
      await Bun.sleep(50);
      s.terminate();
    }
    expect(upOpen).toBeGreaterThan(0);
    await eventually(() => active() === 0, 3000);
  });
});
