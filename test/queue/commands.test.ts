/** queue:* commands end to end: signals, restart, pause, failed-job tools, chains and batches, serve. */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, runSecurely, startSecurely } from "../harness.ts";
import { queueProject } from "./helpers.ts";

const json = async (args: string[], env: Record<string, string>) => {
  const r = await runSecurely([...args, "--json"], { env });
  if (r.code !== 0) throw new Error(`${args.join(" ")} → ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};
const rec = (log: string, mode = "record", extra = {}) => JSON.stringify({ log, mode, ...extra });

describe("queue:work signals", () => {
  test("SIGTERM lets the running job finish, then the worker exits 0", async () => {
    const p = queueProject();
    const w = await startSecurely(["queue:work"], { env: p.env });
    await runSecurely(["queue:push", "rec", rec(p.log, "slow", { ms: 800 })], { env: p.env });
    await eventually(() => p.lines().some((l) => l.startsWith("start ")));
    expect(await w.stop("SIGTERM")).toBe(0);
    expect(p.lines().some((l) => l.startsWith("done "))).toBe(true);
    expect(await json(["queue:list"], p.env)).toEqual([]);
  }, 30_000);

  test("SIGUSR2 pauses and SIGCONT resumes", async () => {
    const p = queueProject();
    const w = await startSecurely(["queue:work"], { env: p.env });
    w.signal("SIGUSR2");
    await w.waitFor(/paused/);
    await runSecurely(["queue:push", "rec", rec(p.log)], { env: p.env });
    await Bun.sleep(300);
    expect(p.lines()).toEqual([]);
    w.signal("SIGCONT");
    await eventually(() => p.lines().length === 1);
    await w.stop();
  }, 30_000);

  test("queue:restart makes running workers exit after their current job", async () => {
    const p = queueProject();
    const w = await startSecurely(["queue:work"], { env: p.env });
    await runSecurely(["queue:push", "rec", rec(p.log, "slow", { ms: 500 })], { env: p.env });
    await eventually(() => p.lines().some((l) => l.startsWith("start ")));
    expect((await runSecurely(["queue:restart"], { env: p.env })).code).toBe(0);
    expect(await w.proc.exited).toBe(0);
    expect(p.lines().some((l) => l.startsWith("done "))).toBe(true);
    expect(w.output()).toContain("exiting (restart)");
  }, 30_000);

  test("queue.worker.memory (or --memory) makes queue:work exit once the process's RSS is over it", async () => {
    const p = queueProject("  worker:\n    memory: 1\n");
    const r = await runSecurely(["queue:work", "--sleep", "0.1"], { env: { ...p.env, SECURELY_LOG_LEVEL: "info" } });
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain("exiting (memory)");
  }, 30_000);

  test("--once, --max-jobs and strict --queue order", async () => {
    const p = queueProject();
    await runSecurely(["queue:push", "rec", rec(p.log), "--queue", "low"], { env: p.env });
    await runSecurely(["queue:push", "rec", rec(p.log), "--queue", "high"], { env: p.env });
    await runSecurely(["queue:push", "rec", rec(p.log), "--queue", "high"], { env: p.env });
    await runSecurely(["queue:work", "--once", "--queue", "high,low"], { env: p.env });
    expect(p.lines()).toEqual(["2"]);
    await runSecurely(["queue:work", "--max-jobs", "2", "--queue", "high,low"], { env: p.env });
    expect(p.lines()).toEqual(["2", "3", "1"]);
    const idle = await runSecurely(["queue:work", "--once", "--sleep", "0.1"], { env: p.env });
    expect(idle.code).toBe(0); // an empty queue: waits --sleep once, then exits
  }, 30_000);
});

describe("queue:push", () => {
  test("--delay, --unique-key and stdin payloads", async () => {
    const p = queueProject();
    const a = await json(["queue:push", "rec", rec(p.log), "--unique-key", "u"], p.env);
    const b = await json(["queue:push", "rec", rec(p.log), "--unique-key", "u"], p.env);
    expect([a.pushed, b.skipped]).toEqual([1, 1]);
    const r = await runSecurely(["queue:push", "rec", "-", "--delay", "1h"], { env: p.env, stdin: rec(p.log) });
    expect(r.stdout.trim()).toMatch(/^\d+$/);
    const rows = await json(["queue:list", "--status", "delayed"], p.env);
    expect(rows.map((x: any) => JSON.parse(x.payload).mode)).toEqual(["record"]);
  }, 30_000);
});

describe("failed jobs", () => {
  test("queue:failed, retry, forget, flush, prune-failed", async () => {
    const p = queueProject();
    for (let i = 0; i < 3; i++) await runSecurely(["queue:push", "rec", rec(p.log, "throw")], { env: p.env });
    await runSecurely(["queue:work", "--stop-when-empty"], { env: p.env });
    const failed = await json(["queue:failed"], p.env);
    expect(failed.length).toBe(3);
    expect(failed[0].exception).toBe("Error: handler threw on purpose");
    expect((await json(["queue:retry", String(failed[0].id)], p.env)).retried).toEqual([failed[0].id]);
    expect((await json(["queue:list"], p.env)).length).toBe(1);
    expect((await runSecurely(["queue:forget", "999"], { env: p.env })).stderr).toContain("no failed job with id 999");
    expect((await json(["queue:forget", String(failed[1].id)], p.env)).forgotten).toBe(failed[1].id);
    expect((await json(["queue:prune-failed"], p.env)).deleted).toBe(0);
    expect((await json(["queue:flush"], p.env)).deleted).toBe(1);
    expect((await runSecurely(["queue:retry", "--range", "5-1"], { env: p.env })).code).toBe(2);
  }, 30_000);

  test("--tries and --backoff retry a throwing job, then fail it with the reason", async () => {
    const p = queueProject();
    await runSecurely(["queue:push", "rec", rec(p.log, "throw")], { env: p.env });
    await runSecurely(["queue:work", "--stop-when-empty", "--tries", "3", "--backoff", "0"], { env: p.env });
    expect(p.lines().map((l) => l.split(" ")[2])).toEqual(["1", "2", "3"]);
    expect((await json(["queue:failed"], p.env))[0].attempts).toBe(3);
  }, 30_000);
});

describe("queue management", () => {
  test("pause/resume, clear --force, stats and monitor", async () => {
    const p = queueProject();
    await runSecurely(["queue:push", "rec", rec(p.log), "--queue", "mail"], { env: p.env });
    await json(["queue:pause", "mail"], p.env);
    await runSecurely(["queue:work", "--stop-when-empty", "--queue", "mail"], { env: p.env });
    expect(p.lines()).toEqual([]);
    const stats = await json(["queue:stats"], p.env);
    expect(stats).toEqual([{ queue: "mail", waiting: 1, delayed: 0, reserved: 0, failed: 0, paused: true, processed_last_minute: 0, oldest_waiting_s: expect.any(Number) }]);
    expect((await runSecurely(["queue:monitor", "mail", "--max", "0"], { env: p.env })).code).toBe(1);
    expect((await runSecurely(["queue:clear", "--queue", "mail"], { env: p.env })).stderr).toContain("add --force");
    expect((await json(["queue:clear", "--queue", "mail", "--force"], p.env)).deleted).toBe(1);
    await json(["queue:resume", "mail"], p.env);
    expect((await json(["queue:stats"], p.env))[0]?.paused ?? false).toBe(false);
  }, 30_000);
});

describe("chains and batches from the CLI", () => {
  test("a chain runs in order and a failure pushes its catch job", async () => {
    const p = queueProject();
    const file = join(p.dir, "chain.ndjson");
    writeFileSync(file, [rec(p.log, "slow", { ms: 1 }), rec(p.log, "throw"), rec(p.log, "slow", { ms: 1 })].map((x) => JSON.stringify({ handler: "rec", payload: JSON.parse(x) })).join("\n"));
    const c = await json(["queue:chain", "--file", file, "--catch", `rec=${rec(p.log, "record")}`], p.env);
    await runSecurely(["queue:work", "--stop-when-empty"], { env: p.env });
    const lines = p.lines();
    expect(lines.length).toBe(4); // start+done of 1, start of 2 (throws), catch records its id
    expect(lines[0]).toStartWith("start");
    expect(lines[3]).toMatch(/^\d+$/);
    expect(c.links).toBe(3);
  }, 30_000);

  test("a batch runs then and finally when every job succeeded", async () => {
    const p = queueProject();
    const file = join(p.dir, "batch.ndjson");
    writeFileSync(file, [1, 2, 3].map(() => JSON.stringify({ handler: "rec", payload: JSON.parse(rec(p.log)) })).join("\n"));
    const b = await json(["queue:batch", "--file", file, "--name", "three", "--then", `rec=${rec(p.log, "slow", { ms: 1 })}`], p.env);
    await runSecurely(["queue:work", "--stop-when-empty"], { env: p.env });
    const shown = await json(["queue:batch:show", b.id], p.env);
    expect(shown).toMatchObject({ name: "three", total: 3, pending: 0, failed: 0, progress: 100 });
    expect(p.lines().filter((l) => l.startsWith("done")).length).toBe(1);
  }, 30_000);
});

describe("handlers", () => {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = (await req.json()) as { ok: boolean };
      got.push({ body, id: req.headers.get("x-securely-job-id") });
      return new Response(body.ok ? "fine" : "nope", { status: body.ok ? 200 : 500 });
    },
  });
  const got: any[] = [];
  afterAll(() => server.stop(true));

  test("http: 2xx is success, other statuses fail with the body kept", async () => {
    const p = queueProject(`    hook: "http:http://127.0.0.1:${server.port}/jobs"\n`);
    await runSecurely(["queue:push", "hook", '{"ok":true}'], { env: p.env });
    await runSecurely(["queue:push", "hook", '{"ok":false}'], { env: p.env });
    await runSecurely(["queue:work", "--stop-when-empty"], { env: p.env });
    expect(got.map((g) => g.body)).toEqual([{ ok: true }, { ok: false }]);
    const failed = await json(["queue:failed"], p.env);
    expect(failed.map((f: any) => [f.exception, f.output])).toEqual([[`Error: http://127.0.0.1:${server.port}/jobs answered 500`, "nope"]]);
  }, 30_000);

  test("shell: a successful job's output is kept for queue:show", async () => {
    const p = queueProject();
    const [id] = (await json(["queue:push", "shell:echo hello from $SECURELY_JOB_ID"], p.env)).ids;
    await runSecurely(["queue:work", "--stop-when-empty"], { env: p.env });
    const shown = await json(["queue:show", String(id)], p.env);
    expect(shown).toMatchObject({ id, status: "done", handler: "shell:echo hello from $SECURELY_JOB_ID", attempts: 1, output: `hello from ${id}\n` });
    expect((await runSecurely(["queue:show", "999"], { env: p.env })).stderr).toContain("no job with id 999");
  }, 30_000);

  test("shell: payload on stdin and in the environment", async () => {
    const p = queueProject(`    sh: "shell:cat > ${"$"}{OUT}.stdin; printf %s \\"$SECURELY_JOB_PAYLOAD\\" > ${"$"}{OUT}.env"\n`);
    const out = join(p.dir, "o");
    const r = await runSecurely(["queue:push", "sh", '{"x":1}'], { env: { ...p.env, OUT: out } });
    expect(r.stderr).toBe("");
    await runSecurely(["queue:work", "--stop-when-empty"], { env: { ...p.env, OUT: out } });
    expect(await Bun.file(out + ".stdin").text()).toBe('{"x":1}');
    expect(await Bun.file(out + ".env").text()).toBe('{"x":1}');
  }, 30_000);
});

