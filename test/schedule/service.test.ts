/** The schedule service in-process: start owes the current minute; SIGHUP reload swaps entries. */
import { describe, expect, test } from "bun:test";
import { closeCache } from "../../src/cache/index.ts";
import { createScheduler } from "../../src/schedule/factory.ts";
import { RunHistory } from "../../src/schedule/history.ts";
import { scheduleService } from "../../src/schedule/service.ts";
import type { TaskRunner } from "../../src/schedule/tasks/index.ts";
import { FrozenClock, tempDir } from "../harness.ts";
import { testApp } from "./app-fixture.ts";

describe("schedule service", () => {
  test("start runs the current minute's tick once; a restarted service does not repeat it", async () => {
    const clock = new FrozenClock(Date.parse("2026-01-01T10:00:20Z"));
    const dir = tempDir();
    const yaml = `schedule:\n  - { name: a, run: x, every_minute: true }\n`;
    const ran: string[] = [];
    const runner: TaskRunner = async (_app, e) => (ran.push(e.name), { exitCode: 0, output: "" });
    for (let restart = 0; restart < 2; restart++) {
      const app = testApp(yaml, { clock, dir });
      const svc = scheduleService(app, (a, o) => createScheduler(a, { ...o, runners: { run: runner } }));
      await svc.start();
      await svc.stop({ graceful: true, timeoutMs: 1000 });
      expect(new RunHistory(app.store()).last("a")).toMatchObject({ status: "success", due_at: Date.parse("2026-01-01T10:00:00Z") });
      app.close();
      clock.advance(10_000);
    }
    expect(ran).toEqual(["a"]);
  });

  test("reload swaps in the new entries", async () => {
    const clock = new FrozenClock(Date.parse("2026-01-01T10:00:20Z"));
    const dir = tempDir();
    const app = testApp(`schedule:\n  - { name: old, run: x, hourly: true }\n`, { clock, dir });
    const svc = scheduleService(app);
    await svc.start();
    expect(Object.keys(svc.status!().next as object)).toEqual(["old"]);
    const next = testApp(`schedule:\n  - { name: new, run: x, every_second: true }\n`, { clock, dir });
    expect(await svc.reload!(next)).toEqual({ applied: ["1 entries"], needsRestart: [] });
    expect(svc.status!().next).toEqual({ new: Date.parse("2026-01-01T10:00:21Z") });
    await svc.stop({ graceful: false, timeoutMs: 0 });
    await closeCache(next);
    app.close();
    next.close();
  });
});
