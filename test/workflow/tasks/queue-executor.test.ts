/**
 * `workflow.executor: queue`: workflow tasks and activities are queue jobs run by a plain
 * `queue:work` — including after a kill -9 in the middle of an activity.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, runSecurely, startSecurely, tempProject } from "../../harness.ts";

// child processes on a loaded 2-core machine: bunfig's [test] timeout is not applied by bun 1.4.5
setDefaultTimeout(30_000);

const WF = `
import { defineWorkflow, defineActivity } from "securely";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
export const step = defineActivity(async (input: { n: number; dir: string; hang?: number }, ctx) => {
  appendFileSync(join(input.dir, "executions.log"), input.n + " attempt " + ctx.attempt + "\\n");
  if (input.n === input.hang && ctx.attempt === 1) {
    writeFileSync(join(input.dir, "hanging"), "");
    await new Promise((r) => setTimeout(r, 60_000));
  }
  return input.n;
});
export const five = defineWorkflow(async (ctx, input: { dir: string; hang?: number }) => {
  const out: number[] = [];
  for (let n = 1; n <= 5; n++) out.push(await ctx.activity<number>("step", { n, dir: input.dir, hang: input.hang }));
  await ctx.sleep(200);
  return out;
});
`;

function setup() {
  const p = tempProject(`workflow:\n  files: [./wf.ts]\n  executor: queue\n  lease_seconds: 30\nqueue:\n  retry_after: 1\n  worker:\n    concurrency: 4\n    sleep: 0.05\n`);
  writeFileSync(join(p.dir, "wf.ts"), WF);
  return p;
}

async function status(env: Record<string, string>, id: string): Promise<any> {
  return JSON.parse((await runSecurely(["workflow:status", id, "--json"], { env })).stdout);
}

describe("queue executor", () => {
  test("queue:work runs workflow tasks and activities; jobs show in the queue", async () => {
    const p = setup();
    await runSecurely(["workflow:run", "five", JSON.stringify({ dir: p.dir }), "--id", "q1"], { env: p.env });
    const jobs = JSON.parse((await runSecurely(["queue:list", "--json"], { env: p.env })).stdout);
    expect(jobs.map((j: any) => j.handler)).toEqual(["workflow.task"]);
    const w = await startSecurely(["queue:work"], { env: p.env, readyLine: /./ });
    const done = await eventually(async () => {
      const s = await status(p.env, "q1");
      return s.status === "completed" ? s : undefined;
    }, 20_000);
    await w.stop();
    expect(done.output).toEqual([1, 2, 3, 4, 5]);
  });

  test("kill -9 of queue:work mid-activity: a new queue:work completes the run, completed activities never rerun", async () => {
    const p = setup();
    await runSecurely(["workflow:run", "five", JSON.stringify({ dir: p.dir, hang: 2 }), "--id", "q2"], { env: p.env });
    const w1 = await startSecurely(["queue:work"], { env: p.env, readyLine: /./ });
    await eventually(() => existsSync(join(p.dir, "hanging")), 15_000);
    w1.proc.kill("SIGKILL");
    await w1.proc.exited;
    const w2 = await startSecurely(["workflow:work"], { env: p.env });
    const done = await eventually(async () => {
      const s = await status(p.env, "q2");
      return s.status === "completed" ? s : undefined;
    }, 20_000);
    await w2.stop();
    expect(done.output).toEqual([1, 2, 3, 4, 5]);
    const executions = readFileSync(join(p.dir, "executions.log"), "utf8").trim().split("\n");
    expect(executions).toEqual(["1 attempt 1", "2 attempt 1", "2 attempt 2", "3 attempt 1", "4 attempt 1", "5 attempt 1"]);
  });
});

describe("queue executor on the redis queue driver", () => {
  test("workflow:work runs workflows whose jobs live in redis; a lost push is swept up", async () => {
    const { startRedis } = await import("../../queue/redis-server.ts");
    const redis = await startRedis();
    if (!redis) return console.warn("skipped: redis-server is not installed");
    const p = tempProject(
      `workflow:\n  files: [./wf.ts]\n  executor: queue\n  lease_seconds: 0.5\nqueue:\n  driver: redis\n  redis:\n    url: ${redis.url}\n    prefix: "wf-test:"\n  worker:\n    concurrency: 4\n    sleep: 0.05\n`,
    );
    writeFileSync(join(p.dir, "wf.ts"), WF);
    await runSecurely(["workflow:run", "five", JSON.stringify({ dir: p.dir }), "--id", "r1"], { env: p.env });
    // a run made due without its job (as if the process died between the commit and the push)
    const { App } = await import("../../../src/core/app.ts");
    const { modules } = await import("../../../src/main.ts");
    const { openRuntime } = await import("../../../src/workflow/runtime.ts");
    const app = new App({ modules, configPath: p.config, logLevel: "error" });
    const rt = await openRuntime(app);
    rt.engine.runs.onDue = undefined;
    rt.engine.store.tx(() => rt.engine.runs.create({ id: "lost", name: "five", input: { dir: p.dir } }, Date.now()));
    const w = await startSecurely(["workflow:work"], { env: p.env });
    for (const id of ["r1", "lost"]) {
      const done = await eventually(async () => {
        const s = await status(p.env, id);
        return s.status === "completed" ? s : undefined;
      }, 20_000);
      expect(done.output).toEqual([1, 2, 3, 4, 5]);
    }
    await w.stop();
    app.close();
  });
});
