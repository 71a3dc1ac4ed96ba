/**
 * With `workflow.executor: queue`, a "workflow worker" is a queue worker on `workflow.queue`
 * whose workflow.task / workflow.activity jobs use this process's runtime.
 */
import type { App } from "../../core/app.ts";
import { createWorker as createQueueWorker } from "../../queue/index.ts";
import type { Runtime } from "../runtime.ts";
import { bindQueueRuntime, needsSweeper, sweepLostJobs } from "../tasks/queue-executor.ts";

export interface QueueWorkerHandle {
  owner: string;
  run(): Promise<void>;
  stop(graceful: boolean): void;
}

export function queueBackedWorker(app: App, rt: Runtime, opts: { concurrency: number; leaseMs: number; stopWhenEmpty?: boolean; maxTimeMs?: number }): QueueWorkerHandle {
  bindQueueRuntime(rt, opts.leaseMs);
  const queue = app.config.get<string>("workflow.queue");
  const began = Date.now();
  const make = () =>
    createQueueWorker(app, {
      queues: [queue],
      concurrency: opts.concurrency,
      stopWhenEmpty: opts.stopWhenEmpty,
      // a worker started again after queue:restart gets what is left of --max-time
      maxTime: opts.maxTimeMs === undefined ? undefined : Math.max(0.001, (opts.maxTimeMs - (Date.now() - began)) / 1000),
      sleep: app.config.get<number>("workflow.poll_interval_ms") / 1000,
      timeout: 0,
    });
  let w = make();
  let stopped = false;
  return {
    owner: `queue ${queue}`,
    async run() {
      const sweeper = needsSweeper(rt) ? setInterval(() => {
        try {
          sweepLostJobs(rt, opts.leaseMs);
        } catch (err) {
          app.log.warn(`workflow: sweep failed: ${(err as Error).message}`);
        }
      }, Math.max(100, opts.leaseMs / 2)) : undefined;
      try {
        for (;;) {
          await w.start();
          const reason = await w.done;
          // queue:restart ends every queue worker after its jobs: this one starts again in place,
          // as the local executor's worker never stops for it
          if (stopped || reason !== "restart") break;
          app.log.info(`workflow: queue worker on ${queue} ended (queue:restart): starting a new one`);
          w = make();
        }
      } finally {
        clearInterval(sweeper);
      }
    },
    stop(graceful) {
      stopped = true;
      void w.stop({ graceful, timeoutMs: graceful ? 30_000 : 0 });
    },
  };
}
