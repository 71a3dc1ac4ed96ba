/**
 * Test wiring for the workflow namespace: a temp project (config + workflow files), an App on
 * it, and a runtime with an in-process worker — the same objects `workflow:work` builds.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { App } from "../../src/core/app.ts";
import { installSdk } from "../../src/core/sdk/index.ts";
import { modules } from "../../src/main.ts";
import { createWorker, openRuntime, workerOptions, type Runtime } from "../../src/workflow/runtime.ts";
import type { RunState } from "../../src/workflow/history/runs.ts";
import type { WorkerOptions } from "../../src/workflow/worker/worker.ts";
import type { WorkflowWorker as Worker } from "../../src/workflow/runtime.ts";
import { tempProject } from "../harness.ts";

installSdk(modules);

export interface TestProject {
  dir: string;
  config: string;
  app: App;
  rt: Runtime;
  /** Start an in-process worker; returns it with a stop function. */
  work(opts?: Partial<WorkerOptions>): { worker: Worker; done: Promise<void>; stop(): Promise<void> };
  /** Run until the run leaves `running` (bounded), with a worker unless one runs already. */
  finish(id: string, timeoutMs?: number): Promise<RunState>;
  close(): void;
}

export async function project(yaml: string, files: Record<string, string> = {}): Promise<TestProject> {
  const p = tempProject(yaml);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(p.dir, name), text);
  const app = new App({ modules, configPath: p.config, env: { ...process.env, SECURELY_LOG_LEVEL: "error" } as Record<string, string>, logLevel: "error" });
  const rt = await openRuntime(app, { loadCode: true });
  const workers: Array<{ worker: Worker; done: Promise<void> }> = [];
  const tp: TestProject = {
    dir: p.dir,
    config: p.config,
    app,
    rt,
    work(opts = {}) {
      const worker = createWorker(rt, workerOptions(app, { pollMs: 20, ...opts }));
      const done = worker.run();
      const w = { worker, done };
      workers.push(w);
      const stop = async () => {
        worker.stop(true);
        await done;
        workers.splice(workers.indexOf(w), 1);
      };
      return { ...w, stop };
    },
    async finish(id, timeoutMs = 20_000) {
      const mine = workers.length === 0 ? tp.work() : undefined;
      const end = Date.now() + timeoutMs;
      let run = rt.engine.runs.get(id)!;
      while (run.status === "running" && Date.now() < end) {
        await Bun.sleep(5);
        run = rt.engine.runs.get(id)!;
      }
      if (mine) await mine.stop();
      if (run.status === "running") console.error(`finish(${id}): still running after ${timeoutMs} ms\n${stuckReport(rt, id)}`);
      return run;
    },
    close() {
      for (const w of workers) w.worker.stop(false);
      app.close();
    },
  };
  return tp;
}

export const CONFIG = `workflow:\n  files: [./wf.ts]\n  lease_seconds: 2\n  activity_retry:\n    initial_interval: 0.01\n    maximum_attempts: 3\n`;

/** What a run that did not finish was waiting on: its row, timers, tasks, queue jobs and history. */
function stuckReport(rt: Runtime, id: string): string {
  const db = rt.engine.store.db;
  const rows = (sql: string, ...args: any[]) => {
    try {
      return JSON.stringify(db.query(sql).all(...args));
    } catch (e) {
      return (e as Error).message;
    }
  };
  return [
    `now ${rt.app.clock.now()}`,
    `run ${rows("SELECT * FROM workflow_runs WHERE id = ?1", id)}`,
    `timers ${rows("SELECT * FROM workflow_timers WHERE run_id = ?1", id)}`,
    `tasks ${rows("SELECT * FROM workflow_tasks WHERE run_id = ?1", id)}`,
    `jobs ${rows("SELECT * FROM queue_jobs")}`,
    `failed jobs ${rows("SELECT * FROM queue_failed")}`,
    `history ${rt.engine.runs.history(id).map((e) => e.type).join(", ")}`,
  ].join("\n");
}
