// Micro benchmark of bulk enqueue alone: ROUNDS × pushMany of N plain jobs into a fresh store
// (cleared between rounds, as bench/queue/run.ts does), median jobs/s and CPU µs per job.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"; import { tmpdir } from "node:os"; import { join } from "node:path";
import { App } from "../../src/core/app.ts";
import { coreModule } from "../../src/core/commands/index.ts";
import { openQueue, queueModule, registerHandler } from "../../src/queue/index.ts";
const dir = mkdtempSync(join(process.env.DIR ?? tmpdir(), "pb-"));
const config = join(dir, "c.yaml"); writeFileSync(config, `store:\n  path: ${join(dir, "s.db")}\n`);
const app = new App({ modules: [coreModule, queueModule], configPath: config, env: { ...process.env, SECURELY_CONF: config, SECURELY_LOG_LEVEL: "error" } });
app.store();
const q = openQueue(app);
registerHandler("noop", () => {});
const N = Number(process.env.N ?? 20000), ROUNDS = Number(process.env.ROUNDS ?? 9);
const rates: number[] = [], cpus: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const jobs = Array.from({ length: N }, (_, i) => ({ handler: "noop", payload: { i } }));
  const t0 = performance.now(); const c0 = process.cpuUsage();
  await q.pushMany(jobs);
  const c = process.cpuUsage(c0);
  rates.push(N / ((performance.now() - t0) / 1000)); cpus.push((c.user + c.system) / N);
  await q.driver.clear("default");
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`bulk N=${N} rounds=${ROUNDS}: median ${med(rates).toFixed(0)} jobs/s (best ${Math.max(...rates).toFixed(0)}), ${med(cpus).toFixed(2)} cpu µs/job`);
app.close(); rmSync(dir, { recursive: true, force: true });
