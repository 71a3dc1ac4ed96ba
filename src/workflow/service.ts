/** `serve` runs a workflow worker when `workflow.enabled` is true. */
import type { App } from "../core/app.ts";
import type { Service } from "../core/server/service.ts";
import { createWorker, openRuntime, workerOptions } from "./runtime.ts";
import type { WorkflowWorker } from "./runtime.ts";

export function workflowService(app: App): Service {
  let worker: WorkflowWorker | undefined;
  let done: Promise<void> | undefined;
  return {
    name: "workflow",
    kind: "background",
    async start() {
      const rt = await openRuntime(app, { loadCode: true });
      worker = createWorker(rt, workerOptions(app));
      done = worker.run().catch((err) => app.log.error(`workflow worker stopped: ${(err as Error).message}`));
      app.log.info(`workflow worker ${worker.owner} started (${rt.registry.names().length} workflows)`);
    },
    async stop({ graceful, timeoutMs }) {
      if (!worker) return;
      worker.stop(graceful);
      await Promise.race([done, Bun.sleep(Math.max(timeoutMs, 100))]);
      if (graceful) worker.stop(false);
    },
    status() {
      return { ready: !!worker, executor: app.config.get<string>("workflow.executor") };
    },
  };
}
