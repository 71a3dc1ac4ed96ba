/**
 * Durable workflows vs plain job chains: N workflows × 3 no-op activities on a workflow worker,
 * against the same 3 steps as N queue chains (job → job → job) on a queue worker, each on a
 * fresh store, same concurrency, one process. Prints workflows/s, activities/s and the ratio —
 * the cost of durability (history events, replays) over a bare chain.
 *
 *   bun bench/workflow/run.ts [--n 1000] [--concurrency 16] [--rounds 3] [--max-seconds 120]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { App } from "../../src/core/app.ts";
import { installSdk } from "../../src/core/sdk/index.ts";
import { modules } from "../../src/main.ts";
import { createWorker as createQueueWorker, openQueue, registerHandler } from "../../src/queue/index.ts";
import { createWorker, openRuntime, workerOptions } from "../../src/workflow/index.ts";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "16" },
    rounds: { type: "string", default: "3" },
    "max-seconds": { type: "string", default: "120" },
  },
});
const N = Number(values.n);
const C = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const deadline = Date.now() + Number(values["max-seconds"]) * 1000;

installSdk(modules);

const WF = `
import { defineWorkflow, defineActivity } from "securely";
export const step = defineActivity(async (x: number) => x + 1);
export const three = defineWorkflow(async (ctx, x: number) => {
  const a = await ctx.activity<number>("step", x);
  const b = await ctx.activity<number>("step", a);
  return ctx.activity<number>("step", b);
});
`;

function project(executor = "local"): { dir: string; app: App } {
  const dir = mkdtempSync(join(tmpdir(), "securely-bench-wf-"));
  writeFileSync(join(dir, "wf.ts"), WF);
  writeFileSync(
    join(dir, "securely.config.yaml"),
    `store:\n  path: ${join(dir, "store.db")}\nworkflow:\n  files: [./wf.ts]\n  concurrency: ${C}\n  executor: ${executor}\nqueue:\n  worker:\n    concurrency: ${C}\n    sleep: 1\n`,
  );
  const app = new App({ modules, configPath: join(dir, "securely.config.yaml"), logLevel: "error", env: { ...process.env, SECURELY_LOG_LEVEL: "error" } });
  return { dir, app };
}

interface Result {
  startMs: number;
  drainMs: number;
  /** CPU time of this process while draining (user + system), ms: steadier than wall time on a shared machine. */
  cpuMs: number;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function workflows(executor: string): Promise<Result> {
  const { dir, app } = project(executor);
  const rt = await openRuntime(app, { loadCode: true });
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < N; i++) ids.push(rt.client.start("three", i));
  const t1 = performance.now();
  const c1 = cpuNow();
  const worker = createWorker(rt, workerOptions(app, { pollMs: 50 }));
  const done = worker.run();
  const count = app.store().db.prepare("SELECT COUNT(*) AS n FROM workflow_runs WHERE status = 'completed'");
  while ((count.get() as { n: number }).n < N) {
    if (Date.now() > deadline) throw new Error("bench: deadline passed (workflows)");
    await Bun.sleep(2);
  }
  const t2 = performance.now();
  const c2 = cpuNow();
  worker.stop(true);
  await done;
  const bad = app.store().db.query("SELECT COUNT(*) AS n FROM workflow_runs WHERE output != CAST(json_extract(input, '$') + 3 AS TEXT)").get() as { n: number };
  if (bad.n) throw new Error(`bench: ${bad.n} workflows produced a wrong result`);
  app.close();
  rmSync(dir, { recursive: true, force: true });
  return { startMs: t1 - t0, drainMs: t2 - t1, cpuMs: c2 - c1 };
}

let chainDone = 0;
registerHandler("bench.step", () => void chainDone++);

async function chains(): Promise<Result> {
  const { dir, app } = project();
  const q = openQueue(app);
  chainDone = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await q.chain([{ handler: "bench.step", payload: i }, { handler: "bench.step" }, { handler: "bench.step" }]);
  const t1 = performance.now();
  const c1 = cpuNow();
  const worker = createQueueWorker(app, { concurrency: C, sleep: 1 });
  await worker.start();
  while (chainDone < 3 * N) {
    if (Date.now() > deadline) throw new Error("bench: deadline passed (chains)");
    await Bun.sleep(2);
  }
  const t2 = performance.now();
  const c2 = cpuNow();
  await worker.stop({ graceful: true });
  app.close();
  rmSync(dir, { recursive: true, force: true });
  return { startMs: t1 - t0, drainMs: t2 - t1, cpuMs: c2 - c1 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (n: number, ms: number) => (n / ms) * 1000;

const wf: Result[] = [];
const wq: Result[] = [];
const ch: Result[] = [];
for (let r = 0; r < ROUNDS && Date.now() < deadline; r++) {
  wf.push(await workflows("local"));
  wq.push(await workflows("queue"));
  ch.push(await chains());
  process.stderr.write(`round ${r + 1}: workflows ${rate(N, wf.at(-1)!.drainMs).toFixed(0)}/s (queue executor ${rate(N, wq.at(-1)!.drainMs).toFixed(0)}/s), chains ${rate(N, ch.at(-1)!.drainMs).toFixed(0)}/s\n`);
}

const wfDrain = median(wf.map((r) => r.drainMs));
const wqDrain = median(wq.map((r) => r.drainMs));
const chDrain = median(ch.map((r) => r.drainMs));
const cpu = (rs: Result[]) => median(rs.map((r) => r.cpuMs)) / N;
const rows = [
  { what: "workflows, executor local", start_per_s: rate(N, median(wf.map((r) => r.startMs))), workflows_per_s: rate(N, wfDrain), steps_per_s: rate(3 * N, wfDrain), cpu: cpu(wf) },
  { what: "workflows, executor queue", start_per_s: rate(N, median(wq.map((r) => r.startMs))), workflows_per_s: rate(N, wqDrain), steps_per_s: rate(3 * N, wqDrain), cpu: cpu(wq) },
  { what: "plain queue chains (3 jobs each)", start_per_s: rate(N, median(ch.map((r) => r.startMs))), workflows_per_s: rate(N, chDrain), steps_per_s: rate(3 * N, chDrain), cpu: cpu(ch) },
];
console.log(`N=${N} workflows × 3 activities, concurrency ${C}, ${wf.length} round(s), medians, bun ${Bun.version}`);
console.log("what                                     start/s   workflows/s   activities(jobs)/s   CPU ms/workflow");
for (const r of rows) console.log(`${r.what.padEnd(40)} ${r.start_per_s.toFixed(0).padStart(7)}   ${r.workflows_per_s.toFixed(0).padStart(11)}   ${r.steps_per_s.toFixed(0).padStart(18)}   ${r.cpu.toFixed(3).padStart(15)}`);
console.log(`durability overhead: workflows take ${(wfDrain / chDrain).toFixed(2)}× (executor local) and ${(wqDrain / chDrain).toFixed(2)}× (executor queue) the time of plain chains`);
console.log(`CPU per workflow vs per chain: ${(cpu(wf) / cpu(ch)).toFixed(2)}× (local), ${(cpu(wq) / cpu(ch)).toFixed(2)}× (queue); load average ${(await import("node:os")).loadavg().map((l) => l.toFixed(1)).join(" ")}`);
process.exit(0);
