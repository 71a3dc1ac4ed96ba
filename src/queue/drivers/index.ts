/**
 * Driver registry (Laravel's queue Manager): `queue.driver` names one factory. One driver per
 * App, so a push and a worker in the same process share the in-process wake-up.
 */
import type { App } from "../../core/app.ts";
import { SecurelyError } from "../../core/errors.ts";
import type { QueueDriver } from "../types.ts";
import { RedisQueueDriver } from "./redis.ts";
import { SqliteQueueDriver } from "./sqlite.ts";

export type DriverFactory = (app: App) => QueueDriver;

export const drivers: Record<string, DriverFactory> = {
  sqlite: (app) => new SqliteQueueDriver(app.store()),
  redis: (app) => new RedisQueueDriver({ url: app.config.get<string>("queue.redis.url"), prefix: app.config.get<string>("queue.redis.prefix") }),
};

const perApp = new WeakMap<App, QueueDriver>();

export function driverFor(app: App): QueueDriver {
  let d = perApp.get(app);
  if (!d) {
    const name = app.config.get<string>("queue.driver") ?? "sqlite";
    const factory = drivers[name];
    if (!factory) throw new SecurelyError(`Queue driver [${name}] is not defined.`, { hint: `set queue.driver to one of ${Object.keys(drivers).join(", ")}` });
    d = factory(app);
    perApp.set(app, d);
  }
  return d;
}

/** Forget (and close) the App's driver; the next driverFor opens a fresh one. */
export async function closeDriver(app: App): Promise<void> {
  const d = perApp.get(app);
  perApp.delete(app);
  await d?.close();
}
