import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:net";
import { fixtureProject, get, pidsMatching, runFixture, startFixture } from "./helpers.ts";

setDefaultTimeout(30_000);

const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);

/** A free port below 1024 (only root can bind it). */
async function privilegedPort(): Promise<number> {
  for (let port = 1000; port < 1024; port++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error("no free port below 1024");
}

describe("serve", () => {
  test("a service starts after the services it depends on", async () => {
    const p = fixtureProject(`fixture:\n  enabled: true\n  depends_on: metrics\n`);
    const s = await startFixture(["serve", "-c", p.config]);
    const out = s.output();
    expect(out.indexOf("metrics listening on")).toBeLessThan(out.indexOf("fixture listening on"));
    s.proc.kill("SIGINT");
    await s.exited;
  });

  test("/metrics is Prometheus text; /health is 200 when every service is ready, 503 naming the one that is not", async () => {
    const p = fixtureProject(`fixture:\n  enabled: true\n  ticker: true\n`);
    const s = await startFixture(["serve", "-c", p.config]);
    const base = `http://127.0.0.1:${s.port("metrics")}`;
    const ok = await fetch(`${base}/health`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: "ok", services: { fixture: { ready: true }, "fixture.ticker": { ready: true }, metrics: { ready: true } } });
    const m = await fetch(`${base}/metrics`);
    expect(m.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    s.proc.kill("SIGINT");
    await s.exited;

    const p2 = fixtureProject(`fixture:\n  enabled: true\n  unready: true\n`);
    const s2 = await startFixture(["serve", "-c", p2.config]);
    const bad = await fetch(`http://127.0.0.1:${s2.port("metrics")}/health`);
    expect(bad.status).toBe(503);
    expect(await bad.json()).toMatchObject({ status: "degraded", services: { fixture: { ready: false }, metrics: { ready: true } } });
    s2.proc.kill("SIGINT");
    await s2.exited;
  });

  test("status --json: pid, uptime, state, every service with its readiness and listeners", async () => {
    const p = fixtureProject(`fixture:\n  enabled: true\n  ticker: true\n`);
    const s = await startFixture(["serve", "-c", p.config]);
    const r = await runFixture(["status", "--json", "-c", p.config], { SECURELY_LOG_LEVEL: "warn" });
    expect(r.code).toBe(0);
    const st = JSON.parse(r.out);
    expect(st).toMatchObject({ running: true, pid: s.proc.pid, instance: { pid: s.proc.pid, state: "running", config: p.config } });
    expect(st.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect(st.instance.services.map((x: { name: string; kind: string; status: { ready: boolean } }) => [x.name, x.kind, x.status.ready])).toEqual([
      ["fixture", "listening", true],
      ["fixture.ticker", "background", true],
      ["metrics", "listening", true],
    ]);
    expect(st.instance.services[0].listening).toEqual([`http 127.0.0.1:${s.port("fixture")}`]);
    const human = await runFixture(["status", "-c", p.config]);
    expect(human.out).toMatch(/fixture\.ticker\s+background\s+yes/);
    s.proc.kill("SIGINT");
    await s.exited;
    const gone = await runFixture(["status", "-c", p.config]);
    expect(gone.code).toBe(3);
    expect(gone.out).toContain("securely is not running");
  });

  test.skipIf(process.getuid?.() !== 0)("user/group: a privileged port is bound as root, then the process runs as the user (workers too)", async () => {
    const port = await privilegedPort();
    const p = fixtureProject(`user: nobody\nfixture:\n  enabled: true\n  listen: 127.0.0.1:${port}\n`);
    chmodSync(p.dir, 0o1777); // like /tmp: the dropped user still removes its own pid file
    const s = await startFixture(["serve", "-c", p.config]);
    expect((await get(port)).pid).toBe(s.proc.pid);
    const nobody = uidOf(s.proc.pid);
    expect(nobody).not.toBe(0);
    // no group of root's is left: primary gid and supplementary groups are the user's
    const st = readFileSync(`/proc/${s.proc.pid}/status`, "utf8");
    expect(/^Gid:\s+(\d+)/m.exec(st)![1]).not.toBe("0");
    expect(/^Groups:(.*)$/m.exec(st)![1]!.trim().split(/\s+/)).not.toContain("0");
    s.proc.kill("SIGINT");
    expect(await s.exited).toBe(0);
    expect(existsSync(join(p.dir, "securely.pid"))).toBe(false);

    const p2 = fixtureProject(`user: nobody\nthreads: 2\nfixture:\n  enabled: true\n  listen: 127.0.0.1:${port}\n`);
    const s2 = await startFixture(["serve", "-c", p2.config]);
    const worker = (await get(port)).pid;
    expect(uidOf(worker)).toBe(nobody);
    // the primary keeps root to restart workers on the privileged port
    expect(uidOf(s2.proc.pid)).toBe(0);
    s2.proc.kill("SIGINT");
    expect(await s2.exited).toBe(0);
    expect(pidsMatching(p2.dir)).toEqual([]);
  });

  test("an unknown user is refused with the reason before serving", async () => {
    const p = fixtureProject(`user: no-such-user-here\nfixture:\n  enabled: true\n`);
    const r = await runFixture(["serve", "-c", p.config]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("cannot switch to user 'no-such-user-here'");
    expect(existsSync(join(p.dir, "securely.pid"))).toBe(false);
    expect(pidsMatching(p.dir)).toEqual([]);
  });
});
