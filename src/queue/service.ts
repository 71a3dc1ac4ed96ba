/**
 * The queue worker as a background Service, so `securely serve` runs it when
 * `queue.worker.enabled` is true (options from `queue.worker.*`).
 */
import type { App } from "../core/app.ts";
import type { Service } from "../core/server/service.ts";
import { errorMessage } from "../core/errors.ts";
import { createWorker, type Worker, type WorkerOptions } from "./worker.ts";

export function queueService(app: App, options: WorkerOptions = {}): Service {
  let worker: Worker | undefined;
  let stopping = false;
  // serve is the worker's supervisor: when it ends by itself (queue:restart), a new one takes over
  const startWorker = async (): Promise<void> => {
    const w = createWorker(app, options);
    const started = Date.now();
    worker = w;
    await w.start();
    void w.done
      .then(async (reason) => {
        if (stopping || worker !== w) return;
        app.log.info(`queue worker ended (${reason}): starting a new one`);
        worker = undefined; // not ready meanwhile
        // one that ended at once (its loop failed: the store gone, say) is not restarted in a tight loop
        if (Date.now() - started < 1000) await Bun.sleep(1000);
        if (!stopping) await startWorker();
      })
      .catch((err) => app.log.error(`queue worker could not be started again: ${errorMessage(err)}`));
  };
  return {
    name: "queue",
    kind: "background",
    async start() {
      app.store(); // migrations before the first claim
      await startWorker();
    },
    async stop({ graceful, timeoutMs }) {
      stopping = true;
      await worker?.stop({ graceful, timeoutMs });
    },
    status: () => worker?.status() ?? { ready: false },
  };
}
