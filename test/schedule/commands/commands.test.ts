/** schedule:* through the real CLI: list, run (one tick), test, work, and config errors. */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, runSecurely, startSecurely, tempDir, tempProject } from "../../harness.ts";
import { startRedis } from "../../cache/redis-server.ts";

const YAML = `metrics: { enabled: false }
schedule:
  - name: stamp
    run: echo "$SECURELY_SCHEDULE_NAME" >> stamps.txt
    every_minute: true
  - name: backup
    run: exit 3
    daily_at: "02:00"
    timezone: Europe/Paris
  - name: prune
    command: cache:prune
    hourly: true
`;

describe("schedule:* commands", () => {
  test("list shows expression, time zone and next run; --json is machine-readable", async () => {
    const { env } = tempProject(YAML);
    const human = await runSecurely(["schedule:list"], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^NAME\s+SCHEDULE\s+TASK\s+NEXT\s+LAST/);
    expect(human.stdout).toMatch(/backup\s+0 2 \* \* \*\s+run: exit 3\s+\d{4}-\d\d-\d\d 02:00:00 Europe\/Paris/);
    const rows = JSON.parse((await runSecurely(["schedule:list", "--json", "--next", "3"], { env })).stdout);
    expect(rows.map((r: any) => r.name)).toEqual(["stamp", "backup", "prune"]);
    expect(rows[0].next_runs).toHaveLength(3);
    expect(rows[2]).toMatchObject({ kind: "command", target: "cache:prune", expression: "0 * * * *", last_run: null });
  });

  test("run --at runs that minute's tick once; a second run of it does nothing", async () => {
    const { env, dir } = tempProject(YAML);
    const first = await runSecurely(["schedule:run", "--at", "2026-01-01T01:00:00Z", "--json"], { env });
    expect(first.code).toBe(0);
    const outcomes = JSON.parse(first.stdout);
    expect(outcomes.map((o: any) => [o.name, o.status, o.exit_code])).toEqual([
      ["stamp", "success", 0],
      ["backup", "failed", 3], // 01:00 UTC is 02:00 in Paris
      ["prune", "success", 0], // a securely command in a child process
    ]);
    const again = await runSecurely(["schedule:run", "--at", "2026-01-01T01:00:30Z"], { env });
    expect(again.stdout).toContain("stamp  already-ran");
    expect(readFileSync(join(dir, "stamps.txt"), "utf8")).toBe("stamp\n");
    const list = JSON.parse((await runSecurely(["schedule:list", "--json"], { env })).stdout);
    expect(list[1].last_run).toMatchObject({ status: "failed", exit_code: 3, at: "2026-01-01T01:00:00.000Z" });
  });

  test("test NAME runs one entry now and exits with its code; an unknown name suggests one", async () => {
    const { env } = tempProject(YAML);
    const ok = await runSecurely(["schedule:test", "stamp"], { env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("stamp: success (exit 0)");
    expect((await runSecurely(["schedule:test", "backup"], { env })).code).toBe(3);
    const typo = await runSecurely(["schedule:test", "bakup"], { env });
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain("no schedule entry named 'bakup' — did you mean 'backup'?");
  });

  test("config mistakes name the entry and key", async () => {
    const { env } = tempProject(`schedule:
  - name: a
    run: x
  - name: b
    run: x
    job: y
    daily_at: "24:00"
  - name: c
    run: x
    cron: "* * *"
  - name: d
    run: x
    every_minute: true
    timezone: Mars/Olympus
  - name: e
    run: x
    cron: "* * * * *"
    weekdays: true
  - name: f
    run: x
    hourly: true
    payload: 1
    evry_minute: true
`);
    const r = await runSecurely(["schedule:list"], { env });
    expect(r.code).toBe(1);
    for (const line of [
      "schedule[0]: needs a frequency: cron, or a helper such as every_minute",
      "schedule[1]: has run and job; keep one task per entry",
      "schedule[2].cron: cron expression '* * *': has 3 fields, expected 5 or 6",
      'schedule[3].timezone: unknown time zone "Mars/Olympus"',
      "schedule[4].weekdays: works with the frequency helpers only",
      "schedule[5].evry_minute: unknown key — did you mean 'every_minute'?",
    ]) expect(r.stderr).toContain(line);
  });

  test("duplicate names are refused", async () => {
    const { env } = tempProject(`schedule:\n  - { name: a, run: x, hourly: true }\n  - { name: a, run: y, daily: true }\n`);
    const r = await runSecurely(["schedule:list"], { env });
    expect(r.stderr).toContain("schedule[1].name: 'a' is already used by schedule[0]");
  });

  test("work runs sub-minute entries as they fall due and stops on SIGTERM", async () => {
    const { env, dir } = tempProject(`metrics: { enabled: false }\nschedule:\n  - { name: tick, run: "echo tick >> ticks.txt", every_second: true }\n`);
    const proc = await startSecurely(["schedule:work"], { env });
    await eventually(() => existsSync(join(dir, "ticks.txt")) && readFileSync(join(dir, "ticks.txt"), "utf8").split("\n").length > 2, 10_000);
    expect(await proc.stop("SIGTERM")).toBe(0);
  });

  test("work without entries says what to add", async () => {
    const { env } = tempProject("");
    const r = await runSecurely(["schedule:work"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no schedule entries in");
  });

  test("serve starts the schedule service when entries exist", async () => {
    const { env, dir } = tempProject(`metrics: { enabled: false }\nschedule:\n  - { name: tick, run: "echo tick >> ticks.txt", every_second: true }\n`);
    const proc = await startSecurely(["serve"], { env });
    expect(proc.output()).toMatch(/securely ready \(.*schedule.*\)/);
    await eventually(() => existsSync(join(dir, "ticks.txt")), 10_000);
    await proc.stop("SIGTERM");
  });

  test("two servers sharing Redis: an on_one_server entry runs once per tick", async () => {
    const redis = await startRedis();
    const shared = tempDir();
    const yaml = (n: number) => `store: { path: ${join(tempDir(), `server-${n}.db`)} }
cache: { store: redis, redis: { url: "${redis.url}" } }
schedule:
  - { name: report, run: "echo $HOSTNAME_TAG >> ${join(shared, "report.txt")}", every_minute: true, on_one_server: true }
  - { name: local, run: "echo $HOSTNAME_TAG >> ${join(shared, "local.txt")}", every_minute: true }
`;
    const servers = [tempProject(yaml(1)), tempProject(yaml(2))];
    for (const minute of ["2026-01-01T10:00:00Z", "2026-01-01T10:01:00Z"]) {
      const runs = await Promise.all(servers.map((s, i) => runSecurely(["schedule:run", "--at", minute], { env: { ...s.env, HOSTNAME_TAG: `s${i}` } })));
      expect(runs.map((r) => r.code)).toEqual([0, 0]);
    }
    expect(readFileSync(join(shared, "report.txt"), "utf8").trim().split("\n")).toHaveLength(2);
    expect(readFileSync(join(shared, "local.txt"), "utf8").trim().split("\n").sort()).toEqual(["s0", "s0", "s1", "s1"]);
  });
});
