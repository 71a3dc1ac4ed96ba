/**
 * The queue worker as a background Service, so `securely serve` runs it when
 * `queue.worker.enabled` is true (options from `queue.worker.*`).
 */
import type { App } from "../core/app.ts";
import type { Service } from "../core/server/service.ts";
import { createWorker, type Worker, type WorkerOptions } from "./worker.ts";

export function queueService(app: App, options: WorkerOptions = {}): Service {
  let worker: Worker | undefined;
  return {
    name: "queue",
    kind: "background",
    async start() {
      app.store(); // migrations before the first claim
      worker = createWorker(app, options);
      await worker.start();
    },
    async stop({ graceful, timeoutMs }) {
      await worker?.stop({ graceful, timeoutMs });
    },
    status: () => worker?.status() ?? { ready: false },
  };
}