describe("serve", () => {
  test("queue.worker.enabled runs the worker as a background service; queue:restart restarts it in place; worker.memory does not stop it", async () => {
    const p = queueProject("  worker:\n    enabled: true\n    memory: 1\n    sleep: 0.1\nmetrics:\n  enabled: false\n");
    const s = await startSecurely(["serve"], { env: p.env });
    expect(s.output()).toMatch(/securely ready \(.*queue.*\)/);
    await runSecurely(["queue:push", "rec", rec(p.log)], { env: p.env });
    await eventually(() => p.lines().length === 1);
    await Bun.sleep(300); // idle: where a memory limit would stop it (the process shares its RSS with every service)
    expect((await runSecurely(["queue:restart"], { env: p.env })).code).toBe(0);
    await s.waitFor(/queue worker ended \(restart\): starting a new one/);
    await runSecurely(["queue:push", "rec", rec(p.log)], { env: p.env });
    await eventually(() => p.lines().length === 2);
    expect(await s.stop()).toBe(0);
  }, 30_000);
});

describe("queue:stats throughput", () => {
  test("jobs finished by a worker that exited are counted", async () => {
    const p = queueProject();
    for (let i = 0; i < 3; i++) await runSecurely(["queue:push", "rec", rec(p.log)], { env: p.env });
    await runSecurely(["queue:work", "--stop-when-empty"], { env: p.env });
    expect((await json(["queue:stats"], p.env)).map((s: any) => [s.queue, s.processed_last_minute])).toEqual([["default", 3]]);
  }, 30_000);
});
