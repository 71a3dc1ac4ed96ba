/** TLS listeners with SNI, downstream mTLS, upstream TLS verification matrix, pool isolation by TLS identity. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { metrics } from "../../src/core/metrics/index.ts";
import { eventually } from "../harness.ts";
import { indent, startProxy } from "./helpers.ts";
import { makePki } from "./tls-fixtures.ts";

const pki = makePki(["localhost", "a.test", "b.test", "client", "origin.test"]);
const ca = readFileSync(pki.ca, "utf8");
const file = (n: string) => pki.certs[n]!;

/** The CN of the certificate the server presents for `serverName`. */
function presentedCn(port: number, serverName: string): Promise<string> {
  return new Promise((resolve, reject) => {
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      tls: { serverName, ca, rejectUnauthorized: false },
      socket: {
        handshake(s) {
          resolve((s.getPeerCertificate() as any).subject.CN);
          s.end();
        },
        data() {},
        error: (_s, e) => reject(e),
      },
    }).catch(reject);
  });
}

describe("TLS listener", () => {
  test("certificates are chosen by SNI; the first is the default", async () => {
    const p = await startProxy(
      indent(`listen:
  - addr: 127.0.0.1:0
    tls:
      enabled: true
      certs:
        - { cert: ${file("localhost").cert}, key: ${file("localhost").key} }
        - { cert: ${file("a.test").cert}, key: ${file("a.test").key}, server_name: a.test }
        - { cert: ${file("b.test").cert}, key: ${file("b.test").key}, server_name: b.test }
routes:
  - respond: { status: 200, body: secure }
`),
    );
    expect(p.listening[0]).toMatch(/^https 127\.0\.0\.1:\d+$/);
    expect(await presentedCn(p.port, "a.test")).toBe("a.test");
    expect(await presentedCn(p.port, "b.test")).toBe("b.test");
    expect(await presentedCn(p.port, "localhost")).toBe("localhost");
    const r = await fetch(`https://localhost:${p.port}/`, { tls: { ca } } as any);
    expect(await r.text()).toBe("secure");
    await p.stop();
  });

  test("downstream mTLS: a client without a certificate signed by client_ca is refused", async () => {
    const p = await startProxy(
      indent(`listen:
  - addr: 127.0.0.1:0
    tls:
      enabled: true
      client_ca: ${pki.ca}
      certs: [{ cert: ${file("localhost").cert}, key: ${file("localhost").key} }]
routes:
  - respond: { status: 200, body: mtls-ok }
`),
    );
    await expect(fetch(`https://localhost:${p.port}/`, { tls: { ca } } as any)).rejects.toThrow();
    const r = await fetch(`https://localhost:${p.port}/`, { tls: { ca, cert: readFileSync(file("client").cert, "utf8"), key: readFileSync(file("client").key, "utf8") } } as any);
    expect(await r.text()).toBe("mtls-ok");
    await p.stop();
  });

  test("tls.auto issues a certificate for its hosts from securely's local CA", async () => {
    const p = await startProxy(indent(`listen:\n  - { addr: 127.0.0.1:0, tls: { auto: true, hosts: [app.test, localhost] } }\nroutes:\n  - respond: { status: 200, body: auto }\n`));
    expect(p.listening[0]).toMatch(/^https /);
    // the local CA the tls module created for this project signs the served certificate
    const { ensureLocalCa } = await import("../../src/tls/index.ts");
    const localCa = ensureLocalCa(p.app).ca.certPem;
    const r = await fetch(`https://localhost:${p.port}/`, { tls: { ca: localCa } } as any);
    expect(await r.text()).toBe("auto");
    const cn = await new Promise<string>((resolve, reject) => {
      Bun.connect({ hostname: "127.0.0.1", port: p.port, tls: { serverName: "app.test", ca: localCa }, socket: { handshake(s, ok, err) { if (err) reject(err); else resolve((s.getPeerCertificate() as any).subjectaltname); s.end(); }, data() {} } });
    });
    expect(cn).toContain("DNS:app.test");
    await p.stop();
  });

  test("tls.auto without hosts is a clear start error", async () => {
    await expect(startProxy(indent(`listen:\n  - { addr: 127.0.0.1:0, tls: { auto: true } }\nroutes:\n  - respond: { status: 200 }\n`))).rejects.toThrow(/tls.auto needs tls.hosts/);
  });

  test("a missing certificate file is a clear start error", async () => {
    await expect(startProxy(indent(`listen:\n  - { addr: 127.0.0.1:0, tls: { enabled: true, certs: [{ cert: /nope.pem, key: /nope.key }] } }\nroutes:\n  - respond: { status: 200 }\n`))).rejects.toThrow(/proxy.listen 127.0.0.1:0: cannot read cert \/nope.pem/);
  });
});

