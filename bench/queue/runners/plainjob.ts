// plainjob 0.0.14 on bun:sqlite (WAL). Its worker runs one job at a time, so concurrency c = c workers.
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bun, defineQueue, defineWorker } from "plainjob";
import { LAT_SECONDS, N, now, offer, pct, RATE, report, sleep } from "./common.mjs";

const dir = mkdtempSync(join(tmpdir(), "bench-plainjob-"));
const db = new Database(join(dir, "q.db"), { strict: true });
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
const logger = { error() {}, warn() {}, info() {}, debug() {} };
const queue = defineQueue({ connection: bun(db), logger });
const r: Record<string, number | null> = {};
let t0 = now();
for (let i = 0; i < N; i++) queue.add("noop", { i });
r.enqueue_one = N / ((now() - t0) / 1000);
db.exec("DELETE FROM plainjob_jobs");
t0 = now();
queue.addMany("noop", Array.from({ length: N }, (_, i) => ({ i })));
r.enqueue_bulk = N / ((now() - t0) / 1000);

async function drain(c: number, job: (data: any) => void, until: () => boolean) {
  const ws = Array.from({ length: c }, () => defineWorker("noop", (j) => job(JSON.parse(j.data)), { queue, logger, pollIntervall: 50 }));
  const start = now();
  for (const w of ws) void w.start();
  const deadline = Date.now() + 120_000;
  while (!until() && Date.now() < deadline) await sleep(1);
  const secs = (now() - start) / 1000;
  await Promise.all(ws.map((w) => w.stop()));
  return secs;
}
let done = 0;
r.drain_c1 = N / (await drain(1, () => done++, () => done >= N));
queue.addMany("noop", Array.from({ length: N }, (_, i) => ({ i })));
done = 0;
r.drain_c16 = N / (await drain(16, () => done++, () => done >= N));

const lat: number[] = [];
const ws = Array.from({ length: 16 }, () => defineWorker("noop", (j) => void lat.push(now() - JSON.parse(j.data).t), { queue, logger, pollIntervall: 50 }));
for (const w of ws) void w.start();
await sleep(200);
await offer((_i: number, t: number) => queue.add("noop", { t }));
const until = Date.now() + 5000;
while (lat.length < RATE * LAT_SECONDS && Date.now() < until) await sleep(10);
await Promise.all(ws.map((w) => w.stop()));
r.pickup_p50_ms = pct(lat, 50);
r.pickup_p99_ms = pct(lat, 99);
queue.close();
rmSync(dir, { recursive: true, force: true });
report("plainjob (sqlite, 50 ms poll)", r);
process.exit(0);
