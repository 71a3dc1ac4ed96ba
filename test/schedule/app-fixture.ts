/** An in-process App with the cache and schedule modules over a temp project, for scheduler tests. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheModule } from "../../src/cache/index.ts";
import { App } from "../../src/core/app.ts";
import type { Clock } from "../../src/core/clock.ts";
import { scheduleModule } from "../../src/schedule/index.ts";
import { tempDir } from "../harness.ts";

export function testApp(yaml: string, opts: { clock?: Clock; dir?: string; env?: Record<string, string>; store?: string } = {}): App {
  const dir = opts.dir ?? tempDir();
  const configPath = join(dir, "securely.config.yaml");
  writeFileSync(configPath, `store:\n  path: ${opts.store ?? join(dir, "store.db")}\nmetrics:\n  enabled: false\n${yaml}`);
  return new App({ modules: [cacheModule, scheduleModule], configPath, env: { ...opts.env }, clock: opts.clock, logLevel: "silent" });
}
