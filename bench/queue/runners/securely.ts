/**
 * securely (sqlite driver) through its programmatic API: the same code `queue:push` and
 * `queue:work` run. Latency: pushes come from a separate process (cross-process pickup through
 * PRAGMA data_version), the worker is idle in this one.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "../../../src/core/app.ts";
import { coreModule } from "../../../src/core/commands/index.ts";
import { createWorker, openQueue, queueModule, registerHandler } from "../../../src/queue/index.ts";
import { LAT_SECONDS, N, now, offer, pct, RATE, report } from "./common.mjs";

const dir = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), "bench-securely-"));
const config = join(dir, "securely.config.yaml");
writeFileSync(config, `store:\n  path: ${join(dir, "store.db")}\n`);
const app = new App({ modules: [coreModule, queueModule], configPath: config, env: { ...process.env, SECURELY_CONF: config, SECURELY_LOG_LEVEL: "error" } });
app.store();
const q = openQueue(app);
let done = 0;
const latencies: number[] = [];
registerHandler("noop", (p: { t?: number }) => {
  done++;
  if (p?.t) latencies.push(now() - p.t);
});

if (process.argv[2] === "producer") {
  // latency producer: a separate process, as queue:push from an application would be
  await offer((_i: number, t: number) => q.push("noop", { t }));
  process.exit(0);
}

async function drain(concurrency: number): Promise<number> {
  done = 0;
  await q.pushMany(Array.from({ length: N }, (_, i) => ({ handler: "noop", payload: { i } })));
  const w = createWorker(app, { concurrency, stopWhenEmpty: true });
  const t0 = now();
  const c0 = process.cpuUsage();
  await w.start();
  await w.done;
  if (done !== N) throw new Error(`drained ${done} of ${N}`);
  const c = process.cpuUsage(c0);
  r[`drain_c${concurrency}_cpu_us_per_job`] = (c.user + c.system) / N;
  return N / ((now() - t0) / 1000);
}

const r: Record<string, number | null> = {};
let t0 = now();
for (let i = 0; i < N; i++) await q.push("noop", { i });
r.enqueue_one = N / ((now() - t0) / 1000);
await q.driver.clear("default");
t0 = now();
await q.pushMany(Array.from({ length: N }, (_, i) => ({ handler: "noop", payload: { i } })));
r.enqueue_bulk = N / ((now() - t0) / 1000);
await q.driver.clear("default");
r.drain_c1 = await drain(1);
r.drain_c16 = await drain(16);

latencies.length = 0;
done = 0;
const w = createWorker(app, { concurrency: 16, sleep: 60 });
await w.start();
const producer = Bun.spawn([process.execPath, import.meta.path, "producer"], { env: { ...process.env, BENCH_DIR: dir }, stdout: "inherit", stderr: "inherit" });
await producer.exited;
const until = Date.now() + 5000;
while (done < RATE * LAT_SECONDS && Date.now() < until) await Bun.sleep(10);
await w.stop();
r.pickup_p50_ms = pct(latencies, 50);
r.pickup_p99_ms = pct(latencies, 99);
r.latency_jobs = latencies.length;
report("securely (sqlite)", r);
app.close();
if (!process.env.BENCH_DIR) rmSync(dir, { recursive: true, force: true });
process.exit(0);
