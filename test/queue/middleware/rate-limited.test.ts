/**
 * rateLimited counts with the cache namespace's RateLimiter when src/main.ts wires one
 * (app.provided.rateLimiter), shared by workers of different Apps on one store; without it, or
 * when the cache store shares nothing, it counts through the queue's driver.
 */
import { afterEach, expect, test } from "bun:test";
import { App } from "../../../src/core/app.ts";
import { closeCache } from "../../../src/cache/index.ts";
import { modules, provided } from "../../../src/main.ts";
import { closeDriver, createWorker, openQueue, rateLimited, registerHandler, unregisterHandler } from "../../../src/queue/index.ts";
import { tempProject } from "../../harness.ts";

const apps: App[] = [];
const handlers: string[] = [];
afterEach(async () => {
  for (const h of handlers.splice(0)) unregisterHandler(h);
  for (const a of apps.splice(0)) {
    await closeDriver(a);
    await closeCache(a);
    a.close();
  }
});

function appFor(config: string): App {
  const app = new App({ modules, configPath: config, env: { ...process.env, SECURELY_CONF: config, SECURELY_LOG_LEVEL: "error" }, provided });
  apps.push(app);
  return app;
}

const limiterOf = (app: App) => (provided.rateLimiter as (a: App) => { attempts(k: string): Promise<number> } | undefined)(app);

async function runJobs(app: App, handler: string, n: number) {
  await openQueue(app).pushMany(Array.from({ length: n }, () => ({ handler, tries: 5 })));
}

test("wired: counts in the cache store; jobs over the limit are released until the window ends", async () => {
  const app = appFor(tempProject("").config);
  let ran = 0;
  registerHandler("rl.cache", { middleware: [rateLimited({ key: "c", max: 2, perSeconds: 3600 })], handle: () => void ran++ });
  handlers.push("rl.cache");
  await runJobs(app, "rl.cache", 3);
  const w = createWorker(app, { stopWhenEmpty: true });
  await w.start();
  await w.done;
  expect(ran).toBe(2);
  expect(await limiterOf(app)!.attempts("queue:rate:c")).toBe(3);
  // the driver's own counter was not used
  expect((await openQueue(app).driver.hits("rate:c", Date.now())).count).toBe(0);
  const [delayed] = await openQueue(app).driver.list({ status: "delayed", limit: 10 }, Date.now());
  // released for the rest of the hour-long window, not retried at once
  expect(delayed!.available_at - Date.now()).toBeGreaterThan(3500 * 1000);
});

test("wired: workers of two Apps on one store share the limit", async () => {
  const { config } = tempProject("");
  const [a, b] = [appFor(config), appFor(config)];
  let ran = 0;
  registerHandler("rl.shared", { middleware: [rateLimited({ key: "s", max: 3, perSeconds: 3600 })], handle: () => void ran++ });
  handlers.push("rl.shared");
  await runJobs(a, "rl.shared", 8);
  const workers = [createWorker(a, { stopWhenEmpty: true, concurrency: 2 }), createWorker(b, { stopWhenEmpty: true, concurrency: 2 })];
  await Promise.all(workers.map((w) => w.start()));
  await Promise.all(workers.map((w) => w.done));
  expect(ran).toBe(3);
  expect(await limiterOf(b)!.attempts("queue:rate:s")).toBe(8);
});

test("a memory cache store shares nothing: the queue counts through its driver", async () => {
  const app = appFor(tempProject("cache:\n  store: memory\n").config);
  expect(limiterOf(app)).toBeUndefined();
  let ran = 0;
  registerHandler("rl.driver", { middleware: [rateLimited({ key: "d", max: 1, perSeconds: 3600 })], handle: () => void ran++ });
  handlers.push("rl.driver");
  await runJobs(app, "rl.driver", 2);
  const w = createWorker(app, { stopWhenEmpty: true });
  await w.start();
  await w.done;
  expect(ran).toBe(1);
  expect((await openQueue(app).driver.hits("rate:d", Date.now())).count).toBe(2);
});
