import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "../../harness.ts";
import { fixtureProject, freePort, get, pidsMatching, runFixture, startFixture } from "./helpers.ts";

setDefaultTimeout(30_000);

const stopLines = (log: string) => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);

describe("serve: signals", () => {
  test("SIGTERM is graceful: an in-flight request finishes, services stop gracefully, pid and status files go", async () => {
    const p = fixtureProject(`fixture:\n  enabled: true\n  ticker: true\n  stop_log: STOP\n`.replace("STOP", "/tmp/x"));
    const log = join(p.dir, "stop.log");
    writeFileSync(p.config, readFileSync(p.config, "utf8").replace("/tmp/x", log));
    const s = await startFixture(["serve", "-c", p.config]);
    const port = s.port("fixture");
    expect(readFileSync(join(p.dir, "securely.pid"), "utf8").trim()).toBe(String(s.proc.pid));
    expect(existsSync(join(p.dir, "securely.status.json"))).toBe(true);
    const slow = get(port, "/slow?ms=1500");
    await Bun.sleep(200);
    s.proc.kill("SIGTERM");
    expect((await slow).status).toBe(200);
    expect(await s.exited).toBe(0);
    // independent services stop together, each told it was graceful
    expect(stopLines(log).sort()).toEqual([`http ${s.proc.pid} graceful shutdown`, `ticker ${s.proc.pid} graceful`]);
    expect(existsSync(join(p.dir, "securely.pid"))).toBe(false);
    expect(existsSync(join(p.dir, "securely.status.json"))).toBe(false);
  });

  test("SIGINT is fast: in-flight requests are cut, services are told to stop now", async () => {
    const p = fixtureProject(`fixture:\n  enabled: true\n`);
    const s = await startFixture(["serve", "-c", p.config]);
    const slow = get(s.port("fixture"), "/slow?ms=20000").then(
      () => "finished",
      () => "cut",
    );
    await Bun.sleep(200);
    s.proc.kill("SIGINT");
    expect(await s.exited).toBe(0);
    expect(await slow).toBe("cut");
    expect(existsSync(join(p.dir, "securely.pid"))).toBe(false);
  });

  test("SIGINT during a graceful stop makes it fast", async () => {
    const p = fixtureProject(`fixture:\n  enabled: true\n`);
    const s = await startFixture(["serve", "-c", p.config]);
    const slow = get(s.port("fixture"), "/slow?ms=20000").catch(() => "cut");
    await Bun.sleep(200);
    s.proc.kill("SIGTERM");
    await s.waitFor(/graceful shutdown/);
    s.proc.kill("SIGINT");
    expect(await s.exited).toBe(0);
    expect(await slow).toBe("cut");
    expect(s.output()).toContain("fast stop requested during the graceful stop");
  });

  test("SIGHUP reloads: a valid config is applied where safe and the rest is named; an invalid one changes nothing", async () => {
    const p = fixtureProject(`fixture:\n  enabled: true\n`);
    const s = await startFixture(["serve", "-c", p.config]);
    const port = s.port("fixture");
    const good = readFileSync(p.config, "utf8");
    writeFileSync(p.config, good.replace("fixture:\n  enabled: true\n", "fixture:\n  enabled: true\n  listen: 127.0.0.1:1\ngrace_period_seconds: 7\n"));
    s.proc.kill("SIGHUP");
    await s.waitFor(/reload: needs a restart .*grace_period_seconds.*fixture: listen/);
    expect(s.output()).toContain("reload: applied fixture: message");
    writeFileSync(p.config, good + "threads: lots\n");
    s.proc.kill("SIGHUP");
    await s.waitFor(/the new config is invalid, still serving/);
    expect(s.output()).toMatch(/threads: expected/);
    expect((await get(port)).status).toBe(200);
    s.proc.kill("SIGINT");
    expect(await s.exited).toBe(0);
  });

  test("a second instance for the same pid file is refused and the first keeps serving", async () => {
    const p = fixtureProject(`fixture:\n  enabled: true\n`);
    const s = await startFixture(["serve", "-c", p.config]);
    const second = await runFixture(["serve", "-c", p.config]);
    expect(second.code).toBe(1);
    expect(second.out).toContain(`securely is already running (pid ${s.proc.pid}`);
    expect(second.out).toContain("kill -QUIT");
    expect((await get(s.port("fixture"))).pid).toBe(s.proc.pid);
    s.proc.kill("SIGINT");
    await s.exited;
  });

  test("a port another process holds with SO_REUSEPORT is refused, not silently shared", async () => {
    const port = await freePort();
    using other = Bun.serve({ hostname: "127.0.0.1", port, reusePort: true, fetch: () => new Response("other") });
    const p = fixtureProject(`fixture:\n  enabled: true\n  listen: 127.0.0.1:${port}\n`);
    const r = await runFixture(["serve", "-c", p.config]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`fixture: http 127.0.0.1:${port} is already in use by pid ${process.pid}`);
    expect(r.out).not.toContain("securely ready");
    expect(await (await fetch(`http://127.0.0.1:${other.port}/`)).text()).toBe("other");
    expect(pidsMatching(p.dir)).toEqual([]);
  });

  test("-t builds every service without starting any; a bad config exits 1 naming the key", async () => {
    const p = fixtureProject(`fixture:\n  enabled: true\n  ticker: true\n`);
    const ok = await runFixture(["serve", "-t", "-c", p.config]);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("services: fixture, fixture.ticker, metrics");
    expect(existsSync(join(p.dir, "securely.pid"))).toBe(false);
    writeFileSync(p.config, readFileSync(p.config, "utf8") + "grace_period_seconds: soon\n");
    const bad = await runFixture(["serve", "-t", "-c", p.config]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("grace_period_seconds: expected");
  });

  test("a service that fails to start stops the ones already started and exits 1 with the reason", async () => {
    const p = fixtureProject(`fixture:\n  enabled: true\n  ticker: true\n  fail_start: true\n`);
    const r = await runFixture(["serve", "-c", p.config]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("service fixture failed to start: fixture told to fail");
    expect(existsSync(join(p.dir, "securely.pid"))).toBe(false);
    expect(pidsMatching(p.dir)).toEqual([]);
  });

  test("error_log sends the logs to a file, reopened on SIGHUP (logrotate)", async () => {
    const p = fixtureProject(`fixture:\n  enabled: true\nerror_log: logs/securely.log\n`);
    const s = await startFixture(["serve", "-c", p.config]);
    const log = join(p.dir, "logs/securely.log");
    renameSync(log, log + ".1");
    s.proc.kill("SIGHUP");
    await eventually(() => existsSync(log) && readFileSync(log + ".1", "utf8").includes("SIGHUP: reloading"));
    s.proc.kill("SIGINT");
    expect(await s.exited).toBe(0);
    expect(readFileSync(join(p.dir, "logs/securely.log"), "utf8")).toContain("fast shutdown");
    expect(s.output()).not.toContain("fast shutdown");
  });
});
