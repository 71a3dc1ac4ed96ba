/**
 * Side-by-side queue benchmark: securely (sqlite) vs BullMQ (local redis-server), plainjob,
 * bunqueue (embedded, durable) and liteque, no-op handlers. Per runner: enqueue N one by one and
 * in bulk, drain N at concurrency 1 and 16, then an offered load (BENCH_RATE/s for
 * BENCH_LAT_SECONDS) with idle workers for pickup latency (enqueue → handler, p50/p99).
 *
 *   npm --prefix bench install && npx bun bench/queue/run.ts [--rounds 3] [--only securely,bullmq]
 *
 * Each runner is a separate process (Bun, or Node for BullMQ/liteque as their users run them),
 * bounded by a timeout; with several rounds the median of each metric is printed.
 */
import { join } from "node:path";
import { RedisClient } from "bun";

const here = import.meta.dir;
const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf("--rounds") + 1] ?? 1) || 1;
const only = args.includes("--only") ? args[args.indexOf("--only") + 1]!.split(",") : undefined;
const node = Bun.which("node");

const runners = [
  { key: "securely", cmd: [process.execPath, join(here, "runners/securely.ts")] },
  { key: "bullmq", cmd: [node!, join(here, "runners/bullmq.mjs")], redis: true },
  { key: "plainjob", cmd: [process.execPath, join(here, "runners/plainjob.ts")] },
  { key: "bunqueue", cmd: [process.execPath, join(here, "runners/bunqueue.ts")] },
  { key: "liteque", cmd: [node!, join(here, "runners/liteque.mjs")] },
].filter((r) => !only || only.includes(r.key));

async function startRedis(): Promise<{ url: string; stop(): void }> {
  const port = 20_000 + Math.floor(Math.random() * 40_000);
  const proc = Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "ignore", stderr: "ignore" });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const c = new RedisClient(url, { autoReconnect: false });
      await c.send("PING", []);
      c.close();
      return { url, stop: () => proc.kill() };
    } catch {
      await Bun.sleep(50);
    }
  }
  proc.kill();
  throw new Error("redis-server did not start");
}

const redis = runners.some((r) => r.redis) ? await startRedis() : undefined;
const results = new Map<string, Record<string, any>[]>();
for (let round = 0; round < rounds; round++) {
  for (const r of runners) {
    const proc = Bun.spawn(r.cmd, { cwd: join(here, ".."), env: { ...process.env, REDIS_URL: redis?.url }, stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 240_000);
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    const line = out.split("\n").find((l) => l.startsWith("RESULT "));
    if (!line) {
      const why = (err.split("\n").find((l) => /Error/.test(l)) ?? err.trim().split("\n").pop() ?? "no output").trim();
      console.error(`${r.key}: no result (exit ${proc.exitCode}): ${why}`);
      continue;
    }
    const res = JSON.parse(line.slice(7));
    console.error(`round ${round + 1} ${res.name}: ${JSON.stringify(res)}`);
    results.set(res.name, [...(results.get(res.name) ?? []), res]);
  }
}
redis?.stop();

const metrics = ["enqueue_one", "enqueue_bulk", "drain_c1", "drain_c16", "pickup_p50_ms", "pickup_p99_ms"];
const median = (xs: number[]) => {
  const s = xs.filter((x) => typeof x === "number").sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : null;
};
const rows = [...results].map(([name, rs]) => ({ name, ...Object.fromEntries(metrics.map((m) => [m, median(rs.map((x) => x[m]))])) })) as any[];
const fmt = (v: number | null, m: string) => (v === null ? "n/a" : m.endsWith("_ms") ? v.toFixed(2) : Math.round(v).toLocaleString("en"));
console.log(`\nqueue benchmark, N=${process.env.BENCH_N ?? 20000}, rounds=${rounds} (median), ${new Date().toISOString()}`);
console.log(["runner".padEnd(32), ...metrics.map((m) => m.padStart(14))].join(""));
for (const r of rows) console.log([r.name.padEnd(32), ...metrics.map((m) => fmt(r[m], m).padStart(14))].join(""));
const me = rows.find((r) => r.name.startsWith("securely"));
if (me) {
  console.log("\nsecurely ÷ peer (throughput: higher is better; latency: peer ÷ securely, higher is better)");
  for (const r of rows.filter((x) => x !== me)) {
    const ratio = (m: string) => (me[m] && r[m] ? (m.endsWith("_ms") ? r[m] / me[m] : me[m] / r[m]).toFixed(2) + "×" : "n/a");
    console.log([r.name.padEnd(32), ...metrics.map((m) => ratio(m).padStart(14))].join(""));
  }
}
