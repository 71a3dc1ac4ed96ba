/**
 * A client that leaves while the proxy waits for the upstream's response head ends the upstream
 * attempt, as nginx does with proxy_ignore_client_abort off (its default): the upstream connection
 * is closed at once (read_timeout is 60 s here), nothing stays in flight, no retry reaches another
 * server, passive health does not blame the upstream, and the request is logged and counted as 499.
 * Both fronts; a FIN (Node's destroy()) and a reset. A client that only half-closes still gets its
 * answer (raw front; Bun.serve drops half-closed clients).
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { metrics } from "../../src/core/metrics/index.ts";
import { proxyMetrics } from "../../src/proxy/metrics.ts";
import { eventually, tempDir } from "../harness.ts";
import { indent, origin, startProxy } from "./helpers.ts";

/** Reads request heads and never answers; counts connections, requests seen and closes. */
function silentUpstream() {
  const seen = { opened: 0, requests: 0, closed: 0 };
  const l = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open: () => void seen.opened++,
      data: (_s, d) => {
        if (d.toString("latin1").includes("\r\n\r\n")) seen.requests++;
      },
      close: () => void seen.closed++,
      error: () => {},
    },
  });
  return { addr: `127.0.0.1:${l.port}`, seen, stop: () => l.stop(true) };
}

async function open(port: number): Promise<Socket> {
  const s = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  s.on("error", () => {});
  await new Promise<void>((r, j) => {
    s.once("connect", r);
    s.once("error", j);
  });
  return s;
}

const requests499 = (route: string, upstream: string) => metrics.counter("securely_proxy_requests_total", "").get({ route, upstream, status: "499" }) ?? 0;
const upstreamErrors = (upstream: string, server: string) =>
  ["closed", "client_closed", "read_timeout"].reduce((n, kind) => n + (metrics.counter("securely_proxy_upstream_errors_total", "").get({ upstream, server, kind }) ?? 0), 0);

for (const raw of [true, false]) {
  describe(`client leaves while the upstream has not answered (raw: ${raw})`, () => {
    // at once, and after the connection ticker's first tick (Bun.serve reads req.signal from then on)
    test.each([
      ["close", 0],
      ["reset", 0],
      ["close", 250],
      ["reset", 250],
    ] as const)("%s after %p ms: the upstream connection closes at once, no retry, nothing in flight, logged and counted as 499", async (how, after) => {
      const a = silentUpstream();
      const b = silentUpstream();
      const log = join(tempDir(), "access.log");
      const p = await startProxy(
        indent(`listen: [{ addr: "127.0.0.1:0", raw: ${raw} }]
access_log: { enabled: true, path: ${log}, format: json }
upstreams:
  silent: { servers: ["${a.addr}", "${b.addr}"], read_timeout: 60s, max_retries: 1 }
routes:
  - { name: slow, upstream: silent }
`),
      );
      const gauge = proxyMetrics.active.get();
      const before = requests499("slow", "silent");
      const status = () => p.services[0]!.status!() as unknown as { active: number; pooled: number; upstreams: { servers: { addr: string; active: number; healthy: boolean }[] }[] };
      const s = await open(p.port);
      s.write(`GET /wait-${how}-${after} HTTP/1.1\r\nHost: a\r\n\r\n`);
      await eventually(() => a.seen.requests + b.seen.requests === 1, 3000);
      expect(status().active).toBe(1);
      if (after) await Bun.sleep(after);
      if (how === "close") s.destroy(); // a FIN, as a browser closing its tab
      else s.resetAndDestroy();
      // read_timeout is 60 s: only the client leaving can close it this soon
      await eventually(() => a.seen.closed + b.seen.closed === 1, 3000);
      await eventually(() => status().active === 0, 3000);
      const servers = status().upstreams[0]!.servers;
      expect(servers.map((x) => x.active)).toEqual([0, 0]);
      // not the upstream's failure: both stay healthy (max_fails defaults to 1) and no error is counted
      expect(servers.map((x) => x.healthy)).toEqual([true, true]);
      expect(upstreamErrors("silent", a.addr) + upstreamErrors("silent", b.addr)).toBe(0);
      expect(status().pooled).toBe(0);
      expect(proxyMetrics.active.get()).toBe(gauge);
      expect(requests499("slow", "silent")).toBe(before + 1);
      const line = await eventually(() => readFileSync(log, "utf8").split("\n").find((l) => l.includes(`/wait-${how}-${after}`)), 3000);
      expect(JSON.parse(line!)).toMatchObject({ status: 499, route: "slow", upstream: "silent", attempts: 1 });
      // no retry: one server saw one request, the other none
      await Bun.sleep(200);
      expect(a.seen.requests + b.seen.requests).toBe(1);
      expect(a.seen.opened + b.seen.opened).toBe(1);
      await p.stop();
      a.stop();
      b.stop();
    }, 15_000);
  });
}

describe("client half-closes after its request (raw front)", () => {
  test("it is not an abort: the answer that comes 300 ms later reaches it whole", async () => {
    const late = origin(async () => {
      await Bun.sleep(300);
      return new Response("late answer");
    });
    const p = await startProxy(
      indent(`listen: [{ addr: "127.0.0.1:0", raw: true }]
upstreams:
  late: { servers: ["${late.addr}"], read_timeout: 60s }
routes:
  - upstream: late
`),
    );
    const s = await open(p.port);
    let got = "";
    s.on("data", (d) => (got += d));
    const closed = new Promise((r) => s.once("close", r));
    s.write("GET /half HTTP/1.1\r\nHost: a\r\n\r\n");
    s.end(); // shutdown(SHUT_WR): still reading
    await Promise.race([closed, Bun.sleep(5000)]);
    // the interim 100 is the proxy's probe for a closed socket (see RawConn.onEnd); clients skip it
    expect(got).toStartWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n");
    expect(got).toEndWith("\r\n\r\nlate answer");
    expect((p.services[0]!.status!() as unknown as { active: number }).active).toBe(0);
    s.destroy();
    // HTTP/1.0: no 1xx may be sent, so no probe — the FIN is taken as a half-close
    const s10 = await open(p.port);
    let got10 = "";
    s10.on("data", (d) => (got10 += d));
    const closed10 = new Promise((r) => s10.once("close", r));
    s10.write("GET /half10 HTTP/1.0\r\nHost: a\r\n\r\n");
    s10.end();
    await Promise.race([closed10, Bun.sleep(5000)]);
    expect(got10).toStartWith("HTTP/1.1 200 OK\r\n");
    expect(got10).toEndWith("\r\n\r\nlate answer");
    s10.destroy();
    await p.stop();
  }, 15_000);
});
