/** The Scheduler with a frozen clock: what is due, claims, locks, hooks, environments. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { closeCache } from "../../src/cache/index.ts";
import { createScheduler } from "../../src/schedule/factory.ts";
import { RunHistory } from "../../src/schedule/history.ts";
import type { TaskRunner } from "../../src/schedule/tasks/index.ts";
import { FrozenClock, tempDir } from "../harness.ts";
import { startRedis } from "../cache/redis-server.ts";
import { testApp } from "./app-fixture.ts";

const T = (iso: string) => Date.parse(iso);

/** A runner that records which entries ran, instead of spawning. */
function recorder() {
  const ran: string[] = [];
  const runner: TaskRunner = async (_app, e) => {
    ran.push(e.name);
    return { exitCode: e.target === "fail" ? 2 : 0, output: `ran ${e.name}\n` };
  };
  return { ran, runners: { run: runner, command: runner, job: runner, workflow: runner } };
}

describe("Scheduler.tick", () => {
  test("runs what falls due in the window, each entry once", async () => {
    const clock = new FrozenClock(T("2026-01-05T08:30:00Z")); // a Monday
    const app = testApp(
      `schedule:
  - { name: every-minute, run: x, every_minute: true }
  - { name: monday-830, run: x, weekly_on: [monday, "8:30"] }
  - { name: hourly, run: x, hourly: true }
  - { name: paris-930, run: x, daily_at: "09:30", timezone: Europe/Paris }
`,
      { clock },
    );
    const { ran, runners } = recorder();
    const s = createScheduler(app, { runners });
    const out = await s.tick(T("2026-01-05T08:27:00Z"), clock.now());
    expect(ran.sort()).toEqual(["every-minute", "monday-830", "paris-930"]);
    expect(out.every((o) => o.status === "success")).toBe(true);
    await closeCache(app);
    app.close();
  });

  test("a restart inside the minute does not run its tick twice", async () => {
    const clock = new FrozenClock(T("2026-01-01T10:00:00Z"));
    const dir = tempDir();
    const yaml = `schedule:\n  - { name: job, run: x, every_minute: true }\n`;
    const first = testApp(yaml, { clock, dir });
    const a = recorder();
    await createScheduler(first, { runners: a.runners }).tick(T("2026-01-01T09:59:59.999Z"), clock.now());
    await closeCache(first);
    first.close();
    clock.advance(30_000); // the process restarts at 10:00:30 and owes "this minute" again
    const second = testApp(yaml, { clock, dir });
    const b = recorder();
    const out = await createScheduler(second, { runners: b.runners }).tick(T("2026-01-01T09:59:59.999Z"), clock.now());
    expect(a.ran).toEqual(["job"]);
    expect(b.ran).toEqual([]);
    expect(out).toEqual([{ name: "job", due_at: T("2026-01-01T10:00:00Z"), status: "already-ran" }]);
    clock.advance(30_000); // the next minute is a new tick
    await createScheduler(second, { runners: b.runners }).tick(T("2026-01-01T10:00:30Z"), clock.now());
    expect(b.ran).toEqual(["job"]);
    await closeCache(second);
    second.close();
  });

  test("a missed tick is run once after a restart, even when several were missed", async () => {
    const clock = new FrozenClock(T("2026-01-01T10:05:10Z"));
    const app = testApp(`schedule:\n  - { name: job, run: x, every_minute: true }\n`, { clock });
    const r = recorder();
    const out = await createScheduler(app, { runners: r.runners }).tick(T("2026-01-01T10:00:30Z"), clock.now());
    expect(r.ran).toEqual(["job"]);
    expect(out[0]!.due_at).toBe(T("2026-01-01T10:05:00Z"));
    await closeCache(app);
    app.close();
  });

  test("environments, between and unless_between filter runs", async () => {
    const clock = new FrozenClock(T("2026-01-01T12:00:00Z"));
    const app = testApp(
      `schedule:
  - { name: prod-only, run: x, every_minute: true, environments: [production] }
  - { name: staging-only, run: x, every_minute: true, environments: [staging] }
  - { name: office-hours, run: x, every_minute: true, between: ["08:00", "17:00"] }
  - { name: night, run: x, every_minute: true, between: ["22:00", "04:00"] }
  - { name: not-at-noon, run: x, every_minute: true, unless_between: ["11:30", "12:30"] }
`,
      { clock, env: { SECURELY_ENV: "staging" } },
    );
    const r = recorder();
    await createScheduler(app, { runners: r.runners }).tick(clock.now() - 1, clock.now());
    expect(r.ran.sort()).toEqual(["office-hours", "staging-only"]);
    await closeCache(app);
    app.close();
  });

  test("without_overlapping skips a tick while the previous run holds the lock", async () => {
    const clock = new FrozenClock(T("2026-01-01T10:00:00Z"));
    const app = testApp(`schedule:\n  - { name: slow, run: x, every_minute: true, without_overlapping: true, run_in_background: true }\n`, { clock });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let runs = 0;
    const slow: TaskRunner = async () => {
      runs++;
      await gate;
      return { exitCode: 0, output: "" };
    };
    const s = createScheduler(app, { runners: { run: slow } });
    expect((await s.tick(clock.now() - 1, clock.now()))[0]!.status).toBe("running");
    clock.advance(60_000);
    const [second] = await s.tick(clock.now() - 60_000, clock.now());
    // the background run of 10:00 still holds the lock
    await Promise.resolve();
    release();
    await s.drain(5000);
    expect(runs).toBe(1);
    const history = new RunHistory(app.store());
    expect(history.last("slow")).toMatchObject({ status: "skipped", reason: "the previous run is still running" });
    expect(second!.status).toBe("running");
    clock.advance(60_000);
    await s.tick(clock.now() - 60_000, clock.now());
    await s.drain(5000);
    expect(runs).toBe(2); // released after the first run finished
    await closeCache(app);
    app.close();
  });

  test("on_one_server: two servers sharing Redis run each tick once", async () => {
    const redis = await startRedis();
    const clock = new FrozenClock(T("2026-01-01T10:00:00Z"));
    const yaml = `cache:\n  store: redis\n  redis: { url: "${redis.url}" }\nschedule:\n  - { name: report, run: x, every_minute: true, on_one_server: true }\n  - { name: local, run: x, every_minute: true }\n`;
    const apps = [testApp(yaml, { clock }), testApp(yaml, { clock })]; // two servers: separate store files
    const recs = apps.map(() => recorder());
    const schedulers = apps.map((app, i) => createScheduler(app, { runners: recs[i]!.runners, host: `server-${i}` }));
    for (let minute = 0; minute < 3; minute++) {
      await Promise.all(schedulers.map((s) => s.tick(clock.now() - 1, clock.now())));
      clock.advance(60_000);
    }
    const reports = recs.flatMap((r) => r.ran.filter((n) => n === "report"));
    expect(reports.length).toBe(3);
    expect(recs.map((r) => r.ran.filter((n) => n === "local").length)).toEqual([3, 3]);
    for (const app of apps) {
      await closeCache(app);
      app.close();
    }
  });

  test("hooks run around the task with its exit code; output is appended to the file", async () => {
    const clock = new FrozenClock(T("2026-01-01T10:00:00Z"));
    const dir = tempDir();
    const app = testApp(
      `schedule:
  - name: ok
    run: echo out-$SECURELY_SCHEDULE_NAME
    every_minute: true
    output: out.log
    before: echo before >> hooks.log
    on_success: echo success-$SECURELY_SCHEDULE_EXIT_CODE >> hooks.log
    on_failure: echo failure >> hooks.log
    after: echo after-$SECURELY_SCHEDULE_EXIT_CODE >> hooks.log
  - name: bad
    run: echo oops; exit 7
    every_minute: true
    on_failure: echo failure-$SECURELY_SCHEDULE_EXIT_CODE >> bad.log
`,
      { clock, dir },
    );
    const out = await createScheduler(app).tick(clock.now() - 1, clock.now());
    expect(out.map((o) => [o.name, o.status, o.exit_code])).toEqual([
      ["ok", "success", 0],
      ["bad", "failed", 7],
    ]);
    expect(readFileSync(join(dir, "hooks.log"), "utf8")).toBe("before\nsuccess-0\nafter-0\n");
    expect(readFileSync(join(dir, "out.log"), "utf8")).toBe("out-ok\n");
    expect(readFileSync(join(dir, "bad.log"), "utf8")).toBe("failure-7\n");
    expect(new RunHistory(app.store()).last("bad")).toMatchObject({ status: "failed", exit_code: 7 });
    await closeCache(app);
    app.close();
  });

  test("job and workflow entries go through app.provided; unwired ones fail the run clearly", async () => {
    const clock = new FrozenClock(T("2026-01-01T10:00:00Z"));
    const app = testApp(
      `schedule:
  - { name: push, job: send-report, payload: { to: ops }, queue: mail, every_minute: true }
  - { name: flow, workflow: nightly, payload: [1, 2], every_minute: true }
`,
      { clock },
    );
    const unwired = await createScheduler(app).tick(clock.now() - 1, clock.now());
    expect(unwired[0]).toMatchObject({ status: "failed", exit_code: 1 });
    expect(unwired[0]!.output).toContain("does not provide app.provided.pushJob");
    const calls: unknown[] = [];
    app.provided.pushJob = async (_app: unknown, handler: string, payload: unknown, opts: unknown) => (calls.push(["job", handler, payload, opts]), 41);
    app.provided.startWorkflow = async (_app: unknown, name: string, input: unknown) => (calls.push(["workflow", name, input]), "wf-1");
    clock.advance(60_000);
    const out = await createScheduler(app).tick(clock.now() - 1, clock.now());
    expect(out.map((o) => o.status)).toEqual(["success", "success"]);
    expect(calls).toEqual([
      ["job", "send-report", { to: "ops" }, { queue: "mail" }],
      ["workflow", "nightly", [1, 2]],
    ]);
    await closeCache(app);
    app.close();
  });

  test("a run task past its timeout is killed and fails with 124", async () => {
    const clock = new FrozenClock(T("2026-01-01T10:00:00Z"));
    const app = testApp(`schedule:\n  - { name: hang, run: "sleep 30", every_minute: true, timeout: 0.2 }\n`, { clock });
    const [o] = await createScheduler(app).tick(clock.now() - 1, clock.now());
    expect(o).toMatchObject({ status: "failed", exit_code: 124 });
    await closeCache(app);
    app.close();
  });
});
