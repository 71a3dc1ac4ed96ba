// Micro benchmark of the worker alone: N pushed jobs drained at concurrency C (env C, N), jobs/s and CPU µs per job.
import { mkdtempSync, writeFileSync } from "node:fs"; import { tmpdir } from "node:os"; import { join } from "node:path";
import { App } from "../../src/core/app.ts";
import { coreModule } from "../../src/core/commands/index.ts";
import { createWorker, openQueue, queueModule, registerHandler } from "../../src/queue/index.ts";
const dir = mkdtempSync(join(process.env.DIR ?? tmpdir(), "pw-"));
const config = join(dir, "c.yaml"); writeFileSync(config, `store:\n  path: ${join(dir, "s.db")}\n`);
const app = new App({ modules: [coreModule, queueModule], configPath: config, env: { ...process.env, SECURELY_CONF: config, SECURELY_LOG_LEVEL: "error" } });
app.store();
const q = openQueue(app);
registerHandler("noop", () => {});
const N = 40000, C = Number(process.env.C ?? 16);
await q.pushMany(Array.from({ length: N }, (_, i) => ({ handler: "noop", payload: { i } })));
const w = createWorker(app, { concurrency: C, stopWhenEmpty: true, ...(process.env.PF ? { prefetch: Number(process.env.PF) } : {}) } as any);
const t0 = performance.now(); const c0 = process.cpuUsage();
await w.start(); await w.done;
const c = process.cpuUsage(c0);
console.log(`c=${C}`, (N / ((performance.now() - t0) / 1000)).toFixed(0), "jobs/s", ((c.user + c.system) / N).toFixed(1), "cpu us/job", (c.system / N).toFixed(1), "sys");
