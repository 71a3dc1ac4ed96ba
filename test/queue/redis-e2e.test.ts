/** The process-level durability rules again, with `queue.driver: redis`. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, runSecurely, startSecurely } from "../harness.ts";
import { killWorkerMidJob, queueProject } from "./helpers.ts";
import { startRedis } from "./redis-server.ts";

const redis = await startRedis();
const maybe = redis ? describe : describe.skip;
let n = 0;
const project = () => queueProject(`  driver: redis\n  redis:\n    url: ${redis!.url}\n    prefix: "e2e${process.pid}-${n++}:"\n`);

maybe("redis driver, real processes", () => {
  test("a worker killed -9 mid-job: the job runs again after the lease, never concurrently", async () => {
    const p = project();
    const { pid, id, survivor } = await killWorkerMidJob(p);
    expect(p.lines()).toEqual([`start ${pid} 1 ${id}`, `start ${survivor.proc.pid} 2 ${id}`, `done ${survivor.proc.pid} 2 ${id}`]);
    await survivor.stop();
  }, 30_000);

  test("three workers, 5k jobs: every job runs exactly once", async () => {
    const p = project();
    const file = join(p.dir, "jobs.ndjson");
    writeFileSync(file, Array.from({ length: 5000 }, () => JSON.stringify({ handler: "rec", payload: { log: p.log, mode: "record" } })).join("\n"));
    expect(JSON.parse((await runSecurely(["queue:push", "--file", file, "--json"], { env: p.env })).stdout).pushed).toBe(5000);
    const workers = await Promise.all([1, 2, 3].map(() => runSecurely(["queue:work", "--stop-when-empty", "--concurrency", "4"], { env: p.env, timeoutMs: 60_000 })));
    expect(workers.map((w) => w.code)).toEqual([0, 0, 0]);
    const ids = p.lines();
    expect(ids.length).toBe(5000);
    expect(new Set(ids).size).toBe(5000);
    const stats = JSON.parse((await runSecurely(["queue:stats", "--json"], { env: p.env })).stdout);
    expect(stats.map((s: any) => [s.queue, s.waiting, s.reserved, s.processed_last_minute])).toEqual([["default", 0, 0, 5000]]);
  }, 60_000);
});
