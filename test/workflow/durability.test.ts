/**
 * Durability with real processes: a `workflow:work` child killed with SIGKILL mid-workflow, a
 * signal sent while no worker runs, a durable timer that falls due while no worker runs.
 */
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, runSecurely, startSecurely, tempProject } from "../harness.ts";

// child processes on a loaded 2-core machine: bunfig's [test] timeout is not applied by bun 1.4.5
setDefaultTimeout(30_000);

const WF = `
import { defineWorkflow, defineActivity } from "securely";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";


/** Records every execution, and its side effect once per idempotency key. */
export const step = defineActivity(async (input: { n: number; dir: string; hang?: number }, ctx) => {
  appendFileSync(join(input.dir, "executions.log"), input.n + " attempt " + ctx.attempt + "\\n");
  if (input.n === input.hang && ctx.attempt === 1) {
    writeFileSync(join(input.dir, "hanging"), "");
    await new Promise((r) => setTimeout(r, 60_000));
  }
  mkdirSync(join(input.dir, "effects"), { recursive: true });
  try {
    writeFileSync(join(input.dir, "effects", ctx.idempotencyKey.replace(/[^A-Za-z0-9]/g, "_")), String(input.n), { flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err; // done by an earlier attempt
  }
  return input.n * 10;
});

export const five = defineWorkflow(async (ctx, input: { dir: string; hang?: number }) => {
  const out: number[] = [];
  for (let n = 1; n <= 5; n++) out.push(await ctx.activity<number>("step", { n, dir: input.dir, hang: input.hang }));
  return out;
});

export const waiter = defineWorkflow(async (ctx, input: { dir: string }) => {
  await ctx.activity("step", { n: 1, dir: input.dir });
  return await ctx.waitForSignal("go");
});

export const tiny = defineWorkflow(async (ctx, n: number) => {
  const a = await ctx.activity<number>("inc", n);
  const b = await ctx.activity<number>("inc", a);
  return ctx.activity<number>("inc", b);
});
export const inc = defineActivity(async (n: number) => n + 1);
export const logged = defineActivity(async (dir: string, ctx) => {
  appendFileSync(join(dir, "runs-" + process.pid + ".log"), ctx.idempotencyKey + "\\n");
  return 1;
});
export const shared = defineWorkflow(async (ctx, dir: string) => {
  const r = await ctx.all([ctx.activity<number>("logged", dir), ctx.activity<number>("logged", dir)]);
  await ctx.sleep(5);
  return r[0] + r[1] + (await ctx.activity<number>("logged", dir));
});

export const sleepy = defineWorkflow(async (ctx) => {
  await ctx.sleep(700);
  return "woke";
});
`;

function setup() {
  const p = tempProject(`workflow:\n  files: [./wf.ts]\n  lease_seconds: 30\n  poll_interval_ms: 50\n`);
  writeFileSync(join(p.dir, "wf.ts"), WF);
  return p;
}

