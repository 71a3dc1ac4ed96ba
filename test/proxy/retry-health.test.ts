/** Pingora's retry rules, failover, passive and active health checks, backups, all-down. */
import { describe, expect, test } from "bun:test";
import { metrics } from "../../src/core/metrics/index.ts";
import { eventually } from "../harness.ts";
import { indent, origin, rawOrigin, startProxy } from "./helpers.ts";

const named = (name: string) => origin(() => new Response(name));
const closedAddr = () => {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const a = `127.0.0.1:${l.port}`;
  l.stop(true);
  return a;
};

/**
 * An origin that answers the first request on each connection and drops the connection on the
 * second (after reading its whole body, or 70 000 bytes of it) — a keepalive connection that went
 * stale, as in Pingora's test_dropped_conn_*.
 */
function dropsSecondRequest() {
  const state = new WeakMap<object, { n: number; buf: string }>();
  return rawOrigin(
    (s, d) => {
      const st = state.get(s)!;
      st.buf += d;
      const end = st.buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const cl = Number(/content-length: (\d+)/i.exec(st.buf.slice(0, end))?.[1] ?? 0);
      const have = st.buf.length - end - 4;
      if (have < Math.min(cl, 70_000)) return;
      st.n++;
      if (st.n === 1) {
        if (have < cl) return;
        st.buf = "";
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${String(have).length + 5}\r\n\r\nbody ${have}`);
      } else s.end();
    },
    (s) => state.set(s, { n: 0, buf: "" }),
  );
}

describe("retries", () => {
  test("a connect failure fails over to the next server", async () => {
    const b = named("b");
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  u: { servers: ["${closedAddr()}", "${b.addr}"], balance: first_available }\nroutes:\n  - upstream: u\n`));
    const res = await fetch(`${p.base}/`);
    expect(await res.text()).toBe("b");
    expect(metrics.counter("securely_proxy_retries_total", "").get({ upstream: "u", reason: "connect" })).toBeGreaterThanOrEqual(1);
    await p.stop();
  });

  test("retry_backoff still fails over (pauses between attempts)", async () => {
    const b = named("b");
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  ub: { servers: ["${closedAddr()}", "${b.addr}"], balance: first_available, retry_backoff: 50ms }\nroutes:\n  - upstream: ub\n`));
    expect(await (await fetch(`${p.base}/`)).text()).toBe("b");
    await p.stop();
  });

  test("max_retries: 0 gives 502 instead of failing over", async () => {
    const b = named("b");
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  u0: { servers: ["${closedAddr()}", "${b.addr}"], balance: first_available, max_retries: 0 }\nroutes:\n  - upstream: u0\n`));
    expect((await fetch(`${p.base}/`)).status).toBe(502);
    await p.stop();
  });

  test("a stale pooled connection is retried transparently: GET, POST, POST with a body", async () => {
    const o = dropsSecondRequest();
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  d: { servers: ["${o.addr}"] }\nroutes:\n  - upstream: d\n`));
    expect(await (await fetch(`${p.base}/`)).text()).toBe("body 0");
    expect(await (await fetch(`${p.base}/`)).text()).toBe("body 0");
    expect(await (await fetch(`${p.base}/`, { method: "POST" })).text()).toBe("body 0");
    const res = await fetch(`${p.base}/`, { method: "POST", body: "x".repeat(1000) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("body 1000");
    // three of those went out on a pooled connection the origin had dropped
    expect(metrics.counter("securely_proxy_retries_total", "").get({ upstream: "d", reason: "closed" })).toBe(3);
    await p.stop();
  });

  test("a body larger than the replay buffer is not replayed: 502", async () => {
    const o = dropsSecondRequest();
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  d: { servers: ["${o.addr}"] }\nroutes:\n  - upstream: d\n`));
    expect((await fetch(`${p.base}/`)).status).toBe(200);
    const res = await fetch(`${p.base}/`, { method: "POST", body: "x".repeat(64 * 1024 + 1 + 10_000) });
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("cannot be replayed");
    await p.stop();
  });

  test("after the request was sent on a fresh connection: GET is retried elsewhere, POST is not", async () => {
    const dies = rawOrigin((s, d) => {
      if (d.includes("\r\n\r\n")) s.end();
    });
    const b = named("b");
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  u: { servers: ["${dies.addr}", "${b.addr}"], balance: first_available, health: { passive: { max_fails: 0 } } }\nroutes:\n  - upstream: u\n`));
    expect(await (await fetch(`${p.base}/`)).text()).toBe("b");
    const post = await fetch(`${p.base}/`, { method: "POST", body: "x" });
    expect(post.status).toBe(502);
    await p.stop();
  });
});

describe("failover under load", () => {
  test("an origin killed in the middle of 300 concurrent GETs costs no client a failure", async () => {
    const a = origin(async () => {
      await Bun.sleep(1);
      return new Response("a");
    });
    const b = named("b");
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  fl: { servers: ["${a.addr}", "${b.addr}"], health: { passive: { max_fails: 3 } } }\nroutes:\n  - upstream: fl\n`));
    let sent = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (sent < 300) {
          if (++sent === 100) a.stop();
          statuses.push((await fetch(`${p.base}/`)).status);
        }
      }),
    );
    expect(statuses.length).toBeGreaterThanOrEqual(300);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    await p.stop();
  });
});

