/**
 * @module queue — durable job queue (Laravel's queue on the store's SQLite, or Redis).
 *
 * Other namespaces use only this file:
 *   openQueue(app).push(handler, payload, opts)   push (committed when it resolves)
 *   createWorker(app, opts).start()/stop()         run a worker in-process
 *   registerHandler(name, def)                     handlers other namespaces provide (workflow tasks)
 *   queueService(app)                              the worker as a background Service
 */
import type { App } from "../core/app.ts";
import { defineModule } from "../core/module.ts";
import { queueCommands } from "./commands/index.ts";
import { queueConfig } from "./config.ts";
import { defineJob } from "./handlers/registry.ts";
import { rateLimited, throttlesExceptions, withoutOverlapping } from "./middleware/index.ts";
import { queueMigrations } from "./migrations.ts";
import { queueService } from "./service.ts";

export { openQueue, validateJob, type Queue, type PushOptions } from "./queue.ts";
export { createWorker, type Worker, type WorkerOptions, type StopReason } from "./worker.ts";
export { registerHandler, unregisterHandler, registeredHandlerNames, defineJob } from "./handlers/registry.ts";
export { driverFor, closeDriver } from "./drivers/index.ts";
export { queueService } from "./service.ts";
export { rateLimited, throttlesExceptions, withoutOverlapping } from "./middleware/index.ts";
export type * from "./types.ts";

export const queueModule = defineModule({
  name: "queue",
  description: "durable job queue and worker",
  commands: queueCommands,
  config: { queue: queueConfig },
  migrations: queueMigrations,
  services: (app: App) => (app.config.get<boolean>("queue.worker.enabled") ? [queueService(app)] : []),
  sdk: { defineJob, rateLimited, withoutOverlapping, throttlesExceptions },
});
