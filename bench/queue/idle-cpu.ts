// CPU an idle worker spends watching for cross-process pushes (1 ms data_version poll), over 5 s.
import { mkdtempSync, writeFileSync } from "node:fs"; import { tmpdir } from "node:os"; import { join } from "node:path";
import { App } from "../../src/core/app.ts";
import { coreModule } from "../../src/core/commands/index.ts";
import { createWorker, queueModule } from "../../src/queue/index.ts";
const dir = mkdtempSync(join(tmpdir(), "idle-"));
const config = join(dir, "c.yaml"); writeFileSync(config, `store:\n  path: ${join(dir, "s.db")}\n`);
const app = new App({ modules: [coreModule, queueModule], configPath: config, env: { ...process.env, SECURELY_CONF: config, SECURELY_LOG_LEVEL: "error" } });
app.store();
const w = createWorker(app, { sleep: 60 });
await w.start();
await Bun.sleep(500);
const c0 = process.cpuUsage(); const t0 = performance.now();
await Bun.sleep(5000);
const c = process.cpuUsage(c0);
console.log(`idle worker: ${(((c.user + c.system) / 1000 / (performance.now() - t0)) * 100).toFixed(1)}% of a core`);
await w.stop();
process.exit(0);
