import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { chownSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "../../harness.ts";
import { fixtureProject, freePort, get, pidsMatching, runFixture, spawnFixture, startFixture } from "./helpers.ts";
import { runLoad } from "./load.ts";
import { tcpMigrateReq } from "../../../src/core/server/primary.ts";

setDefaultTimeout(30_000);

describe("graceful upgrade (SIGQUIT + serve -u)", () => {
  test("under keep-alive and new-connection load: no refused, reset or failed request, and a 3 s request started before completes", async () => {
    const port = await freePort();
    const p = fixtureProject(`fixture:\n  enabled: true\n  listen: 127.0.0.1:${port}\n`);
    const old = await startFixture(["serve", "-c", p.config]);
    const oldPid = old.proc.pid;
    const load = runLoad({ port, keepAliveClients: 4, freshClients: 2, thinkMs: 2, maxRequests: 20_000, maxMs: 15_000 });
    await eventually(() => load.stats.ok > 50);
    const slow = get(port, "/slow?ms=3000");
    await Bun.sleep(100);

    old.proc.kill("SIGQUIT");
    const next = await startFixture(["serve", "-u", "-c", p.config]);
    expect(await old.exited).toBe(0);
    // the new instance serves alone now; keep the load on it a little longer, then stop
    const servedByNew = () => (load.stats.byPid[String(next.proc.pid)] ?? 0) > 50;
    await eventually(servedByNew, 10_000);
    const stats = await load.stop();

    const s = await slow;
    expect(s.status).toBe(200);
    expect(s.pid).toBe(oldPid);
    if (stats.failed) console.log(JSON.stringify(stats));
    if (tcpMigrateReq() === "0") {
      // Without tcp_migrate_req the kernel resets connections that are still in the old
      // listener's accept queue when it closes (measured: about one new connection in 10-15
      // upgrades at this load; zero with tcp_migrate_req=1). Everything else must be clean.
      expect({ refused: stats.refused, incomplete: stats.incomplete, keepAlive: stats.errors.filter((e) => !e.startsWith("fresh: ECONNRESET")) }).toEqual({ refused: 0, incomplete: 0, keepAlive: [] });
      expect(stats.reset).toBeLessThanOrEqual(2);
    } else expect({ failed: stats.failed, errors: stats.errors }).toEqual({ failed: 0, errors: [] });
    expect(stats.byPid[String(oldPid)]).toBeGreaterThan(0);
    expect(readFileSync(join(p.dir, "securely.pid"), "utf8").trim()).toBe(String(next.proc.pid));
    expect(next.output()).toContain(`taking over from pid ${oldPid}`);
    console.log(`upgrade under load: ${stats.ok} ok, ${stats.failed} failed, ${stats.reconnects} reconnects in ${stats.elapsedMs} ms`);

    const status = await runFixture(["status", "--json", "-c", p.config], { SECURELY_LOG_LEVEL: "warn" });
    expect(JSON.parse(status.out)).toMatchObject({ running: true, pid: next.proc.pid, instance: { upgraded_from: oldPid } });

    next.proc.kill("SIGINT");
    expect(await next.exited).toBe(0);
    expect(pidsMatching(p.dir)).toEqual([]);
  });

  test("a new instance with an invalid config leaves the running one serving", async () => {
    const p = fixtureProject(`upgrade_sock_connect_accept_max_retries: 1\nfixture:\n  enabled: true\n`);
    const old = await startFixture(["serve", "-c", p.config]);
    const port = old.port("fixture");
    const good = readFileSync(p.config, "utf8");
    writeFileSync(p.config, good + "threads: many\n");
    old.proc.kill("SIGQUIT");
    const bad = await runFixture(["serve", "-u", "-c", p.config]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("threads");
    await old.waitFor(/upgrade failed: .*still serving/);
    expect((await get(port)).pid).toBe(old.proc.pid);
    writeFileSync(p.config, good);
    old.proc.kill("SIGINT");
    expect(await old.exited).toBe(0);
  });

  test("a new instance whose service fails to start reports it and the old one keeps serving", async () => {
    const p = fixtureProject(`fixture:\n  enabled: true\n`);
    const old = await startFixture(["serve", "-c", p.config]);
    const port = old.port("fixture");
    old.proc.kill("SIGQUIT");
    const bad = await runFixture(["serve", "-u", "-c", p.config], { SECURELY_FIXTURE__FAIL_START: "true" });
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("fixture told to fail");
    await old.waitFor(/upgrade failed: new instance failed: .*fixture told to fail.*still serving/);
    expect((await get(port)).pid).toBe(old.proc.pid);
    // the port-0 listener kept its port across a successful upgrade too
    old.proc.kill("SIGQUIT");
    const next = await startFixture(["serve", "-u", "-c", p.config]);
    expect(next.port("fixture")).toBe(port);
    expect(await old.exited).toBe(0);
    expect((await get(port)).pid).toBe(next.proc.pid);
    next.proc.kill("SIGINT");
    expect(await next.exited).toBe(0);
    expect(pidsMatching(p.dir)).toEqual([]);
  });

  test("during an upgrade the old instance's sockets are expected, but a foreign process on a new port is still refused", async () => {
    const foreign = await freePort();
    using other = Bun.serve({ hostname: "127.0.0.1", port: foreign, reusePort: true, fetch: () => new Response("other") });
    const p = fixtureProject(`upgrade_sock_connect_accept_max_retries: 1\nfixture:\n  enabled: true\n`);
    const old = await startFixture(["serve", "-c", p.config]);
    const port = old.port("fixture");
    writeFileSync(p.config, readFileSync(p.config, "utf8").replace("fixture:\n  enabled: true\n", `fixture:\n  enabled: true\n  listen: 127.0.0.1:${foreign}\n`));
    old.proc.kill("SIGQUIT");
    const bad = await runFixture(["serve", "-u", "-c", p.config]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(`fixture: http 127.0.0.1:${foreign} is already in use by pid ${process.pid}`);
    await old.waitFor(/upgrade failed: .*still serving/);
    expect((await get(port)).pid).toBe(old.proc.pid);
    expect(await (await fetch(`http://127.0.0.1:${other.port}/`)).text()).toBe("other");
    old.proc.kill("SIGINT");
    expect(await old.exited).toBe(0);
  });
});

describe("upgrade_sock", () => {
  test("the new instance's socket is private (0600)", async () => {
    const { awaitOldInstance } = await import("../../../src/core/server/upgrade.ts");
    const path = join(fixtureProject().dir, "u.sock");
    const waiting = awaitOldInstance(path, 300);
    await eventually(() => existsSync(path));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await waiting).toBeUndefined();
  });

  test.skipIf(process.getuid?.() !== 0)("the old instance refuses to hand over to a socket another user owns", async () => {
    const { handOver } = await import("../../../src/core/server/upgrade.ts");
    const path = join(fixtureProject().dir, "u.sock");
    using srv = Bun.listen({ unix: path, socket: { data() {} } });
    chownSync(path, 65534, 65534);
    const r = await handOver(path, { type: "hello", pid: process.pid, services: {} }, 500, 500);
    expect(r).toEqual({ ok: false, reason: `${path} belongs to uid 65534, not to this user; refusing to hand over to it` });
    void srv;
  });
});
