/** Route actions and filters end to end: auth, IP rules, rate limits, compression, redirects, logs, metrics. */
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, brotliDecompressSync } from "node:zlib";
import * as zlib from "node:zlib";
import { metrics } from "../../src/core/metrics/index.ts";
import { flushProxyMetrics } from "../../src/proxy/metrics.ts";
import { eventually, tempDir } from "../harness.ts";
import { indent, origin, startProxy } from "./helpers.ts";

const text = "the quick brown fox jumps over the lazy dog. ".repeat(200);
const o = origin((req, server) => {
  const path = new URL(req.url).pathname;
  if (path.endsWith("/text")) return new Response(text, { headers: { "content-type": "text/plain" } });
  if (path.endsWith("/png")) return new Response(text, { headers: { "content-type": "image/png" } });
  if (path.endsWith("/tiny")) return new Response("tiny", { headers: { "content-type": "text/plain" } });
  return Response.json({ xff: req.headers.get("x-forwarded-for"), proto: req.headers.get("x-forwarded-proto"), host: req.headers.get("x-forwarded-host"), port: server.port });
});
const o2 = origin((_req, server) => Response.json({ port: server.port }));
const dir = tempDir();
writeFileSync(join(dir, "403.html"), "<h1>custom forbidden</h1>");
const hash = await Bun.password.hash("s3cret");
const log = join(dir, "access.log");

const proxy = await startProxy(
  indent(`listen: ["127.0.0.1:0"]
trusted_proxies: [127.0.0.0/8]
access_log: { enabled: true, path: ${log}, format: json }
server_header: securely
upstreams:
  o: { servers: ["${o.addr}"] }
  sticky: { servers: ["${o.addr}", "${o2.addr}"], balance: cookie, cookie: { name: lb } }
  hashed: { servers: ["${o.addr}", "${o2.addr}"], balance: consistent_hash, hash_key: "header:x-user" }
routes:
  - { name: health, match: { path: /healthz }, respond: { status: 200, body: "alive" } }
  - { name: old, match: { path: /old }, redirect: { to: "https://new.example{path}{query}", status: 301 } }
  - name: auth
    match: { path: /auth }
    upstream: o
    basic_auth: { users: { alice: plain-pw, bob: "${hash}" } }
  - name: deny
    match: { path: /deny }
    upstream: o
    deny: [127.0.0.1]
    error_pages: { "403": ${join(dir, "403.html")} }
  - { name: allow, match: { path: /allow }, upstream: o, allow: [10.0.0.0/8] }
  - name: limited
    match: { path: /limited }
    upstream: o
    rate_limit: { rate: 2, per: 60s, burst: 1, key: "header:x-key" }
  - { name: gz, match: { path: /gz }, upstream: o, compress: [zstd, br, gzip] }
  - { name: sticky, match: { path: /sticky }, upstream: sticky }
  - { name: hashed, match: { path: /hashed }, upstream: hashed }
  - { name: methods, match: { path: /m, methods: [POST] }, respond: { status: 201, body: posted } }
  - { name: default, upstream: o }
`),
);

describe("static actions", () => {
  test("respond and redirect", async () => {
    const r = await fetch(`${proxy.base}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("alive");
    const red = await fetch(`${proxy.base}/old/page?a=1`, { redirect: "manual" });
    expect(red.status).toBe(301);
    expect(red.headers.get("location")).toBe("https://new.example/old/page?a=1");
  });
  test("method match falls through to the next route", async () => {
    expect((await fetch(`${proxy.base}/m`, { method: "POST" })).status).toBe(201);
    expect((await fetch(`${proxy.base}/m`)).status).toBe(200);
  });
  test("no route → 404 naming host and path", async () => {
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nroutes:\n  - { match: { host: [a.test] }, respond: { status: 200 } }\n`));
    const r = await fetch(`${p.base}/x`, { headers: { host: "b.test" } });
    expect(r.status).toBe(404);
    expect(await r.text()).toBe("no route for b.test/x\n");
    await p.stop();
  });
});

describe("access filters", () => {
  test("basic auth: plain and hashed passwords; 401 with a challenge otherwise", async () => {
    const no = await fetch(`${proxy.base}/auth`);
    expect(no.status).toBe(401);
    expect(no.headers.get("www-authenticate")).toContain('Basic realm="securely"');
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    expect((await fetch(`${proxy.base}/auth`, { headers: { authorization: `Basic ${b64("alice:plain-pw")}` } })).status).toBe(200);
    expect((await fetch(`${proxy.base}/auth`, { headers: { authorization: `Basic ${b64("bob:s3cret")}` } })).status).toBe(200);
    expect((await fetch(`${proxy.base}/auth`, { headers: { authorization: `Basic ${b64("bob:wrong")}` } })).status).toBe(401);
    expect((await fetch(`${proxy.base}/auth`, { headers: { authorization: "Basic !!!" } })).status).toBe(401);
  });
  test("deny and allow by client IP, with a custom error page", async () => {
    const d = await fetch(`${proxy.base}/deny`);
    expect(d.status).toBe(403);
    expect(await d.text()).toBe("<h1>custom forbidden</h1>");
    expect((await fetch(`${proxy.base}/allow`)).status).toBe(403);
  });
  test("rate limit per key: burst, then 429 with RateLimit headers; other keys unaffected", async () => {
    const hit = (k: string) => fetch(`${proxy.base}/limited`, { headers: { "x-key": k } });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await hit("k1")).status);
    expect(codes).toEqual([200, 200, 200, 429]);
    const r = await hit("k1");
    expect(r.status).toBe(429);
    expect(r.headers.get("ratelimit-limit")).toBe("3");
    expect(r.headers.get("ratelimit-remaining")).toBe("0");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await hit("k2")).status).toBe(200);
    expect(metrics.counter("securely_proxy_rate_limited_total", "").get({ route: "limited" })).toBe(2);
  });
});