async function status(env: Record<string, string>, id: string): Promise<any> {
  const r = await runSecurely(["workflow:status", id, "--json"], { env });
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

const worker = (env: Record<string, string>) => startSecurely(["workflow:work"], { env });

describe("durability (real processes)", () => {
  test("kill -9 mid-workflow: restart completes it and each completed activity ran exactly once", async () => {
    const p = setup();
    const start = await runSecurely(["workflow:run", "five", JSON.stringify({ dir: p.dir, hang: 3 }), "--id", "order-1"], { env: p.env });
    expect(start.stdout.trim()).toBe("order-1");
    const w1 = await worker(p.env);
    await eventually(() => existsSync(join(p.dir, "hanging")), 15_000);
    w1.proc.kill("SIGKILL");
    await w1.proc.exited;
    expect((await status(p.env, "order-1")).status).toBe("running");

    const w2 = await worker(p.env); // releases the dead worker's lease at once (same host)
    const done = await eventually(async () => {
      const s = await status(p.env, "order-1");
      return s.status === "completed" ? s : undefined;
    }, 15_000);
    await w2.stop();
    expect(done.output).toEqual([10, 20, 30, 40, 50]);
    const executions = readFileSync(join(p.dir, "executions.log"), "utf8").trim().split("\n");
    // 1, 2 completed before the kill: never again; 3 was mid-flight: at-least-once, attempt 2
    expect(executions).toEqual(["1 attempt 1", "2 attempt 1", "3 attempt 1", "3 attempt 2", "4 attempt 1", "5 attempt 1"]);
    expect(readdirSync(join(p.dir, "effects")).sort()).toEqual(["order_1_0", "order_1_1", "order_1_2", "order_1_3", "order_1_4"]);
    const history = JSON.parse((await runSecurely(["workflow:history", "order-1", "--json"], { env: p.env })).stdout) as any[];
    const completed = history.filter((e) => e.type === "ActivityCompleted").map((e) => e.cid);
    expect(completed).toEqual([0, 1, 2, 3, 4]);
  });

  test("a signal sent while the worker is down is delivered when it comes back", async () => {
    const p = setup();
    await runSecurely(["workflow:run", "waiter", JSON.stringify({ dir: p.dir }), "--id", "w-1"], { env: p.env });
    const w1 = await worker(p.env);
    await eventually(async () => (await status(p.env, "w-1")).waiting_on === "signal go", 15_000);
    expect(await w1.stop("SIGTERM")).toBe(0);
    const sig = await runSecurely(["workflow:signal", "w-1", "go", '{"ok":true}'], { env: p.env });
    expect(sig.code).toBe(0);
    const s = await status(p.env, "w-1");
    expect(s.status).toBe("running");
    expect(s.signals_not_yet_seen).toEqual(["go"]);
    const w2 = await worker(p.env);
    const done = await eventually(async () => {
      const st = await status(p.env, "w-1");
      return st.status === "completed" ? st : undefined;
    }, 15_000);
    await w2.stop();
    expect(done.output).toEqual({ ok: true });
  });

  test("a durable timer that fell due while no worker ran fires on restart", async () => {
    const p = setup();
    const w1 = await worker(p.env);
    await runSecurely(["workflow:run", "sleepy", "--id", "s-1"], { env: p.env });
    await eventually(async () => (await status(p.env, "s-1")).timers.length === 1, 15_000);
    w1.proc.kill("SIGKILL");
    await w1.proc.exited;
    const fireAt = Date.parse((await status(p.env, "s-1")).timers[0].fires_at);
    await eventually(() => Date.now() > fireAt + 50, 5000);
    expect((await status(p.env, "s-1")).status).toBe("running");
    const w2 = await worker(p.env);
    const done = await eventually(async () => {
      const st = await status(p.env, "s-1");
      return st.status === "completed" ? st : undefined;
    }, 15_000);
    await w2.stop();
    expect(done.output).toBe("woke");
  });

  test("1,000 short workflows × 3 activities complete on one worker process", async () => {
    const p = setup();
    const { App } = await import("../../src/core/app.ts");
    const { modules } = await import("../../src/main.ts");
    const { openRuntime } = await import("../../src/workflow/runtime.ts");
    const app = new App({ modules, configPath: p.config, logLevel: "error" });
    const rt = await openRuntime(app);
    rt.engine.store.tx(() => {
      for (let i = 0; i < 1000; i++) rt.client.start("tiny", i, { id: `t-${i}` });
    });
    const r = await runSecurely(["workflow:work", "--stop-when-empty", "--concurrency", "32"], { env: p.env, timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    const rows = app.store().db.query("SELECT status, COUNT(*) AS n, SUM(CAST(output AS INTEGER) - CAST(input AS INTEGER)) AS added FROM workflow_runs GROUP BY status").all();
    expect(rows).toEqual([{ status: "completed", n: 1000, added: 3000 }]);
    app.close();
  });

  test("three worker processes on one store: every activity of 300 workflows runs exactly once", async () => {
    const p = setup();
    const { App } = await import("../../src/core/app.ts");
    const { modules } = await import("../../src/main.ts");
    const { openRuntime } = await import("../../src/workflow/runtime.ts");
    const app = new App({ modules, configPath: p.config, logLevel: "error" });
    const rt = await openRuntime(app);
    rt.engine.store.tx(() => {
      for (let i = 0; i < 300; i++) rt.client.start("shared", p.dir, { id: `m-${i}` });
    });
    const workers = await Promise.all([1, 2, 3].map(() => worker(p.env)));
    await eventually(() => (app.store().db.query("SELECT COUNT(*) AS n FROM workflow_runs WHERE status = 'completed'").get() as any).n === 300, 30_000);
    await Promise.all(workers.map((w) => w.stop()));
    const lines = readdirSync(p.dir).filter((f) => f.startsWith("runs-")).flatMap((f) => readFileSync(join(p.dir, f), "utf8").trim().split("\n"));
    expect(lines.length).toBe(900);
    expect(new Set(lines).size).toBe(900);
    const perWorker = readdirSync(p.dir).filter((f) => f.startsWith("runs-")).length;
    expect(perWorker).toBeGreaterThan(1); // the work was shared
    app.close();
  });
});
