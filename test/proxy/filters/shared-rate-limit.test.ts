/**
 * rate_limit.scope: shared — the limit counted in a cache store through the cache namespace's
 * RateLimiter: one limit across worker processes, the same 429 + RateLimit headers, config errors,
 * and failing open when the store is down.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSecurely, startSecurely, tempDir, tempProject } from "../../harness.ts";
import { redisAvailable, startRedis } from "../../cache/redis-server.ts";
import { origin, startProxy } from "../helpers.ts";

const indent = (s: string) => s.replace(/^/gm, "  ");

describe("scope: shared", () => {
  test("threads: 2 — both workers answer, and between them they admit exactly rate + burst", async () => {
    // the hook answers with the worker's pid, so the test sees which process served each request
    const hooks = join(tempDir(), "pid.ts");
    writeFileSync(hooks, "export function requestFilter() { return new Response(String(process.pid)); }\n");
    const p = tempProject(`threads: 2
metrics:
  enabled: false
proxy:
  listen: ["127.0.0.1:0"]
  routes:
    - { name: api, hooks: ${hooks}, rate_limit: { rate: 16, per: 60s, burst: 2, key: any, scope: shared } }
`);
    const s = await startSecurely(["proxy:serve"], { env: p.env });
    // a failed expectation must not leave the primary and its workers running
    try {
      const port = s.port("proxy");
      const pids = new Set<string>();
      const statuses: number[] = [];
      let last: Response | undefined;
      // a new connection per request, so the kernel spreads them over both workers' sockets
      for (let i = 0; i < 40; i++) {
        const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } });
        statuses.push(r.status);
        const body = await r.text();
        if (r.status === 200) pids.add(body);
        else last = r;
      }
      expect(statuses.filter((c) => c === 200).length).toBe(18);
      expect(statuses.slice(18).every((c) => c === 429)).toBe(true);
      expect(pids.size).toBe(2);
      expect(last!.headers.get("ratelimit-limit")).toBe("18");
      expect(last!.headers.get("ratelimit-remaining")).toBe("0");
      expect(last!.headers.get("ratelimit-policy")).toBe("18;w=60");
      const retry = Number(last!.headers.get("retry-after"));
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(60);
      expect(last!.headers.get("ratelimit-reset")).toBe(String(retry));
    } finally {
      s.signal("SIGINT");
      await s.proc.exited;
    }
    expect(s.proc.exitCode).toBe(0);
  });

  test("per key, with RateLimit headers on admitted requests; other keys unaffected", async () => {
    const o = origin(() => new Response("ok"));
    const proxy = await startProxy(indent(`listen: ["127.0.0.1:0"]
upstreams:
  o: { servers: ["${o.addr}"] }
routes:
  - { name: k, upstream: o, rate_limit: { rate: 2, per: 30s, burst: 1, key: "header:x-key", scope: shared } }
`));
    const get = (key: string) => fetch(proxy.base, { headers: { "x-key": key } });
    const first = await get("a");
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-limit")).toBe("3");
    expect(first.headers.get("ratelimit-remaining")).toBe("2");
    expect(first.headers.get("retry-after")).toBeNull();
    expect([(await get("a")).status, (await get("a")).status]).toEqual([200, 200]);
    const over = await get("a");
    expect(over.status).toBe(429);
    expect(over.headers.get("ratelimit-remaining")).toBe("0");
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await get("b")).status).toBe(200);
  });

  test.skipIf(!redisAvailable())("two proxy instances sharing a redis cache share the limit", async () => {
    const redis = await startRedis();
    const o = origin(() => new Response("ok"));
    const yaml = indent(`listen: ["127.0.0.1:0"]
upstreams:
  o: { servers: ["${o.addr}"] }
routes:
  - { name: r, upstream: o, rate_limit: { rate: 4, per: 60s, key: any, scope: shared, store: redis } }
`);
    const top = `cache:\n  redis: { url: "${redis.url}" }\n`;
    const [a, b] = [await startProxy(yaml, top), await startProxy(yaml, top)];
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await fetch(i % 2 ? a.base : b.base)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
  });

  test("a cache store that is down lets requests through (no RateLimit headers) and says so", async () => {
    const proxy = await startProxy(
      indent(`listen: ["127.0.0.1:0"]
routes:
  - { name: r, respond: { status: 200, body: ok }, rate_limit: { rate: 1, key: any, scope: shared, store: redis } }
`),
      "cache:\n  redis: { url: 'redis://127.0.0.1:1' }\n",
    );
    const warnings: string[] = [];
    proxy.app.log.level = 3;
    proxy.app.log.setReporters([{ log: (o) => void warnings.push(o.args.join(" ")) }]);
    for (let i = 0; i < 3; i++) {
      const r = await fetch(proxy.base);
      expect(r.status).toBe(200);
      expect(r.headers.get("ratelimit-limit")).toBeNull();
    }
    // one warning, not one per request
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain("proxy route r rate_limit: cache store failed, letting requests through");
  });

  test("a store that shares nothing, or is not defined, stops the start naming the route", async () => {
    const route = (extra: string) => indent(`listen: ["127.0.0.1:0"]\nroutes:\n  - { name: api, respond: { status: 200 }, rate_limit: { rate: 5, scope: shared${extra} } }\n`);
    await expect(startProxy(route(""), "cache:\n  store: memory\n")).rejects.toThrow('proxy route api rate_limit: scope shared needs a store worker processes share, but cache store "memory" is per process');
    await expect(startProxy(route(", store: nosuch"))).rejects.toThrow("cache store [nosuch] is not defined");
  });
});

describe("config validation", () => {
  test("proxy:check names each bad rate_limit key", async () => {
    const p = tempProject(`proxy:
  routes:
    - { respond: { status: 200 }, rate_limit: { rate: 5, scope: global } }
    - { respond: { status: 200 }, rate_limit: { rate: 5, per: 500ms, scope: shared } }
    - { respond: { status: 200 }, rate_limit: { rate: 5, scope: shared, store: memory } }
    - { respond: { status: 200 }, rate_limit: { rate: 5, store: redis } }
`);
    const r = await runSecurely(["proxy:check"], { env: p.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/proxy\.routes\[0\]\.rate_limit\.scope: expected one of process, shared/);
    expect(r.stderr).toMatch(/proxy\.routes\[1\]\.rate_limit\.per: scope shared counts whole seconds; got 0\.5 s/);
    expect(r.stderr).toMatch(/proxy\.routes\[2\]\.rate_limit\.store: "memory" is not shared between processes; use sqlite or redis/);
    expect(r.stderr).toMatch(/proxy\.routes\[3\]\.rate_limit\.store: is only used with scope: shared/);
  });

  test("proxy:routes shows a shared limit", async () => {
    const p = tempProject(`proxy:\n  routes:\n    - { name: a, respond: { status: 200 }, rate_limit: { rate: 5, per: 60s, scope: shared } }\n`);
    const r = await runSecurely(["proxy:routes", "--json"], { env: p.env });
    expect(JSON.parse(r.stdout)[0].filters).toBe("rate 5/60s shared");
  });
});