describe("compression", () => {
  test("gzip, br and zstd by Accept-Encoding preference; bytes round-trip", async () => {
    const get = (ae: string) => fetch(`${proxy.base}/gz/text`, { headers: { "accept-encoding": ae }, decompress: false } as any);
    const g = await get("gzip");
    expect(g.headers.get("content-encoding")).toBe("gzip");
    expect(g.headers.get("vary")).toContain("Accept-Encoding");
    const gz = new Uint8Array(await g.arrayBuffer());
    expect(gz.length).toBeLessThan(text.length / 4);
    expect(gunzipSync(gz).toString()).toBe(text);
    const b = await get("gzip, br");
    expect(b.headers.get("content-encoding")).toBe("br");
    expect(brotliDecompressSync(new Uint8Array(await b.arrayBuffer())).toString()).toBe(text);
    if (typeof (zlib as any).zstdDecompressSync === "function") {
      const z = await get("zstd, gzip");
      expect(z.headers.get("content-encoding")).toBe("zstd");
      expect((zlib as any).zstdDecompressSync(new Uint8Array(await z.arrayBuffer())).toString()).toBe(text);
    }
  });
  test("skips clients without Accept-Encoding, images and tiny bodies", async () => {
    const plain = await fetch(`${proxy.base}/gz/text`, { headers: { "accept-encoding": "identity" }, decompress: false } as any);
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(await plain.text()).toBe(text);
    const png = await fetch(`${proxy.base}/gz/png`, { headers: { "accept-encoding": "gzip" }, decompress: false } as any);
    expect(png.headers.get("content-encoding")).toBeNull();
    const tiny = await fetch(`${proxy.base}/gz/tiny`, { headers: { "accept-encoding": "gzip" }, decompress: false } as any);
    expect(tiny.headers.get("content-encoding")).toBeNull();
  });
});

describe("forwarding and balancing", () => {
  test("trusted proxies: X-Forwarded-* from a trusted peer are kept and extended", async () => {
    const j = (await (await fetch(`${proxy.base}/x`, { headers: { "x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https", "x-forwarded-host": "shop.example" } })).json()) as any;
    expect(j.xff).toBe("203.0.113.7, 127.0.0.1");
    expect(j.proto).toBe("https");
    expect(j.host).toBe("shop.example");
  });
  test("sticky cookie: the first answer sets it, later requests stay on that server", async () => {
    const first = await fetch(`${proxy.base}/sticky`);
    const cookie = first.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^lb=\w+; Path=\/; HttpOnly/);
    const port = ((await first.json()) as any).port;
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${proxy.base}/sticky`, { headers: { cookie: cookie.split(";")[0]! } });
      expect(((await r.json()) as any).port).toBe(port);
      expect(r.headers.get("set-cookie")).toBeNull();
    }
  });
  test("consistent hash on a header keeps a user on one server", async () => {
    const ports = new Set();
    for (let i = 0; i < 5; i++) ports.add(((await (await fetch(`${proxy.base}/hashed`, { headers: { "x-user": "u-17" } })).json()) as any).port);
    expect(ports.size).toBe(1);
  });
});

describe("observability", () => {
  test("server header, metrics per route/upstream/status, JSON access log", async () => {
    const r = await fetch(`${proxy.base}/healthz`);
    expect(r.headers.get("server")).toBe("securely");
    flushProxyMetrics();
    expect(metrics.counter("securely_proxy_requests_total", "").get({ route: "health", upstream: "-", status: 200 })).toBeGreaterThan(0);
    const text = metrics.render();
    expect(text).toContain('securely_proxy_request_duration_seconds_bucket{route="default",upstream="o",le="+Inf"}');
    expect(text).toContain("securely_proxy_upstream_connect_seconds");
    await fetch(`${proxy.base}/logged?q=1`, { headers: { "user-agent": "test-agent" } });
    const line = await eventually(() => readFileSync(log, "utf8").split("\n").find((l) => l.includes("/logged?q=1")));
    const entry = JSON.parse(line!);
    expect(entry).toMatchObject({ method: "GET", target: "/logged?q=1", status: 200, route: "default", upstream: "o", server: o.addr, user_agent: "test-agent", attempts: 1 });
  });
  test("combined format", async () => {
    const d = tempDir();
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\naccess_log: { enabled: true, path: ${join(d, "a.log")} }\nroutes:\n  - respond: { status: 204 }\n`));
    await fetch(`${p.base}/c`, { headers: { referer: "http://ref" } });
    await p.stop();
    expect(readFileSync(join(d, "a.log"), "utf8")).toMatch(/^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/c HTTP\/1\.1" 204 - "http:\/\/ref" "[^"]*" [\d.]+ms route-0 -\n$/);
  });
});
