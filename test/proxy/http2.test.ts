/** HTTP/2 downstream (listen[].http2) through node:http2: ALPN h2 with HTTP/1.1 fallback, h2c, uploads, resets. */
import { describe, expect, test } from "bun:test";
import http2 from "node:http2";
import { readFileSync } from "node:fs";
import { eventually } from "../harness.ts";
import { indent, origin, rawOrigin, startProxy } from "./helpers.ts";
import { makePki } from "./tls-fixtures.ts";

const pki = makePki(["localhost"]);
const ca = readFileSync(pki.ca, "utf8");
const o = origin(async (req) => Response.json({ path: new URL(req.url).pathname, bytes: req.body ? (await req.arrayBuffer()).byteLength : 0, host: req.headers.get("host") }));
const dies = rawOrigin((s, d) => {
  if (d.includes("\r\n\r\n")) {
    s.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    setTimeout(() => s.end(), 20);
  }
});
const routes = `upstreams:\n  o: { servers: ["${o.addr}"] }\n  dies: { servers: ["${dies.addr}"] }\nroutes:\n  - { match: { path: /dies }, upstream: dies }\n  - upstream: o\n`;

/** One HTTP/2 request; resolves with status, headers and body, or rejects on a stream error. */
function h2request(url: string, path: string, opts: { method?: string; body?: Uint8Array; ca?: string } = {}): Promise<{ status: number; body: string; headers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const client = http2.connect(url, { ca: opts.ca });
    client.on("error", reject);
    const req = client.request({ ":method": opts.method ?? "GET", ":path": path });
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on("response", (h) => {
      headers = h;
      status = Number(h[":status"]);
    });
    req.on("data", (c: Buffer) => chunks.push(c));
    // a reset stream (RST_STREAM CANCEL) ends without an 'error' event in node: check rstCode
    req.on("close", () => {
      client.close();
      if (req.rstCode) reject(new Error(`stream reset with code ${req.rstCode} after ${Buffer.concat(chunks).length} bytes`));
      else resolve({ status, headers, body: Buffer.concat(chunks).toString() });
    });
    req.on("error", (e) => {
      client.close();
      reject(e);
    });
    if (opts.body) req.end(opts.body);
    else req.end();
  });
}

describe("HTTP/2 downstream", () => {
  test("over TLS: ALPN h2 for HTTP/2 clients, HTTP/1.1 for the rest, on one port", async () => {
    const p = await startProxy(indent(`listen:\n  - { addr: 127.0.0.1:0, http2: true, tls: { enabled: true, certs: [{ cert: ${pki.certs.localhost!.cert}, key: ${pki.certs.localhost!.key} }] } }\n${routes}`));
    expect(p.listening[0]).toMatch(/^https 127\.0\.0\.1:\d+$/);
    const r = await h2request(`https://localhost:${p.port}`, "/h2?x=1", { ca });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ path: "/h2", bytes: 0, host: `localhost:${p.port}` });
    const up = await h2request(`https://localhost:${p.port}`, "/upload", { method: "POST", body: new Uint8Array(300_000), ca });
    expect(JSON.parse(up.body).bytes).toBe(300_000);
    const h1 = await fetch(`https://localhost:${p.port}/h1`, { tls: { ca } } as any);
    expect(((await h1.json()) as any).path).toBe("/h1");
    const curl = Bun.spawn(["curl", "-sS", "--http2", "--cacert", pki.ca, "-o", "/dev/null", "-w", "%{http_version}", `https://localhost:${p.port}/c`], { stdout: "pipe" });
    expect(await new Response(curl.stdout).text()).toBe("2");
    await p.stop();
  });

  test("an upstream dying mid-body resets the HTTP/2 stream (no fake complete body)", async () => {
    const p = await startProxy(indent(`listen:\n  - { addr: 127.0.0.1:0, http2: true, tls: { enabled: true, certs: [{ cert: ${pki.certs.localhost!.cert}, key: ${pki.certs.localhost!.key} }] } }\n${routes}`));
    await expect(h2request(`https://localhost:${p.port}`, "/dies", { ca })).rejects.toThrow(/NGHTTP2_INTERNAL_ERROR|stream reset with code 2/);
    await p.stop();
  });

  test("h2c with prior knowledge without TLS", async () => {
    const p = await startProxy(indent(`listen:\n  - { addr: 127.0.0.1:0, http2: true }\n${routes}`));
    expect(p.listening[0]).toMatch(/^h2c /);
    const r = await h2request(`http://127.0.0.1:${p.port}`, "/clear");
    expect(JSON.parse(r.body).path).toBe("/clear");
    await p.stop();
  });
});

describe("HTTP/2 downstream: the client leaves", () => {
  test("a stream reset while the upstream has not answered ends the upstream attempt (499), as on the other fronts", async () => {
    let closed = 0;
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, close: () => void closed++, error() {} } });
    const p = await startProxy(indent(`listen:\n  - { addr: 127.0.0.1:0, http2: true }\nupstreams:\n  s: { servers: ["127.0.0.1:${silent.port}"], read_timeout: 60s }\nroutes:\n  - upstream: s\n`));
    const client = http2.connect(`http://127.0.0.1:${p.port}`);
    client.on("error", () => {});
    const req = client.request({ ":method": "GET", ":path": "/slow" });
    req.on("error", () => {});
    await eventually(() => p.services[0]!.status!().active === 1, 3000);
    req.close(http2.constants.NGHTTP2_CANCEL);
    // read_timeout is 60 s: only the client's leaving can close the upstream connection this soon
    await eventually(() => closed === 1 && p.services[0]!.status!().active === 0, 3000);
    client.close();
    await p.stop();
    silent.stop(true);
  });
});
