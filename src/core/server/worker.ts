/**
 * The worker side of `threads: N`: this process was started by the primary with
 * SECURELY_WORKER=<service>; it runs only that service and obeys the primary over IPC. Terminal
 * signals: SIGINT stops fast and SIGTERM gracefully (as the primary would ask); SIGQUIT and
 * SIGHUP are the primary's to coordinate, so they are ignored here.
 */
import type { App } from "../app.ts";
import { errorMessage } from "../errors.ts";
import { ENV } from "./flags.ts";
import { dropPrivileges } from "./privileges.ts";
import { reloadServices } from "./reload.ts";
import type { Service, StopOptions } from "./service.ts";
import type { WorkerMessage } from "./worker-group.ts";

function send(msg: WorkerMessage): void {
  try {
    if (process.connected) process.send!(msg);
  } catch {
    // primary gone: the disconnect handler stops us
  }
}

export async function runWorker(app: App, services: Service[], name: string): Promise<number> {
  const service = services.find((s) => s.name === name);
  if (!service) {
    send({ type: "failed", reason: `no service named '${name}' in this config` });
    return 1;
  }
  const cwd = app.env[ENV.workerCwd];
  if (cwd && cwd !== process.cwd()) process.chdir(cwd);
  // ignore the signals the primary coordinates, before anything can deliver them
  const ignore = () => {};
  process.on("SIGQUIT", ignore);
  process.on("SIGHUP", ignore);
  let listening: string[];
  try {
    listening = (await service.start())?.listening ?? [];
    dropPrivileges(app.config.get("user"), app.config.get("group"));
  } catch (err) {
    send({ type: "failed", reason: errorMessage(err) });
    await service.stop({ graceful: false, timeoutMs: 0 }).catch(() => {});
    return 1;
  }
  send({ type: "ready", listening });

  const graceMs = app.config.get<number>("grace_period_seconds") * 1000;
  return new Promise<number>((resolve) => {
    let stopping: Promise<void> | undefined;
    const stop = (opts: StopOptions) => {
      if (stopping && opts.graceful) return;
      stopping = service.stop(opts).catch((err) => app.log.error(`${name}: stop failed: ${errorMessage(err)}`));
      stopping.then(() => resolve(0));
    };
    process.on("message", (msg: WorkerMessage) => {
      if (msg?.type === "stop") stop({ graceful: msg.graceful, timeoutMs: msg.timeoutMs, reason: msg.reason });
      else if (msg?.type === "reload") void reloadServices(app, [service]);
    });
    process.on("SIGTERM", () => stop({ graceful: true, timeoutMs: graceMs }));
    process.on("SIGINT", () => stop({ graceful: false, timeoutMs: 0 }));
    // the primary died without stopping us (SIGKILL): drain briefly and leave, never orphaned
    process.on("disconnect", () => stop({ graceful: true, timeoutMs: Math.min(graceMs, 5000) }));
  });
}
