// liteque 0.8 (better-sqlite3 + drizzle), run under Node. No bulk enqueue API.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDBClient, Runner, SqliteQueue } from "liteque";
import { LAT_SECONDS, N, now, offer, pct, RATE, report, sleep } from "./common.mjs";

const dir = mkdtempSync(join(tmpdir(), "bench-liteque-"));
const db = buildDBClient(join(dir, "q.db"), { walEnabled: true, runMigrations: true });
const queue = new SqliteQueue("bench", db, { defaultJobArgs: { numRetries: 0 }, keepFailedJobs: false });
const r = {};
let t0 = now();
for (let i = 0; i < N; i++) await queue.enqueue({ i });
r.enqueue_one = N / ((now() - t0) / 1000);
r.enqueue_bulk = null;

async function drain(concurrency) {
  let done = 0;
  const runner = new Runner(queue, { run: async () => void done++ }, { pollIntervalMs: 50, timeoutSecs: 60, concurrency });
  const start = now();
  void runner.run();
  const deadline = Date.now() + 120_000;
  while (done < N && Date.now() < deadline) await sleep(1);
  const secs = (now() - start) / 1000;
  runner.stop();
  return N / secs;
}
r.drain_c1 = await drain(1);
for (let i = 0; i < N; i++) await queue.enqueue({ i });
r.drain_c16 = await drain(16);

const lat = [];
const runner = new Runner(queue, { run: async (job) => void lat.push(now() - job.data.t) }, { pollIntervalMs: 50, timeoutSecs: 60, concurrency: 16 });
void runner.run();
await sleep(200);
await offer((_i, t) => queue.enqueue({ t }));
const until = Date.now() + 5000;
while (lat.length < RATE * LAT_SECONDS && Date.now() < until) await sleep(10);
runner.stop();
r.pickup_p50_ms = pct(lat, 50);
r.pickup_p99_ms = pct(lat, 99);
rmSync(dir, { recursive: true, force: true });
report("liteque (sqlite, 50 ms poll)", r);
process.exit(0);