describe("passive health", () => {
  test("a failing server is marked down, logged and counted, and skipped afterwards", async () => {
    const dead = closedAddr();
    const b = named("b");
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  ph: { servers: ["${dead}", "${b.addr}"], health: { passive: { max_fails: 1, fail_duration: 60 } } }\nroutes:\n  - upstream: ph\n`));
    for (let i = 0; i < 4; i++) expect(await (await fetch(`${p.base}/`)).text()).toBe("b");
    expect(metrics.gauge("securely_proxy_upstream_healthy", "").get({ upstream: "ph", server: dead })).toBe(0);
    expect(metrics.counter("securely_proxy_health_changes_total", "").get({ upstream: "ph", server: dead, state: "down" })).toBe(1);
    // only the first request paid for the dead server
    expect(metrics.counter("securely_proxy_upstream_errors_total", "").get({ upstream: "ph", server: dead, kind: "connect" })).toBe(1);
    await p.stop();
  });

  test("unhealthy_status counts a 503 answer as a failure", async () => {
    const sick = origin(() => new Response("sick", { status: 503 }));
    const b = named("b");
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  us: { servers: ["${sick.addr}", "${b.addr}"], balance: first_available, health: { passive: { max_fails: 2, unhealthy_status: [503] } } }\nroutes:\n  - upstream: us\n`));
    expect((await fetch(`${p.base}/`)).status).toBe(503);
    expect((await fetch(`${p.base}/`)).status).toBe(503);
    expect(await (await fetch(`${p.base}/`)).text()).toBe("b");
    await p.stop();
  });

  test("every server down → 503 with a clear body", async () => {
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  down: { servers: ["${closedAddr()}"] }\nroutes:\n  - upstream: down\n`));
    expect((await fetch(`${p.base}/`)).status).toBe(502);
    const res = await fetch(`${p.base}/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe("no healthy server in upstream 'down'\n");
    await p.stop();
  });

  test("backup servers are used only when every primary is down", async () => {
    const a = named("a");
    const bk = named("backup");
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  bk: { servers: ["${a.addr}", { addr: "${bk.addr}", backup: true }] }\nroutes:\n  - upstream: bk\n`));
    for (let i = 0; i < 3; i++) expect(await (await fetch(`${p.base}/`)).text()).toBe("a");
    a.stop();
    expect(await (await fetch(`${p.base}/`)).text()).toBe("backup");
    await p.stop();
  });
});

describe("active health (service proxy.health)", () => {
  test("http check: a server failing its check gets no traffic until it recovers (rise)", async () => {
    let healthy = false;
    const flaky = origin((req) => (new URL(req.url).pathname === "/healthz" ? new Response(healthy ? "ok" : "no", { status: healthy ? 200 : 500 }) : new Response("flaky")));
    const b = origin((req) => new Response(new URL(req.url).pathname === "/healthz" ? "ok" : "b"));
    const p = await startProxy(
      indent(`listen: ["127.0.0.1:0"]
upstreams:
  ah:
    servers: ["${flaky.addr}", "${b.addr}"]
    health: { active: { enabled: true, path: /healthz, interval: 100ms, rise: 2, fall: 1, expect_body: ok } }
routes:
  - upstream: ah
`),
    );
    expect(p.services.map((s) => s.name)).toEqual(["proxy", "proxy.health"]);
    // the first round ran before start() returned
    for (let i = 0; i < 4; i++) expect(await (await fetch(`${p.base}/`)).text()).toBe("b");
    healthy = true;
    await eventually(async () => (await (await fetch(`${p.base}/`)).text()) === "flaky");
    await p.stop();
  });

  test("tcp check marks a closed port down", async () => {
    const b = named("b");
    const dead = closedAddr();
    const p = await startProxy(indent(`listen: ["127.0.0.1:0"]\nupstreams:\n  tc: { servers: ["${dead}", "${b.addr}"], health: { active: { enabled: true, type: tcp, interval: 1 }, passive: { max_fails: 0 } } }\nroutes:\n  - upstream: tc\n`));
    for (let i = 0; i < 4; i++) expect(await (await fetch(`${p.base}/`)).text()).toBe("b");
    expect(metrics.counter("securely_proxy_upstream_errors_total", "").get({ upstream: "tc", server: dead, kind: "connect" })).toBe(0);
    await p.stop();
  });
});
