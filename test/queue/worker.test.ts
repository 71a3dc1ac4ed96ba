/**
 * The in-process API other namespaces use: openQueue + registerHandler + createWorker, job
 * middleware, ctx.release/fail, and the values read from app.provided.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { App } from "../../src/core/app.ts";
import { coreModule } from "../../src/core/commands/index.ts";
import { closeDriver, createWorker, openQueue, queueModule, rateLimited, registerHandler, throttlesExceptions, unregisterHandler, withoutOverlapping, type JobContext } from "../../src/queue/index.ts";
import { metrics } from "../../src/core/metrics/registry.ts";
import { eventually, tempProject } from "../harness.ts";

const apps: App[] = [];
function makeApp(yaml = "", provided: Record<string, unknown> = {}) {
  const p = tempProject(yaml);
  const app = new App({ modules: [coreModule, queueModule], configPath: p.config, env: { ...process.env, SECURELY_CONF: p.config, SECURELY_LOG_LEVEL: "error" }, provided });
  apps.push(app);
  return app;
}
afterEach(async () => {
  for (const a of apps.splice(0)) {
    await closeDriver(a);
    a.close();
  }
});

describe("createWorker", () => {
  test("runs registered handlers with ctx, settings and cache from app.provided", async () => {
    const seen: unknown[] = [];
    registerHandler("test.ctx", (payload, ctx: JobContext) => void seen.push([payload, ctx.attempt, ctx.queue, ctx.settings, ctx.cache]));
    const app = makeApp("", { settings: { s: 1 }, cache: () => ({ c: 2 }) });
    const q = openQueue(app);
    await q.push("test.ctx", { a: 1 }, { queue: "q1" });
    const w = createWorker(app, { queues: ["q1"], stopWhenEmpty: true });
    await w.start();
    expect(await w.done).toBe("empty");
    expect(seen).toEqual([[{ a: 1 }, 1, "q1", { s: 1 }, { c: 2 }]]);
    expect(metrics.counter("securely_queue_jobs_total", "").get({ queue: "q1", outcome: "done" })).toBe(1);
    unregisterHandler("test.ctx");
  });

  test("an idle worker picks up an in-process push at once, and stop() ends it", async () => {
    const got: number[] = [];
    registerHandler("test.idle", (p: number) => void got.push(p));
    const app = makeApp();
    const w = createWorker(app, { sleep: 60 });
    await w.start();
    await openQueue(app).push("test.idle", 7);
    for (let i = 0; i < 200 && got.length === 0; i++) await Bun.sleep(5);
    expect(got).toEqual([7]);
    await w.stop();
    expect(await w.done).toBe("stopped");
    unregisterHandler("test.idle");
  });

  test("queue.worker.memory is queue:work's: an in-process worker idles on past it; memory passed to createWorker stops it", async () => {
    const got: number[] = [];
    registerHandler("test.memory", (p: number) => void got.push(p));
    const app = makeApp("queue:\n  worker:\n    memory: 1\n");
    const w = createWorker(app, { sleep: 0.05 });
    await w.start();
    await Bun.sleep(150); // a few idle passes, each one where a limit is checked
    await openQueue(app).push("test.memory", 1);
    await eventually(() => got.length === 1);
    expect(w.status().ready).toBe(true);
    await w.stop();
    const limited = createWorker(app, { sleep: 0.05, memory: 1 });
    await limited.start();
    expect(await limited.done).toBe("memory");
    unregisterHandler("test.memory");
  });

  test("ctx.release puts the job back (counting the attempt); ctx.fail fails it at once", async () => {
    const attempts: number[] = [];
    registerHandler("test.release", (_p, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) ctx.release(0);
    });
    registerHandler("test.fail", (_p, ctx) => ctx.fail("not today"));
    const app = makeApp();
    const q = openQueue(app);
    await q.push("test.release", null, { tries: 5 });
    await q.push("test.fail", null, { tries: 5 });
    const w = createWorker(app, { stopWhenEmpty: true });
    await w.start();
    await w.done;
    expect(attempts).toEqual([1, 2, 3]);
    const failed = await q.driver.failed({ limit: 10 });
    expect(failed.map((f) => [f.handler, f.exception, f.attempts])).toEqual([["test.fail", "not today", 1]]);
  });

  test("concurrency runs jobs side by side; a chain waits for each link", async () => {
    let live = 0;
    let peak = 0;
    const order: string[] = [];
    registerHandler("test.par", async () => {
      peak = Math.max(peak, ++live);
      await Bun.sleep(20);
      live--;
    });
    registerHandler("test.link", (p: string) => void order.push(p));
    const app = makeApp();
    const q = openQueue(app);
    await q.pushMany(Array.from({ length: 8 }, () => ({ handler: "test.par" })));
    await q.chain([{ handler: "test.link", payload: "a" }, { handler: "test.link", payload: "b" }, { handler: "test.link", payload: "c" }]);
    const w = createWorker(app, { concurrency: 4, stopWhenEmpty: true });
    await w.start();
    await w.done;
    expect(peak).toBe(4);
    expect(order).toEqual(["a", "b", "c"]);
  });

  test("a handler pushes more work through ctx.bus", async () => {
    const ran: string[] = [];
    registerHandler("test.parent", async (_p, ctx) => {
      await ctx.bus.chain([{ handler: "test.child", payload: "a" }, { handler: "test.child", payload: "b" }]);
    });
    registerHandler("test.child", (p: string) => void ran.push(p));
    const app = makeApp();
    await openQueue(app).push("test.parent");
    const w = createWorker(app, { stopWhenEmpty: true });
    await w.start();
    await w.done;
    expect(ran).toEqual(["a", "b"]);
  });

  test("a batch from the API reports progress and runs then", async () => {
    const ran: string[] = [];
    registerHandler("test.b", (p: string) => void ran.push(p));
    const app = makeApp();
    const q = openQueue(app);
    const b = await q.batch({ name: "n", jobs: [{ handler: "test.b", payload: "1" }, { handler: "test.b", payload: "2" }], then: { handler: "test.b", payload: "then" } });
    const w = createWorker(app, { stopWhenEmpty: true });
    await w.start();
    await w.done;
    expect(ran.sort()).toEqual(["1", "2", "then"]);
    expect(await q.findBatch(b.id)).toMatchObject({ total: 2, pending: 0, failed: 0 });
  });

  test("push refuses unknown handlers and bad options with the job named; pushMany writes nothing", async () => {
    const app = makeApp();
    const q = openQueue(app);
    await expect(q.push("nobody", {})).rejects.toThrow("unknown handler 'nobody'");
    await expect(q.push("shell:true", {}, { tries: 0 })).rejects.toThrow("tries must be an integer ≥ 1");
    await expect(q.push("shell:true", { big: 1n } as any)).rejects.toThrow("payload is not JSON-serialisable");
    await expect(q.pushMany([{ handler: "shell:true" }, { handler: "nobody" }])).rejects.toThrow("unknown handler");
    expect(await q.driver.list({ limit: 10 }, Date.now())).toEqual([]);
    const many = Array.from({ length: 300 }, (_, n) => ({ handler: "shell:true", payload: { n } }));
    await expect(q.pushMany([...many.slice(0, 250), { handler: "shell:true", delay: -1 }, ...many.slice(250)])).rejects.toThrow("job 251: delay must be a number ≥ 0");
    expect(await q.driver.list({ limit: 10 }, Date.now())).toEqual([]);
  });
});

describe("job middleware", () => {
  test("withoutOverlapping releases a job whose key is busy; rateLimited releases over the limit", async () => {
    const app = makeApp();
    const q = openQueue(app);
    let inside = 0;
    let peak = 0;
    let finished = 0;
    registerHandler("test.overlap", {
      middleware: [withoutOverlapping("k", { releaseAfter: 0.01 })],
      async handle() {
        peak = Math.max(peak, ++inside);
        await Bun.sleep(10);
        inside--;
        finished++;
      },
    });
    await q.pushMany(Array.from({ length: 4 }, () => ({ handler: "test.overlap", tries: 10_000 })));
    // not --stop-when-empty: released jobs sit delayed for 10 ms and would end the worker early
    const w = createWorker(app, { concurrency: 4, sleep: 0.05 });
    await w.start();
    await eventually(() => finished === 4);
    await w.stop();
    expect(peak).toBe(1);
    expect(await q.driver.failed({ limit: 10 })).toEqual([]);

    let ran = 0;
    registerHandler("test.rate", { middleware: [rateLimited({ key: "r", max: 2, perSeconds: 3600 })], handle: () => void ran++ });
    await q.pushMany(Array.from({ length: 3 }, () => ({ handler: "test.rate", tries: 5 })));
    const w2 = createWorker(app, { stopWhenEmpty: true });
    await w2.start();
    await w2.done;
    expect(ran).toBe(2);
    expect((await q.driver.list({ status: "delayed", limit: 10 }, Date.now())).length).toBe(1);
  });

  test("throttlesExceptions releases instead of failing, then stops trying for the window", async () => {
    const app = makeApp();
    const q = openQueue(app);
    let calls = 0;
    registerHandler("test.throttle", {
      middleware: [throttlesExceptions(2, 3600)],
      handle() {
        calls++;
        throw new Error("upstream down");
      },
    });
    await q.push("test.throttle", null, { tries: 10 });
    const w = createWorker(app, { stopWhenEmpty: true });
    await w.start();
    await w.done;
    expect(calls).toBe(2);
    const delayed = await q.driver.list({ status: "delayed", limit: 10 }, Date.now());
    expect(delayed.map((d) => d.attempts)).toEqual([3]);
  });
});

describe("--rest", () => {
  test("rests between jobs", async () => {
    const at: number[] = [];
    registerHandler("test.rest", () => void at.push(performance.now()));
    const app = makeApp();
    await openQueue(app).pushMany([{ handler: "test.rest" }, { handler: "test.rest" }]);
    const w = createWorker(app, { rest: 0.2, stopWhenEmpty: true });
    await w.start();
    await w.done;
    expect(at.length).toBe(2);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(190); // a lower bound: the rest itself
  });
});
