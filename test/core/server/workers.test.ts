import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { eventually } from "../../harness.ts";
import { fixtureProject, get, pidsMatching, runFixture, startFixture } from "./helpers.ts";

setDefaultTimeout(30_000);

interface StatusJson {
  running: boolean;
  instance: { services: Array<{ name: string; threads: number; workers?: Array<{ pid: number; ready: boolean; restarts: number }> }> };
}

async function status(config: string): Promise<StatusJson> {
  const r = await runFixture(["status", "--json", "-c", config], { SECURELY_LOG_LEVEL: "warn" });
  return JSON.parse(r.out);
}

/** Distinct worker pids seen over a bounded number of fresh connections. */
async function pidsServing(port: number, want: number): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < 200 && seen.size < want; i++) seen.add((await get(port, "/", { headers: { connection: "close" } })).pid);
  return seen;
}

describe("serve: threads → worker processes", () => {
  test("threads: 2 runs two workers on one port; a crashed worker is restarted, logged and counted", async () => {
    const p = fixtureProject(`threads: 2\nfixture:\n  enabled: true\n  ticker: true\n`);
    const s = await startFixture(["serve", "-c", p.config]);
    const port = s.port("fixture");
    const workers = await pidsServing(port, 2);
    expect(workers.size).toBe(2);
    expect(workers.has(s.proc.pid)).toBe(false);
    // 1 primary + 2 workers
    expect(pidsMatching(p.dir).length).toBe(3);

    const st = await status(p.config);
    const fixture = st.instance.services.find((x) => x.name === "fixture")!;
    expect(fixture.threads).toBe(2);
    expect(fixture.workers!.map((w) => w.pid).sort()).toEqual([...workers].sort());
    // background services stay in the primary
    expect(st.instance.services.find((x) => x.name === "fixture.ticker")!.threads).toBe(1);

    const victim = (await get(port, "/crash", { headers: { connection: "close" } })).pid;
    await s.waitFor(new RegExp(`worker fixture#\\d \\(pid ${victim}\\) exited \\(code 7\\); restarting in 100 ms`));
    await eventually(async () => {
      const w = (await status(p.config)).instance.services.find((x) => x.name === "fixture")!.workers!;
      return w.every((x) => x.ready) && w.reduce((n, x) => n + x.restarts, 0) === 1 && !w.some((x) => x.pid === victim);
    }, 10_000);
    const m = await (await fetch(`http://127.0.0.1:${s.port("metrics")}/metrics`)).text();
    expect(m).toContain('securely_worker_restarts_total{service="fixture"} 1');
    expect(m).toContain('securely_workers{service="fixture"} 2');
    const health = (await (await fetch(`http://127.0.0.1:${s.port("metrics")}/health`)).json()) as { services: Record<string, unknown> };
    expect(health.services.fixture).toMatchObject({ ready: true, workers_ready: 2, threads: 2, restarts: 1 });

    s.proc.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    expect(pidsMatching(p.dir)).toEqual([]);
  });

  test("workers whose primary is killed with SIGKILL stop by themselves: no orphans", async () => {
    const p = fixtureProject(`threads: 2\nfixture:\n  enabled: true\n`);
    const s = await startFixture(["serve", "-c", p.config]);
    expect(pidsMatching(p.dir).length).toBe(3);
    s.proc.kill("SIGKILL");
    await s.exited;
    await eventually(() => pidsMatching(p.dir).length === 0, 10_000);
  });

  test("SIGINT stops every worker; a worker that fails to start fails the whole start", async () => {
    const p = fixtureProject(`threads: 3\nfixture:\n  enabled: true\n`);
    const s = await startFixture(["serve", "-c", p.config]);
    expect(pidsMatching(p.dir).length).toBe(4);
    s.proc.kill("SIGINT");
    expect(await s.exited).toBe(0);
    expect(pidsMatching(p.dir)).toEqual([]);

    const bad = await runFixture(["serve", "-c", p.config], { SECURELY_FIXTURE__FAIL_START: "true" });
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("worker fixture#0 failed to start: fixture told to fail");
    expect(pidsMatching(p.dir)).toEqual([]);
  });

  test("graceful upgrade with workers: new workers take over, old workers drain and exit", async () => {
    const p = fixtureProject(`threads: 2\nfixture:\n  enabled: true\n`);
    const old = await startFixture(["serve", "-c", p.config]);
    const port = old.port("fixture");
    const oldWorkers = await pidsServing(port, 2);
    const slow = get(port, "/slow?ms=1500");
    await Bun.sleep(100);
    old.proc.kill("SIGQUIT");
    const next = await startFixture(["serve", "-u", "-c", p.config]);
    expect(next.port("fixture")).toBe(port);
    expect(await old.exited).toBe(0);
    const s = await slow;
    expect(s.status).toBe(200);
    expect(oldWorkers.has(s.pid)).toBe(true);
    const newWorkers = await pidsServing(port, 2);
    expect([...newWorkers].some((pid) => oldWorkers.has(pid))).toBe(false);
    expect(pidsMatching(p.dir).length).toBe(3);
    next.proc.kill("SIGINT");
    expect(await next.exited).toBe(0);
    expect(pidsMatching(p.dir)).toEqual([]);
  });
});
