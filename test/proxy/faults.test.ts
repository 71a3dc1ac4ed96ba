/** Bad input from clients and faults from upstreams, each against the real server with real clients. */
import { describe, expect, test } from "bun:test";
import { indent, origin, raw, rawOrigin, startProxy } from "./helpers.ts";

const ok = origin(async (req) => new Response(`ok ${req.body ? (await req.arrayBuffer()).byteLength : 0}`));

// upstream behaviours, one raw origin each
const diesBeforeHeaders = rawOrigin((s) => s.end());
const truncates = rawOrigin((s, d) => {
  if (d.includes("\r\n\r\n")) {
    s.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
    setTimeout(() => s.end(), 20);
  }
});
const truncatesChunked = rawOrigin((s, d) => {
  if (d.includes("\r\n\r\n")) {
    s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    setTimeout(() => s.end(), 20);
  }
});
const silent = rawOrigin(() => {});
let switchedClosed = 0;
const switches = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    data(s, d) {
      if (d.toString().includes("\r\n\r\n")) s.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n");
    },
    close() {
      switchedClosed++;
    },
  },
});
const garbage = rawOrigin((s, d) => {
  if (d.includes("\r\n\r\n")) s.write("SPAM SPAM SPAM\r\n\r\n");
});
const closedPort = (() => {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return `127.0.0.1:${port}`;
})();

const proxy = await startProxy(
  indent(`listen: ["127.0.0.1:0"]
max_body_size: 64k
client_timeout: 1
upstreams:
  ok: { servers: ["${ok.addr}"] }
  dies: { servers: ["${diesBeforeHeaders.addr}"], max_retries: 0 }
  trunc: { servers: ["${truncates.addr}"] }
  truncchunked: { servers: ["${truncatesChunked.addr}"] }
  silent: { servers: ["${silent.addr}"], read_timeout: 1 }
  garbage: { servers: ["${garbage.addr}"] }
  switches: { servers: ["127.0.0.1:${switches.port}"], max_retries: 0 }
  refused: { servers: ["${closedPort}"] }
routes:
  - { match: { path: /dies }, upstream: dies }
  - { match: { path: /trunc-gz }, upstream: trunc, compress: [gzip], compress_min_size: 0 }
  - { match: { path: /trunc }, upstream: trunc }
  - { match: { path: /chunked-trunc }, upstream: truncchunked }
  - { match: { path: /silent }, upstream: silent }
  - { match: { path: /garbage }, upstream: garbage }
  - { match: { path: /switches }, upstream: switches }
  - { match: { path: /refused }, upstream: refused }
  - { match: { path: /small }, upstream: ok, max_body_size: 10 }
  - upstream: ok
`),
  "max_retries: 1\n",
);