describe("upstream TLS", () => {
  // a TLS origin whose certificate names origin.test; it counts connections
  let conns = 0;
  const o = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: readFileSync(file("origin.test").cert, "utf8"), key: readFileSync(file("origin.test").key, "utf8") },
    fetch: (req, server) => new Response(`tls-origin`),
  });
  const tcp = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        conns++;
        // relay to the TLS origin so we can count raw connections
        (s as any).data = { up: Bun.connect({ hostname: "127.0.0.1", port: o.port, socket: { data: (_u: unknown, d: Uint8Array) => s.write(d), close: () => s.end() } } as any) };
      },
      async data(s, d) {
        const up = await (s as any).data.up;
        up.write(d);
      },
      async close(s) {
        (await (s as any).data?.up)?.end();
      },
    },
  });
  const addr = `127.0.0.1:${tcp.port}`;

  const upstreams = `upstreams:
  verified: { servers: ["${addr}"], tls: { enabled: true, sni: origin.test, ca_file: ${pki.ca} } }
  no_ca: { servers: ["${addr}"], tls: { enabled: true, sni: origin.test } }
  no_verify: { servers: ["${addr}"], tls: { enabled: true, sni: origin.test, verify_cert: false } }
  wrong_name: { servers: ["${addr}"], tls: { enabled: true, sni: other.test, ca_file: ${pki.ca} } }
  wrong_name_no_host_check: { servers: ["${addr}"], tls: { enabled: true, sni: other.test, ca_file: ${pki.ca}, verify_hostname: false } }
  alt_cn: { servers: ["${addr}"], tls: { enabled: true, sni: other.test, alternative_cn: origin.test, ca_file: ${pki.ca} } }
  mtls: { servers: ["${addr}"], tls: { enabled: true, sni: origin.test, ca_file: ${pki.ca}, cert: ${file("client").cert}, key: ${file("client").key} } }
`;
  const routes = ["verified", "no_ca", "no_verify", "wrong_name", "wrong_name_no_host_check", "alt_cn", "mtls"].map((u) => `  - { match: { path: /${u} }, upstream: ${u} }`).join("\n");

  test("verification matrix: CA, no CA, verify off, SNI mismatch, verify_hostname off, alternative_cn", async () => {
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\n${upstreams}routes:\n${routes}\n`));
    const status = async (path: string) => (await fetch(`${p.base}/${path}`)).status;
    expect(await status("verified")).toBe(200);
    expect(await status("no_ca")).toBe(502);
    expect(await status("no_verify")).toBe(200);
    expect(await status("wrong_name")).toBe(502);
    expect(await status("wrong_name_no_host_check")).toBe(200);
    expect(await status("alt_cn")).toBe(200);
    await p.stop();
  });

  test("upstream mTLS: an origin requiring client certificates accepts only the upstream that presents one", async () => {
    const strict = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: readFileSync(file("origin.test").cert, "utf8"), key: readFileSync(file("origin.test").key, "utf8"), ca, requestCert: true, rejectUnauthorized: true },
      fetch: () => new Response("client cert accepted"),
    });
    const a = `127.0.0.1:${strict.port}`;
    const p = await startProxy(
      indent(`listen: ["127.0.0.1:0"]
upstreams:
  with_cert: { servers: ["${a}"], tls: { enabled: true, sni: origin.test, ca_file: ${pki.ca}, cert: ${file("client").cert}, key: ${file("client").key} } }
  without_cert: { servers: ["${a}"], tls: { enabled: true, sni: origin.test, ca_file: ${pki.ca} } }
routes:
  - { match: { path: /with }, upstream: with_cert }
  - { match: { path: /without }, upstream: without_cert }
`),
    );
    const ok = await fetch(`${p.base}/with`);
    expect(await ok.text()).toBe("client cert accepted");
    expect((await fetch(`${p.base}/without`)).status).toBe(502);
    await p.stop();
    strict.stop(true);
  });

  test("pooled connections are never shared across different TLS settings", async () => {
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\n${upstreams}routes:\n${routes}\n`));
    const before = conns;
    for (let i = 0; i < 3; i++) {
      expect((await fetch(`${p.base}/verified`)).status).toBe(200);
      expect((await fetch(`${p.base}/no_verify`)).status).toBe(200);
      expect((await fetch(`${p.base}/mtls`)).status).toBe(200);
    }
    // one connection per TLS identity, each reused twice
    expect(conns - before).toBe(3);
    await p.stop();
  });

  test("a client that leaves while the TLS handshake is under way: its request is never sent (as nginx), 499", async () => {
    // a TLS origin that counts requests, behind a relay that holds the handshake for 800 ms
    let requests = 0;
    const counted = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: readFileSync(file("origin.test").cert, "utf8"), key: readFileSync(file("origin.test").key, "utf8") },
      fetch: () => new Response(`request ${++requests}`),
    });
    const slow = Bun.listen<{ held: Uint8Array[]; up?: any }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(s) {
          s.data = { held: [] };
          setTimeout(async () => {
            const up = await Bun.connect({ hostname: "127.0.0.1", port: counted.port!, socket: { data: (_u, d) => void s.write(d), close: () => void s.end(), error: () => void s.end() } });
            s.data.up = up;
            for (const d of s.data.held) up.write(d);
          }, 800);
        },
        data(s, d) {
          if (s.data.up) s.data.up.write(d);
          else s.data.held.push(Buffer.from(d));
        },
        close: (s) => s.data.up?.end(),
        error: () => {},
      },
    });
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  t: { servers: ["127.0.0.1:${slow.port}"], tls: { enabled: true, sni: origin.test, ca_file: ${pki.ca} } }\nroutes:\n  - upstream: t\n`));
    const c = connect({ host: "127.0.0.1", port: p.port });
    c.on("error", () => {});
    await new Promise((r) => c.once("connect", r));
    c.write("POST /side-effect HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    await Bun.sleep(200);
    c.resetAndDestroy();
    // the handshake completes at ~800 ms; nothing is sent after it, and nothing stays in flight
    await eventually(() => p.services[0]!.status!().active === 0, 3000);
    await Bun.sleep(300);
    expect(requests).toBe(0);
    expect(metrics.counter("securely_proxy_requests_total", "").get({ route: "route-0", upstream: "t", status: "499" })).toBe(1);
    // the connection opened meanwhile serves the next request
    expect(await (await fetch(`${p.base}/next`)).text()).toBe("request 1");
    await p.stop();
    slow.stop(true);
    counted.stop(true);
  });
});
