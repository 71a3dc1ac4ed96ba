// bunqueue 2.9.5 embedded, SQLite file, `durable: true` on every add (acked add survives kill -9).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, Worker, shutdownManager } from "bunqueue/client";
import { LAT_SECONDS, N, now, offer, pct, RATE, report, sleep } from "./common.mjs";

const dir = mkdtempSync(join(tmpdir(), "bench-bunqueue-"));
const dataPath = join(dir, "q.db");
const conn = { embedded: true, dataPath };
const queue = new Queue("bench", conn as any);
const opts = { durable: true, removeOnComplete: true, removeOnFail: true };
const r: Record<string, number | null> = {};
let t0 = now();
for (let i = 0; i < N; i++) await queue.add("noop", { i }, opts as any);
r.enqueue_one = N / ((now() - t0) / 1000);

async function drain(concurrency: number) {
  let done = 0;
  const start = now();
  const w = new Worker("bench", async () => void done++, { ...conn, concurrency } as any);
  const deadline = Date.now() + 120_000;
  while (done < N && Date.now() < deadline) await sleep(1);
  const rate = done / ((now() - start) / 1000);
  await w.close();
  return rate;
}
r.drain_c1 = await drain(1);
t0 = now();
for (let i = 0; i < N; i += 1000) await queue.addBulk(Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({ name: "noop", data: { i: i + k }, opts })) as any);
r.enqueue_bulk = N / ((now() - t0) / 1000);
r.drain_c16 = await drain(16);

const lat: number[] = [];
const w = new Worker("bench", async (job: any) => void lat.push(now() - job.data.t), { ...conn, concurrency: 16 } as any);
await sleep(200);
await offer((_i: number, t: number) => queue.add("noop", { t }, opts as any));
const until = Date.now() + 5000;
while (lat.length < RATE * LAT_SECONDS && Date.now() < until) await sleep(10);
await w.close();
r.pickup_p50_ms = pct(lat, 50);
r.pickup_p99_ms = pct(lat, 99);
report("bunqueue (embedded, durable)", r);
try { await (shutdownManager as any)(); } catch {}
rmSync(dir, { recursive: true, force: true });
process.exit(0);
