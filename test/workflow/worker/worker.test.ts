import { afterEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { openQueue } from "../../../src/queue/index.ts";
import { eventually } from "../../harness.ts";
import { CONFIG, project, type TestProject } from "../helpers.ts";

// child processes on a loaded 2-core machine: bunfig's [test] timeout is not applied by bun 1.4.5
setDefaultTimeout(30_000);

let p: TestProject | undefined;
afterEach(() => p?.close());

export const WF = `
import { defineWorkflow, defineActivity, NonRetryableError } from "securely";

const calls: Record<string, number> = ((globalThis as any).__wfCalls ??= {});
const count = (k: string) => (calls[k] = (calls[k] ?? 0) + 1);

export const add = defineActivity(async ({ a, b }: { a: number; b: number }) => (count("add"), a + b));
export const flaky = defineActivity(async (n: number, ctx) => {
  count("flaky");
  if (ctx.attempt < n) throw new Error("not yet (attempt " + ctx.attempt + ")");
  return ctx.attempt;
});
export const fatal = defineActivity(async () => { count("fatal"); throw new NonRetryableError("card declined", "CardDeclined"); });
export const slow = defineActivity(async (_: unknown, ctx) => { count("slow"); if (ctx.attempt === 1) await new Promise((r) => setTimeout(r, 2000)); return "fast enough"; });
export const beat = defineActivity(async (_: unknown, ctx) => {
  count("beat");
  if (ctx.attempt === 1) { ctx.heartbeat({ done: 5 }); throw new Error("crashed after 5"); }
  return ctx.heartbeatDetails;
});
export const broken = defineActivity(async () => { count("broken"); if ((globalThis as any).__fixed) return "fixed"; throw new Error("bug"); });

export const sum3 = defineWorkflow(async (ctx, input: { x: number }) => {
  const a = await ctx.activity<number>("add", { a: input.x, b: 1 });
  const b = await ctx.activity<number>("add", { a, b: 1 });
  const c = await ctx.activity<number>("add", { a: b, b: 1 });
  return c;
});
export const retrying = defineWorkflow(async (ctx) => ctx.activity("flaky", 3));
export const declined = defineWorkflow(async (ctx) => ctx.activity("fatal"));
export const exhausted = defineWorkflow(async (ctx) => ctx.activity("flaky", 10, { retry: { maximumAttempts: 2 } }));
export const timeout = defineWorkflow(async (ctx) => ctx.activity("slow", null, { startToCloseTimeout: 100 }));
export const heartbeats = defineWorkflow(async (ctx) => ctx.activity("beat"));
export const retryable = defineWorkflow(async (ctx) => {
  await ctx.activity("add", { a: 1, b: 1 });
  return ctx.activity("broken");
});
export const approval = defineWorkflow(async (ctx) => {
  const who = await ctx.waitForSignal<string>("approve", { timeout: "1h" });
  return "approved by " + who;
});
export const parent = defineWorkflow(async (ctx, input: { x: number }) => {
  const [a, b] = await ctx.all([ctx.child<number>("sum3", { x: input.x }), ctx.child<number>("sum3", { x: 10 })]);
  return a + b;
});
export const failingParent = defineWorkflow(async (ctx) => {
  try { await ctx.child("declined"); } catch (e) { return "caught " + (e as Error).name; }
});
export const saga = defineWorkflow(async (ctx) => {
  await ctx.activity("add", { a: 1, b: 0 });
  ctx.addCompensation(() => ctx.activity("add", { a: -1, b: 0 }));
  await ctx.activity("add", { a: 2, b: 0 });
  ctx.addCompensation(() => ctx.activity("add", { a: -2, b: 0 }));
  await ctx.sleep("1h");
});
export const once = defineActivity("once", async () => { count("once"); throw new Error("no"); }, { retry: { maximumAttempts: 1 } });
export const usesOnce = defineWorkflow(async (ctx) => ctx.activity("once"));
export const picky = defineWorkflow(async (ctx) =>
  ctx.activity("typed", null, { retry: { nonRetryableErrors: ["QuotaExceeded"], maximumAttempts: 5 } }));
export const typed = defineActivity(async () => { count("typed"); const e = new Error("over quota"); e.name = "QuotaExceeded"; throw e; });
export const deadline = defineWorkflow(async (ctx) =>
  ctx.activity("flaky", 100, { scheduleToCloseTimeout: 150, retry: { initialInterval: 40, backoffCoefficient: 1, maximumAttempts: 0 } }));
export const silent = defineActivity(async (_: unknown, ctx) => {
  count("silent");
  if (ctx.attempt === 1) await new Promise((r) => setTimeout(r, 1500)); // no heartbeat: abandoned
  return "beat " + ctx.attempt;
});
export const watched = defineWorkflow(async (ctx) => ctx.activity("silent", null, { heartbeatTimeout: 100 }));
export const counter = defineWorkflow(async (ctx) => {
  let total = 0;
  ctx.onSignal("add", (n: number) => (total += n));
  ctx.onQuery("total", (times: number | null) => total * (times ?? 1));
  await ctx.condition(() => total >= 10);
  return total;
});
export const looper = defineWorkflow(async (ctx, input: { i: number; sum: number }) => {
  const v = await ctx.activity<number>("add", { a: input.sum, b: input.i });
  if (input.i >= 7) return v;
  if (input.i % 3 === 0) ctx.continueAsNew({ i: input.i + 1, sum: v });
  return ctx.child("looper", { i: input.i + 1, sum: v }, { id: ctx.workflowId + ".c" + input.i });
});
export const longCharge = defineActivity(async (_: unknown, ctx) => {
  count("longCharge");
  await new Promise((r, j) => { const t = setTimeout(r, 5000); ctx.signal.addEventListener("abort", () => (clearTimeout(t), j(ctx.signal.reason))); });
  count("charged");
});
export const cancellable = defineWorkflow(async (ctx) => {
  await ctx.all([ctx.activity("longCharge"), ctx.activity("flaky", 100, { retry: { initialInterval: "1h" } })]);
});
export const napper = defineWorkflow(async (ctx) => { await ctx.sleep("1h"); });
export const impatient = defineWorkflow(async (ctx) => {
  void ctx.child("napper", null, { id: ctx.workflowId + "-kid" });
  await ctx.sleep(20);
  throw new Error("gave up");
});
export const sleeper = defineWorkflow(async (ctx) => { await ctx.sleep(150); return ctx.now(); });
`;

const calls = (): Record<string, number> => ((globalThis as any).__wfCalls ??= {});
const resetCalls = () => {
  for (const k of Object.keys(calls())) delete calls()[k];
};
const types = (id: string) => p!.rt.engine.runs.history(id).map((e) => e.type);

/** The same behaviour whichever executor runs the tasks: the worker's own table, or queue jobs. */
for (const executor of ["local", "queue"]) describe(`Worker (executor: ${executor})`, () => {
  const CONF = CONFIG + `  executor: ${executor}\nqueue:\n  worker:\n    concurrency: 8\n    sleep: 0.05\n`;
  test("runs a 3-activity workflow to completion, each activity once", async () => {
    p = await project(CONF, { "wf.ts": WF });
    resetCalls();
    const id = p.rt.client.start("sum3", { x: 1 });
    const run = await p.finish(id);
    expect(run.status).toBe("completed");
    expect(run.output).toBe(4);
    expect(calls().add).toBe(3);
    expect(types(id)).toEqual(["WorkflowStarted", ...Array(3).fill(["ActivityScheduled", "ActivityCompleted"]).flat(), "WorkflowCompleted"]);
  });

  test("retries failed attempts with backoff and records only the result", async () => {
    p = await project(CONF, { "wf.ts": WF });
    const id = p.rt.client.start("retrying", null);
    const run = await p.finish(id);
    expect(run.output).toBe(3);
    const done = p.rt.engine.runs.history(id).find((e) => e.type === "ActivityCompleted")!;
    expect(done.data).toEqual({ result: 3, attempt: 3 });
  });

  test("a non-retryable error fails at once; exhausted attempts fail the workflow", async () => {
    p = await project(CONF, { "wf.ts": WF });
    const a = await p.finish(p.rt.client.start("declined", null));
    expect(a.status).toBe("failed");
    expect(a.error!.message).toBe("activity fatal failed: card declined");
    const failed = p.rt.engine.runs.history(a.id).find((e) => e.type === "ActivityFailed")!;
    expect(failed.data.attempts).toBe(1);
    const b = await p.finish(p.rt.client.start("exhausted", null));
    expect(b.status).toBe("failed");
    expect(p.rt.engine.runs.history(b.id).find((e) => e.type === "ActivityFailed")!.data.reason).toBe("2 of 2 attempts used");
  });

  test("start-to-close timeout abandons the attempt and retries", async () => {
    p = await project(CONF, { "wf.ts": WF });
    const run = await p.finish(p.rt.client.start("timeout", null));
    expect(run.status).toBe("completed");
    expect(p.rt.engine.runs.history(run.id).find((e) => e.type === "ActivityCompleted")!.data.attempt).toBe(2);
  });

  test("nonRetryableErrors by name, schedule-to-close and heartbeat timeouts", async () => {
    p = await project(CONF, { "wf.ts": WF });
    resetCalls();
    const a = await p.finish(p.rt.client.start("picky", null));
    expect(a.status).toBe("failed");
    expect(calls().typed).toBe(1);
    expect(p.rt.engine.runs.history(a.id).find((e) => e.type === "ActivityFailed")!.data.reason).toBe("QuotaExceeded is listed in nonRetryableErrors");
    const b = await p.finish(p.rt.client.start("deadline", null));
    expect(b.status).toBe("failed");
    expect(p.rt.engine.runs.history(b.id).find((e) => e.type === "ActivityFailed")!.data.reason).toBe("schedule-to-close timeout reached");
    const c = await p.finish(p.rt.client.start("watched", null));
    expect(c.output).toBe("beat 2");
    const d = await p.finish(p.rt.client.start("usesOnce", null));
    expect(d.status).toBe("failed");
    expect(calls().once).toBe(1); // the definition's retry policy applies
  });

  test("heartbeat details reach the next attempt", async () => {
    p = await project(CONF, { "wf.ts": WF });
    const run = await p.finish(p.rt.client.start("heartbeats", null));
    expect(run.output).toEqual({ done: 5 });
  });

  test("workflow:retry resumes a failed run from the failed activity once the cause is fixed", async () => {
    p = await project(CONF, { "wf.ts": WF });
    (globalThis as any).__fixed = false;
    resetCalls();
    const id = p.rt.client.start("retryable", null);
    expect((await p.finish(id)).status).toBe("failed");
    expect(() => p!.rt.client.retry("nope")).toThrow("workflow run 'nope' not found");
    (globalThis as any).__fixed = true;
    const r = p.rt.client.retry(id);
    expect(r.rescheduled).toBe(1);
    const run = await p.finish(id);
    expect(run.status).toBe("completed");
    expect(run.output).toBe("fixed");
    expect(calls().add).toBe(1); // the completed activity did not run again
    expect(() => p!.rt.client.retry(id)).toThrow("it is completed");
  });

  test("a signal sent before any worker ran is delivered", async () => {
    p = await project(CONF, { "wf.ts": WF });
    const id = p.rt.client.start("approval", null);
    p.rt.client.signal(id, "approve", "ana");
    expect((await p.finish(id)).output).toBe("approved by ana");
    expect(() => p!.rt.client.signal(id, "approve", 1)).toThrow("cannot signal workflow");
  });

  test("signal-with-start starts the run once and delivers every signal", async () => {
    p = await project(CONF, { "wf.ts": WF });
    expect(p.rt.client.signalWithStart("c-1", "add", 4, "counter", null)).toBe(true);
    expect(p.rt.client.signalWithStart("c-1", "add", 6, "counter", null)).toBe(false);
    expect((await p.finish("c-1")).output).toBe(10);
    expect(p.rt.client.signalWithStart("c-1", "add", 11, "counter", null)).toBe(true); // finished: a new run
    expect((await p.finish("c-1")).output).toBe(11);
    expect(() => p!.rt.client.signalWithStart("c-2", "add", 1, "nope", null)).toThrow("unknown workflow 'nope'");
    expect(p.rt.engine.runs.get("c-2")).toBeUndefined();
  });

  test("children run as their own workflows and return results; failures propagate", async () => {
    p = await project(CONF, { "wf.ts": WF });
    const id = p.rt.client.start("parent", { x: 1 });
    const run = await p.finish(id);
    expect(run.output).toBe(4 + 13);
    const kids = p.rt.engine.runs.list({ name: "sum3" }).filter((r) => r.parent_id === id);
    expect(kids.map((k) => k.status)).toEqual(["completed", "completed"]);
    const f = await p.finish(p.rt.client.start("failingParent", null));
    expect(f.output).toBe("caught ChildWorkflowFailure");
  });

  test("cancel runs compensations in reverse order; terminate does not", async () => {
    p = await project(CONF, { "wf.ts": WF });
    const w = p.work();
    const id = p.rt.client.start("saga", null);
    await eventually(() => p!.rt.engine.runs.timers(id).length === 1);
    p.rt.client.cancel(id, "customer changed their mind");
    const run = await p.finish(id);
    expect(run.status).toBe("cancelled");
    const inputs = p.rt.engine.runs.history(id).filter((e) => e.type === "ActivityScheduled").map((e) => e.data.input.a);
    expect(inputs).toEqual([1, 2, -2, -1]);
    const t = p.rt.client.start("saga", null);
    await eventually(() => p!.rt.engine.runs.timers(t).length === 1);
    p.rt.client.terminate(t);
    expect(p.rt.engine.runs.get(t)!.status).toBe("terminated");
    expect(p.rt.engine.runs.timers(t)).toEqual([]);
    await w.stop();
  });

  test("queries read the replayed state, running or finished; unknown queries are named", async () => {
    p = await project(CONF, { "wf.ts": WF });
    const id = p.rt.client.start("counter", null);
    p.rt.client.signal(id, "add", 3);
    p.rt.client.signal(id, "add", 4);
    expect(await p.rt.engine.query(id, "total", null)).toBe(7);
    expect(await p.rt.engine.query(id, "total", 2)).toBe(14);
    await expect(p.rt.engine.query(id, "nope", null)).rejects.toThrow("has no query 'nope' — its code registers: total");
    const before = p.rt.engine.runs.history(id).length;
    p.rt.client.signal(id, "add", 5);
    expect((await p.finish(id)).output).toBe(12);
    expect(await p.rt.engine.query(id, "total", null)).toBe(12);
    expect(p.rt.engine.runs.history(id).length).toBeGreaterThan(before); // only the signal and the worker wrote
  });

  test("continueAsNew restarts the run under the same id with a fresh history", async () => {
    p = await project(CONF, { "wf.ts": WF });
    const id = p.rt.client.start("looper", { i: 3, sum: 0 }, { id: "loop" });
    const run = await p.finish(id);
    // 3 (continue) → 4 → child 5 → child 6 (continue) → 7: 3+4+5+6+7
    expect(run.status).toBe("completed");
    expect(run.output).toBe(25);
    const archived = p.rt.engine.runs.get("loop#1")!;
    expect(archived.status).toBe("continued");
    expect(p.rt.engine.runs.history("loop#1").map((e) => e.type).at(-1)).toBe("WorkflowContinuedAsNew");
    expect(p.rt.engine.runs.history("loop")[0]!.data).toEqual({ name: "looper", input: { i: 4, sum: 3 }, parent_id: null, run_number: 2 });
    const grandchild = p.rt.engine.runs.get("loop.c4.c5")!;
    expect(grandchild.status).toBe("completed"); // continued too, and its parent still got the result
    expect(p.rt.engine.runs.get("loop.c4.c5#1")!.status).toBe("continued");
  });

  test("cancel drops waiting activity tasks and aborts running attempts", async () => {
    p = await project(CONF.replace("lease_seconds: 2", "lease_seconds: 0.3"), { "wf.ts": WF });
    resetCalls();
    const w = p.work();
    const id = p.rt.client.start("cancellable", null);
    await eventually(() => calls().longCharge === 1 && calls().flaky === 1);
    p.rt.client.cancel(id);
    const run = await p.finish(id);
    expect(run.status).toBe("cancelled");
    expect(p.rt.engine.activities.ofRun(id)).toEqual([]);
    await w.stop(); // returns once the aborted attempt ended
    expect(calls().charged).toBeUndefined();
    expect(calls().flaky).toBe(1); // its retry (due in 1h) was dropped, not run
  });

  test("children still running when the parent ends are terminated (parent-close policy)", async () => {
    p = await project(CONF, { "wf.ts": WF });
    const id = p.rt.client.start("impatient", null);
    expect((await p.finish(id)).status).toBe("failed");
    const kid = p.rt.engine.runs.get(id + "-kid")!;
    expect(kid.status).toBe("terminated");
    expect(kid.error!.message).toBe(`parent workflow ${id} failed`);
  });

  test("a durable timer survives a worker restart", async () => {
    p = await project(CONF, { "wf.ts": WF });
    const w1 = p.work();
    const id = p.rt.client.start("sleeper", null);
    await eventually(() => p!.rt.engine.runs.timers(id).length === 1);
    await w1.stop();
    expect(p.rt.engine.runs.get(id)!.status).toBe("running");
    const run = await p.finish(id);
    expect(run.status).toBe("completed");
    const fired = p.rt.engine.runs.history(id).find((e) => e.type === "TimerFired")!;
    expect(run.output).toBe(fired.at);
  });

  test("ids are unique unless reused after the run finished", async () => {
    p = await project(CONF, { "wf.ts": WF });
    p.rt.client.start("approval", null, { id: "order-1" });
    expect(() => p!.rt.client.start("approval", null, { id: "order-1" })).toThrow("already used by a running run");
    expect(() => p!.rt.client.start("approval", null, { id: "order-1", reuse: true })).toThrow("already used by a running run");
    p.rt.client.terminate("order-1");
    expect(() => p!.rt.client.start("sum3", { x: 1 }, { id: "order-1" })).toThrow("pass --reuse");
    p.rt.client.start("sum3", { x: 1 }, { id: "order-1", reuse: true });
    expect((await p.finish("order-1")).output).toBe(4);
    expect(types("order-1")).not.toContain("WorkflowTerminated");
  });

  test("prune deletes finished runs older than N days", async () => {
    p = await project(CONF, { "wf.ts": WF });
    const id = p.rt.client.start("sum3", { x: 1 });
    await p.finish(id);
    expect(p.rt.client.prune(1)).toBe(0);
    expect(p.rt.client.prune(0)).toBe(1);
    expect(p.rt.engine.runs.get(id)).toBeUndefined();
    expect(p.rt.engine.runs.history(id)).toEqual([]);
  });
});

describe("Worker (executor: queue) and the queue worker's stop reasons", () => {
  test("queue.worker.memory does not stop it (it shares its process); queue:restart starts a new queue worker in place", async () => {
    p = await project(CONFIG + "  executor: queue\nqueue:\n  worker:\n    memory: 1\n", { "wf.ts": WF });
    const said: string[] = [];
    p.app.log.info = ((m: string) => void said.push(m)) as typeof p.app.log.info;
    const w = p.work();
    const first = p.rt.client.start("sum3", { x: 1 });
    await eventually(() => p!.rt.engine.runs.get(first)!.status === "completed");
    await Bun.sleep(100); // idle: where a memory limit would stop it
    await openQueue(p.app).driver.signalRestart(Date.now());
    await eventually(() => said.some((m) => m.includes("ended (queue:restart): starting a new one")));
    const second = p.rt.client.start("sum3", { x: 10 });
    await eventually(() => p!.rt.engine.runs.get(second)!.status === "completed");
    expect(p.rt.engine.runs.get(second)!.output).toBe(13);
    await w.stop();
  });

  test("maxTime (workflow:work --max-time) counts from the start, across a queue:restart", async () => {
    p = await project(CONFIG + "  executor: queue\n", { "wf.ts": WF });
    const began = Date.now();
    const w = p.work({ maxTimeMs: 2000 });
    await Bun.sleep(1500);
    await openQueue(p.app).driver.signalRestart(Date.now());
    await w.done;
    // the new queue worker got what was left (about 0.5 s), not 2 s again (a poll interval's slack)
    expect(Date.now() - began).toBeLessThan(3000);
  });
});
