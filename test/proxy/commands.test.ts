/** The proxy:* commands as a real child process: serve (with graceful drain), check, routes, upstreams. */
import { describe, expect, test } from "bun:test";
import { runSecurely, startSecurely, tempProject } from "../harness.ts";
import { origin } from "./helpers.ts";

let arrived = () => {};
const slow = origin(async (req) => {
  if (new URL(req.url).pathname.endsWith("/slow")) {
    arrived();
    await Bun.sleep(500);
  }
  return new Response("done");
});

const good = (extra = "") => `metrics:
  listen: 127.0.0.1:0
proxy:
  listen: ["127.0.0.1:0"]
  upstreams:
    app:
      servers: ["${slow.addr}", { addr: "127.0.0.1:1", backup: true }]
  routes:
    - { name: health, match: { path: /healthz }, respond: { status: 200, body: ok } }
    - { name: app, match: { host: ["*.example.com"], path: /api }, upstream: app, rate_limit: { rate: 5 } }
${extra}`;

describe("proxy:serve", () => {
  test("prints its bound address, proxies, and drains in-flight requests on SIGTERM", async () => {
    const p = tempProject(good());
    const s = await startSecurely(["proxy:serve"], { env: p.env });
    const port = s.port("proxy");
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe("ok");
    const atOrigin = new Promise<void>((r) => (arrived = r));
    const inflight = fetch(`http://127.0.0.1:${port}/api/slow`, { headers: { host: "x.example.com" } });
    // signal only once the request is in flight at the origin
    await atOrigin;
    s.signal("SIGTERM");
    const r = await inflight;
    expect(await r.text()).toBe("done");
    expect(await s.proc.exited).toBe(0);
  });
});

describe("reload (SIGHUP)", () => {
  test("routes and upstreams change live; listener changes are reported as needing a restart", async () => {
    const p = tempProject(good());
    const s = await startSecurely(["proxy:serve"], { env: p.env });
    const port = s.port("proxy");
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe("ok");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(p.config, (await Bun.file(p.config).text()).replace("body: ok", "body: reloaded").replace('["127.0.0.1:0"]', '["127.0.0.1:0", "127.0.0.1:0"]'));
    s.signal("SIGHUP");
    await s.waitFor(/reload: applied .*proxy\.routes/);
    await s.waitFor(/needs a restart.*proxy\.listen/);
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe("reloaded");
    // a broken config changes nothing
    writeFileSync(p.config, (await Bun.file(p.config).text()).replace("respond: { status: 200", "respond: { status: 999"));
    s.signal("SIGHUP");
    await s.waitFor(/new config is invalid/);
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe("reloaded");
    s.signal("SIGINT");
    expect(await s.proc.exited).toBe(0);
  });
});

describe("proxy:check", () => {
  test("a valid config passes", async () => {
    const p = tempProject(good());
    const r = await runSecurely(["proxy:check"], { env: p.env });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("proxy config OK: 1 listener(s), 2 route(s), 1 upstream(s)");
    expect(r.code).toBe(0);
  });

  test("every problem is reported with file:line and key path", async () => {
    const p = tempProject(`proxy:
  listen: ["127.0.0.1:0"]
  upstreams:
    app:
      servers: []
      balance: fastest
  routes:
    - { upstream: nope }
    - { match: { path_regex: "([" }, respond: { status: 200 }, allow: [10.0.0.300/8] }
    - { upstrem: app }
`);
    const r = await runSecurely(["proxy:check"], { env: p.env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/securely\.config\.yaml:\d+ proxy\.upstreams\.app\.balance: expected one of round_robin, random, power_of_two, least_conn, consistent_hash, cookie, first_available/);
    expect(r.stderr).toContain("proxy.routes[2].upstrem: unknown key — did you mean 'upstream'?");
    // cross-field problems are reported once the fields themselves are valid
    const p2 = tempProject(`proxy:
  upstreams:
    app: { servers: [] }
  routes:
    - { upstream: nope }
    - { match: { path_regex: "([" }, respond: { status: 200 }, allow: [10.0.0.300/8] }
`);
    const r2 = await runSecurely(["proxy:check"], { env: p2.env });
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain("proxy.upstreams.app.servers: needs at least one server");
    expect(r2.stderr).toContain("invalid regular expression");
    expect(r2.stderr).toContain('proxy.routes[1].allow: "10.0.0.300/8" is not an IP address or CIDR range');
  });

  test("an unknown upstream in a route is named with the defined ones", async () => {
    const p = tempProject(`proxy:\n  upstreams:\n    app: { servers: ["127.0.0.1:1"] }\n  routes:\n    - { upstream: ap }\n`);
    const r = await runSecurely(["proxy:check"], { env: p.env });
    expect(r.stderr).toContain("proxy.routes.0.upstream: unknown upstream 'ap'; defined: app");
  });
});

describe("proxy:routes and proxy:upstreams", () => {
  test("routes in match order, as JSON", async () => {
    const p = tempProject(good());
    const r = await runSecurely(["proxy:routes", "--json"], { env: p.env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { name: "health", host: "*", path: "/healthz", methods: "*", action: "respond 200", filters: "" },
      { name: "app", host: "*.example.com", path: "/api", methods: "*", action: "proxy app", filters: "rate 5/1s" },
    ]);
  });

  test("upstreams --check probes servers and exits 1 when one is down", async () => {
    const p = tempProject(good());
    const r = await runSecurely(["proxy:upstreams", "--check", "--json"], { env: p.env });
    const rows = JSON.parse(r.stdout);
    expect(rows.map((x: any) => [x.server, x.health])).toEqual([
      [slow.addr, "up"],
      ["127.0.0.1:1", "down"],
    ]);
    expect(r.code).toBe(1);
    const human = await runSecurely(["proxy:upstreams"], { env: p.env });
    expect(human.stdout).toMatch(/^UPSTREAM\s+SERVER\s+WEIGHT\s+BACKUP/);
  });
});
