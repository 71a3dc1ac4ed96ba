import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "../../harness.ts";
import { fixtureProject, get, pidsMatching, runFixture } from "./helpers.ts";

setDefaultTimeout(30_000);

const pidOf = (dir: string) => Number(readFileSync(join(dir, "securely.pid"), "utf8"));

describe("serve -d (daemon)", () => {
  test("with daemon_wait_for_ready the launcher exits 0 once every service listens; the daemon runs in its own session", async () => {
    const p = fixtureProject(`daemon_wait_for_ready: true\nerror_log: daemon.log\nworking_directory: /tmp\nfixture:\n  enabled: true\n  start_delay_ms: 300\n`);
    const r = await runFixture(["serve", "-d", "-c", p.config]);
    expect(r.code).toBe(0);
    const pid = pidOf(p.dir);
    expect(r.out).toContain(`securely started in the background (pid ${pid})`);
    const port = Number(/fixture listening on http 127\.0\.0\.1:(\d+)/.exec(r.out)![1]);
    expect((await get(port)).pid).toBe(pid);
    // setsid: the daemon leads its own session
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    expect(Number(stat[3])).toBe(pid);
    expect(readlinkSync(`/proc/${pid}/cwd`)).toBe("/tmp");

    const st = await runFixture(["status", "-c", p.config]);
    expect(st.code).toBe(0);
    expect(st.out).toContain(`running (pid ${pid}, up`);

    process.kill(pid, "SIGTERM");
    await eventually(() => pidsMatching(p.dir).length === 0, 10_000);
    expect(existsSync(join(p.dir, "securely.pid"))).toBe(false);
    expect(readFileSync(join(p.dir, "daemon.log"), "utf8")).toContain("graceful shutdown");
    const after = await runFixture(["status", "--json", "-c", p.config]);
    expect(after.code).toBe(3);
    expect(JSON.parse(after.out.slice(after.out.indexOf("{")))).toMatchObject({ running: false, pid: null });
  });

  test("a daemon that cannot start makes the launcher exit 1 with the reason, and leaves no process", async () => {
    const p = fixtureProject(`daemon_wait_for_ready: true\nfixture:\n  enabled: true\n  fail_start: true\n`);
    const r = await runFixture(["serve", "--daemon", "-c", p.config]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("the daemon failed to start: service fixture failed to start: fixture told to fail");
    await eventually(() => pidsMatching(p.dir).length === 0, 5000);
  });

  test("a daemon not ready within daemon_ready_timeout_seconds is stopped and the launcher exits 1", async () => {
    const p = fixtureProject(`daemon_wait_for_ready: true\ndaemon_ready_timeout_seconds: 1\ngraceful_shutdown_timeout_seconds: 1\nfixture:\n  enabled: true\n  start_delay_ms: 5000\n`);
    const r = await runFixture(["serve", "-d", "-c", p.config]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("was not ready within 1 s (daemon_ready_timeout_seconds)");
    await eventually(() => pidsMatching(p.dir).length === 0, 10_000);
  });

  test("daemon: true in the config without waiting: the launcher returns at once, the daemon writes its pid file when ready", async () => {
    const p = fixtureProject(`daemon: true\nfixture:\n  enabled: true\n`);
    const r = await runFixture(["serve", "-c", p.config]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/securely started in the background \(pid \d+\)/);
    const pid = await eventually(() => (existsSync(join(p.dir, "securely.pid")) ? pidOf(p.dir) : 0), 10_000);
    process.kill(pid, "SIGINT");
    await eventually(() => pidsMatching(p.dir).length === 0, 10_000);
  });

  test("-u -d: a daemonized upgrade waits for the takeover, then the old daemon exits", async () => {
    const p = fixtureProject(`daemon_wait_for_ready: true\nthreads: 2\nfixture:\n  enabled: true\n`);
    expect((await runFixture(["serve", "-d", "-c", p.config])).code).toBe(0);
    const oldPid = pidOf(p.dir);
    process.kill(oldPid, "SIGQUIT");
    const r = await runFixture(["serve", "-u", "-d", "-c", p.config]);
    expect(r.code).toBe(0);
    const newPid = pidOf(p.dir);
    expect(newPid).not.toBe(oldPid);
    await eventually(() => !pidsMatching(p.dir).includes(oldPid), 10_000);
    // new primary + 2 workers
    await eventually(() => pidsMatching(p.dir).length === 3, 10_000);
    process.kill(newPid, "SIGTERM");
    await eventually(() => pidsMatching(p.dir).length === 0, 10_000);
  });

  test("a daemon with working_directory and a relative -c still starts its workers, which share the daemon's working directory", async () => {
    const p = fixtureProject(`daemon_wait_for_ready: true\nworking_directory: /tmp\nthreads: 2\nfixture:\n  enabled: true\n`);
    const r = await runFixture(["serve", "-d", "-c", "securely.config.yaml"], {}, 30_000, p.dir);
    expect(r.code).toBe(0);
    const port = Number(/fixture listening on http 127\.0\.0\.1:(\d+)/.exec(r.out)![1]);
    const worker = (await get(port)).pid;
    expect(readlinkSync(`/proc/${worker}/cwd`)).toBe("/tmp");
    const daemon = pidOf(p.dir);
    process.kill(daemon, "SIGINT");
    // a relative -c keeps the folder out of the command line: watch the pids themselves
    const gone = (pid: number) => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
    await eventually(() => gone(daemon) && gone(worker), 10_000);
  });
});
