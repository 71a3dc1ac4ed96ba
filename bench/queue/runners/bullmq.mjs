// BullMQ 6.7 on a local redis-server (REDIS_URL), run under Node as its users do.
import { Queue, Worker } from "bullmq";
import IORedis from "ioredis";
import { LAT_SECONDS, N, now, offer, pct, RATE, report, sleep } from "./common.mjs";

const url = new URL(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
// BullMQ needs ioredis; in ESM it takes a constructed client (workers need maxRetriesPerRequest: null)
const connection = new IORedis({ host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null });
const name = `bench${process.pid}`;
const queue = new Queue(name, { connection });
const opts = { removeOnComplete: true, removeOnFail: true };
const r = {};
let t0 = now();
for (let i = 0; i < N; i++) await queue.add("noop", { i }, opts);
r.enqueue_one = N / ((now() - t0) / 1000);
await queue.obliterate({ force: true });
t0 = now();
for (let i = 0; i < N; i += 1000) await queue.addBulk(Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({ name: "noop", data: { i: i + k }, opts })));
r.enqueue_bulk = N / ((now() - t0) / 1000);

async function drain(concurrency) {
  let done = 0;
  const start = now();
  let resolve;
  const finished = new Promise((res) => (resolve = res));
  const w = new Worker(name, async () => {
    if (++done === N) resolve();
  }, { connection, concurrency, removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } });
  await finished;
  const rate = N / ((now() - start) / 1000);
  await w.close();
  return rate;
}
r.drain_c1 = await drain(1);
for (let i = 0; i < N; i += 1000) await queue.addBulk(Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({ name: "noop", data: { i: i + k }, opts })));
r.drain_c16 = await drain(16);

const lat = [];
const w = new Worker(name, async (job) => void lat.push(now() - job.data.t), { connection, concurrency: 16 });
await w.waitUntilReady();
await sleep(200);
await offer((_i, t) => queue.add("noop", { t }, opts));
const until = Date.now() + 5000;
while (lat.length < RATE * LAT_SECONDS && Date.now() < until) await sleep(10);
r.pickup_p50_ms = pct(lat, 50);
r.pickup_p99_ms = pct(lat, 99);
await w.close();
await queue.obliterate({ force: true });
await queue.close();
report("BullMQ (redis)", r);
process.exit(0);
