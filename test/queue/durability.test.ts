/**
 * The durability rules, each with real processes: a pusher killed -9 after push returned,
 * a worker killed -9 mid-job, leases extended by long jobs, three workers × 10k jobs exactly
 * once, timeouts that kill a shell command's process tree, and bad input refused whole.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, eventually, ROOT, runSecurely, startSecurely } from "../harness.ts";
import { killWorkerMidJob, queueProject } from "./helpers.ts";

const count = async (env: Record<string, string>) => JSON.parse((await runSecurely(["queue:list", "--json", "--limit", "100000"], { env })).stdout).length;

describe("durability", () => {
  test("a job whose push returned survives kill -9 of the pusher", async () => {
    const p = queueProject();
    const proc = Bun.spawn([BUN, join(import.meta.dir, "fixtures/pusher-fixture.ts")], { cwd: ROOT, env: { ...process.env, ...p.env }, stdout: "pipe", stderr: "inherit" });
    const ids: number[] = [];
    const reader = proc.stdout.getReader();
    let buf = "";
    while (ids.length < 5) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += new TextDecoder().decode(value);
      for (const m of buf.matchAll(/pushed (\d+)\n/g)) if (!ids.includes(Number(m[1]))) ids.push(Number(m[1]));
    }
    proc.kill("SIGKILL");
    await proc.exited;
    const rows = JSON.parse((await runSecurely(["queue:list", "--json"], { env: p.env })).stdout) as { id: number }[];
    const stored = new Set(rows.map((r) => r.id));
    expect(ids.length).toBeGreaterThanOrEqual(5);
    for (const id of ids) expect(stored.has(id)).toBe(true);
  }, 30_000);

  test("a worker killed -9 mid-job: the job runs again after the lease, counting the attempt, never concurrently", async () => {
    const p = queueProject();
    const { pid, id, survivor } = await killWorkerMidJob(p);
    expect(p.lines()).toEqual([`start ${pid} 1 ${id}`, `start ${survivor.proc.pid} 2 ${id}`, `done ${survivor.proc.pid} 2 ${id}`]);
    expect(await count(p.env)).toBe(0);
    await survivor.stop();
  }, 30_000);

  test("a job longer than retry_after keeps its lease: it runs once", async () => {
    const p = queueProject("", 1);
    const w1 = await startSecurely(["queue:work"], { env: p.env });
    const w2 = await startSecurely(["queue:work"], { env: p.env });
    await runSecurely(["queue:push", "rec", JSON.stringify({ log: p.log, mode: "slow", ms: 2500 })], { env: p.env });
    await eventually(() => p.lines().some((l) => l.startsWith("done ")), 15_000);
    expect(p.lines().filter((l) => l.startsWith("start ")).length).toBe(1);
    await Promise.all([w1.stop(), w2.stop()]);
  }, 30_000);

  test("three workers, 10k jobs: every job runs exactly once", async () => {
    const p = queueProject();
    const file = join(p.dir, "jobs.ndjson");
    writeFileSync(file, Array.from({ length: 10_000 }, () => JSON.stringify({ handler: "rec", payload: { log: p.log, mode: "record" } })).join("\n"));
    const pushed = await runSecurely(["queue:push", "--file", file, "--json"], { env: p.env });
    expect(JSON.parse(pushed.stdout).pushed).toBe(10_000);
    const workers = await Promise.all([1, 2, 3].map(() => runSecurely(["queue:work", "--stop-when-empty", "--concurrency", "4"], { env: p.env, timeoutMs: 60_000 })));
    expect(workers.map((w) => w.code)).toEqual([0, 0, 0]);
    const ids = p.lines();
    expect(ids.length).toBe(10_000);
    expect(new Set(ids).size).toBe(10_000);
    expect(await count(p.env)).toBe(0);
  }, 60_000);

  test("a timeout kills the shell command's process tree and fails the job with the reason", async () => {
    const p = queueProject();
    const pidFile = join(p.dir, "child.pid");
    await runSecurely(["queue:push", `shell:sleep 30 & echo $! > ${pidFile}; wait`, "--timeout", "1"], { env: p.env });
    const w = await runSecurely(["queue:work", "--stop-when-empty"], { env: p.env });
    expect(w.code).toBe(0);
    const failed = JSON.parse((await runSecurely(["queue:failed", "--json"], { env: p.env })).stdout);
    expect(failed.length).toBe(1);
    expect(failed[0].exception).toContain("timed out after 1s");
    const child = Number(readFileSync(pidFile, "utf8"));
    await eventually(() => {
      try {
        process.kill(child, 0);
        return existsSync(`/proc/${child}`) && readFileSync(`/proc/${child}/stat`, "utf8").split(" ")[2] === "Z";
      } catch {
        return true;
      }
    });
  }, 30_000);

  test("a module that hangs past its timeout is abandoned and the slot runs the next job", async () => {
    const p = queueProject();
    await runSecurely(["queue:push", "rec", JSON.stringify({ log: p.log, mode: "hang" }), "--timeout", "1", "--tries", "2", "--backoff", "0"], { env: p.env });
    await runSecurely(["queue:push", "rec", JSON.stringify({ log: p.log, mode: "slow", ms: 1 })], { env: p.env });
    const w = await runSecurely(["queue:work", "--stop-when-empty", "--concurrency", "1"], { env: p.env });
    expect(w.code).toBe(0);
    expect(p.lines().filter((l) => l.startsWith("start ")).map((l) => l.split(" ")[2])).toEqual(["1", "1", "2"]);
    const failed = JSON.parse((await runSecurely(["queue:failed", "--json"], { env: p.env })).stdout);
    expect(failed.map((f: any) => [f.attempts, f.exception])).toEqual([[2, "JobTimeoutError: timed out after 1s"]]);
  }, 30_000);

  test("malformed payloads, unknown handlers, bad flags and bad file lines are refused; nothing is written", async () => {
    const p = queueProject();
    const cases: [string[], RegExp][] = [
      [["queue:push", "rec", "{nope"], /payload: not valid JSON/],
      [["queue:push", "missing", "{}"], /unknown handler 'missing'.*known: rec/],
      [["queue:push", "rec", "{}", "--tries", "0"], /--tries: expected an integer ≥ 1, got "0"/],
      [["queue:push", "rec", "{}", "--delay", "soon"], /--delay: expected a duration/],
      [["queue:push", "rec", "{}", "--backoff", "1,x"], /--backoff: expected seconds/],
      [["queue:push", "rec", "{}", "--unique-for", "1h"], /--unique-for needs --unique-key/],
      [["queue:push", "rec", "{}", "--bogus"], /unknown flag '--bogus'/],
      [["queue:push", "module:/nowhere/x.ts"], /module file \/nowhere\/x.ts not found/],
    ];
    for (const [args, re] of cases) {
      const r = await runSecurely(args, { env: p.env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    const file = join(p.dir, "bad.ndjson");
    writeFileSync(file, [JSON.stringify({ handler: "rec" }), JSON.stringify({ handler: "rec" }), JSON.stringify({ handler: "rec", tries: -1 })].join("\n"));
    const r = await runSecurely(["queue:push", "--file", file], { env: p.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:3: tries must be an integer ≥ 1, got -1`);
    writeFileSync(file, `${JSON.stringify({ handler: "rec" })}\n{"handler":"rec","colour":1}\n`);
    expect((await runSecurely(["queue:push", "--file", file], { env: p.env })).stderr).toContain(`${file}:2: unknown key 'colour'`);
    expect(await count(p.env)).toBe(0);
  }, 30_000);
});
