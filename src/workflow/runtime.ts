/**
 * Wiring: the engine, client and worker for one App. Commands that only read or poke runs use
 * an empty registry (no user code is loaded); `workflow:run` and workers load the definitions.
 */
import type { App } from "../core/app.ts";
import { WorkflowClient } from "./client.ts";
import { Engine } from "./engine/engine.ts";
import { loadRegistry, Registry } from "./registry.ts";
import { dispatchToQueue } from "./tasks/queue-executor.ts";
import { SqliteActivityQueue } from "./tasks/sqlite.ts";
import type { ActivityQueue } from "./types.ts";
import type { RetryDefaults } from "./worker/retry.ts";
import { queueBackedWorker } from "./worker/queue-worker.ts";
import { Worker, type WorkerOptions } from "./worker/worker.ts";

export interface Runtime {
  app: App;
  engine: Engine;
  client: WorkflowClient;
  registry: Registry;
}

export async function openRuntime(app: App, opts: { loadCode?: boolean; queue?: ActivityQueue } = {}): Promise<Runtime> {
  const registry = opts.loadCode ? await loadRegistry(app) : new Registry();
  const store = app.store();
  const engine = new Engine(store, registry, opts.queue ?? new SqliteActivityQueue(store), {
    clock: app.clock,
    log: app.log,
    retry: app.config.get<RetryDefaults>("workflow.activity_retry"),
  });
  const rt = { app, engine, client: new WorkflowClient(engine), registry };
  if (app.config.get<string>("workflow.executor") === "queue") dispatchToQueue(app, rt);
  return rt;
}

export function workerOptions(app: App, overrides: Partial<WorkerOptions> = {}): WorkerOptions {
  return {
    concurrency: app.config.get<number>("workflow.concurrency"),
    leaseMs: app.config.get<number>("workflow.lease_seconds") * 1000,
    pollMs: app.config.get<number>("workflow.poll_interval_ms"),
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  };
}

/** What workflow:work, serve and `workflow:run --work` drive, whichever executor runs the tasks. */
export interface WorkflowWorker {
  readonly owner: string;
  run(): Promise<void>;
  stop(graceful?: boolean): void;
}

export function createWorker(rt: Runtime, opts: WorkerOptions): WorkflowWorker {
  if (rt.app.config.get<string>("workflow.executor") === "queue") return queueBackedWorker(rt.app, rt, opts);
  return new Worker(rt.engine, opts);
}