describe("bad input from clients", () => {
  test("oversized request head → 431", async () => {
    const out = await raw(proxy.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"x".repeat(20000)}\r\n\r\n`);
    expect(out).toStartWith("HTTP/1.1 431");
  });

  test("max_header_size below Bun's cap → 431 from the proxy", async () => {
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nmax_header_size: 1k\nroutes:\n  - respond: { status: 200 }\n`));
    const res = await fetch(`${p.base}/`, { headers: { "x-big": "y".repeat(2000) } });
    expect(res.status).toBe(431);
    expect(await res.text()).toContain("limit 1024 bytes");
    expect((await fetch(`${p.base}/`)).status).toBe(200);
    await p.stop();
  });

  test("body over max_body_size → 413 (Content-Length, chunked, per route)", async () => {
    const big = new Uint8Array(70 * 1024);
    expect((await fetch(`${proxy.base}/`, { method: "POST", body: big })).status).toBe(413);
    const chunked = await raw(proxy.port, `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${(70 * 1024).toString(16)}\r\n${"a".repeat(70 * 1024)}\r\n0\r\n\r\n`);
    expect(chunked).toStartWith("HTTP/1.1 413");
    expect((await fetch(`${proxy.base}/small`, { method: "POST", body: "01234567890" })).status).toBe(413);
    const r = await fetch(`${proxy.base}/small`, { method: "POST", body: "0123456789" });
    expect(await r.text()).toBe("ok 10");
  });

  test("per-route limit applies to chunked uploads while streaming", async () => {
    const out = await raw(proxy.port, `POST /small HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n14\r\n${"b".repeat(20)}\r\n0\r\n\r\n`);
    expect(out).toStartWith("HTTP/1.1 413");
  });

  test("CONNECT → 405 (no tunnelling)", async () => {
    const out = await raw(proxy.port, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 1000);
    expect(out).toStartWith("HTTP/1.1 405");
    expect(out).toContain("CONNECT is not supported");
  });

  test("malformed request line → 400", async () => {
    expect(await raw(proxy.port, "HELLO\r\n\r\n")).toStartWith("HTTP/1.1 400");
    expect(await raw(proxy.port, "GET / HTTP/1.1\r\nBad Header\r\n\r\n")).toStartWith("HTTP/1.1 400");
  });

  test("request smuggling attempts are rejected with 400", async () => {
    const clte = await raw(proxy.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(clte).toStartWith("HTTP/1.1 400");
    expect(clte).not.toContain("HTTP/1.1 200");
    expect(await raw(proxy.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde")).toStartWith("HTTP/1.1 400");
    expect(await raw(proxy.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\nabcd")).toStartWith("HTTP/1.1 400");
    expect(await raw(proxy.port, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")).toStartWith("HTTP/1.1 400");
  });

  test("an idle keepalive client connection is closed after client_timeout", async () => {
    const out = await raw(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 8000);
    // raw() resolves on close; the response came first and nothing after it
    expect(out).toStartWith("HTTP/1.1 200");
  });
});

describe("path normalization", () => {
  test("dot segments are resolved before routing, so /small/../x does not match the /small route", async () => {
    const out = await raw(proxy.port, "POST /small/../x HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nConnection: close\r\n\r\n01234567890");
    // the /small route would answer 413 (10-byte limit); the default route proxies it
    expect(out).toStartWith("HTTP/1.1 200");
    expect(out).toContain("ok 11");
  });
});

describe("upstream faults", () => {
  test("an upstream that stops reading the upload hits write_timeout → 502", async () => {
    // accepts the connection, then never reads: the kernel buffers fill and writes stall
    const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open(s) { s.pause(); }, data() {} } });
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  w: { servers: ["127.0.0.1:${l.port}"], write_timeout: 500ms }\nroutes:\n  - upstream: w\n`));
    const res = await fetch(`${p.base}/`, { method: "POST", body: new Uint8Array(32 * 1024 * 1024) });
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("did not accept request bytes within 500 ms");
    await p.stop();
    l.stop(true);
  });

  test("a response head over 64 KiB → 502", async () => {
    const huge = rawOrigin((s, d) => {
      if (d.includes("\r\n\r\n")) s.write(`HTTP/1.1 200 OK\r\nX-Big: ${"h".repeat(70_000)}\r\n\r\n`);
    });
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  h: { servers: ["${huge.addr}"] }\nroutes:\n  - upstream: h\n`));
    const res = await fetch(`${p.base}/`);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("response head over 65536 bytes");
    await p.stop();
  });

  test("upstream closes before headers → 502 with the reason", async () => {
    const res = await fetch(`${proxy.base}/dies`);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("closed the connection before responding");
  });

  test("connection refused → 502", async () => {
    const res = await fetch(`${proxy.base}/refused`);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("connect to");
  });

  test("garbage instead of a response → 502", async () => {
    const res = await fetch(`${proxy.base}/garbage`);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("bad response");
  });

  test("101 to a request that did not ask to upgrade → 502, and the upstream connection is closed, not held", async () => {
    const res = await fetch(`${proxy.base}/switches`);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("101 Switching Protocols to a request without Upgrade");
    const deadline = Date.now() + 3000;
    while (switchedClosed === 0 && Date.now() < deadline) await Bun.sleep(10);
    expect(switchedClosed).toBe(1);
  });

  test("upstream silent past read_timeout → 504", async () => {
    const res = await fetch(`${proxy.base}/silent`);
    expect(res.status).toBe(504);
    expect(await res.text()).toContain("upstream timed out");
  });

  test("upstream dies mid-body: fetch sees an error, never a complete body", async () => {
    const res = await fetch(`${proxy.base}/trunc`);
    expect(res.status).toBe(200);
    expect(res.text()).rejects.toThrow();
    const res2 = await fetch(`${proxy.base}/chunked-trunc`);
    expect(res2.text()).rejects.toThrow();
  });

  test("upstream dies mid-body under compression: the client still sees an error", async () => {
    const res = await fetch(`${proxy.base}/trunc-gz`, { headers: { "accept-encoding": "gzip" } });
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.arrayBuffer()).rejects.toThrow();
    const out = await raw(proxy.port, "GET /trunc-gz HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n");
    expect(out).toStartWith("HTTP/1.1 200");
    expect(out).not.toContain("\r\n0\r\n\r\n");
  });

  test("upstream dies mid-body: the raw response lacks the final chunk", async () => {
    const out = await raw(proxy.port, "GET /trunc HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(out).toStartWith("HTTP/1.1 200");
    expect(out).toContain("0123456789");
    expect(out).not.toContain("\r\n0\r\n\r\n");
  });

  test("curl reports the truncated transfer", async () => {
    const p = Bun.spawn(["curl", "-sS", "-o", "/dev/null", `${proxy.base}/trunc`], { stderr: "pipe" });
    const code = await p.exited;
    expect(code).not.toBe(0);
    expect(await new Response(p.stderr).text()).toMatch(/transfer closed|incomplete|end of response|reset by peer/i);
  });
});
