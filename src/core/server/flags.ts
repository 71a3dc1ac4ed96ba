/**
 * Pingora's server flags, shared by every command that runs services (`serve`, `proxy:serve`,
 * `dns:serve`, `queue:work`, `schedule:work`): spread `SERVE_ARGS` into the command's args and
 * pass the parsed values to `serveServices`. `-c/--conf` is a global flag already.
 */
import type { ArgsDef } from "citty";

export const SERVE_ARGS = {
  daemon: { type: "boolean", alias: ["d"], description: "Detach into the background (also `daemon: true`)" },
  upgrade: { type: "boolean", alias: ["u"], description: "Take over from a running instance (graceful upgrade over upgrade_sock)" },
  test: { type: "boolean", alias: ["t"], description: "Load the config and build every service, then exit (0 = ok)" },
} as const satisfies ArgsDef;

export interface ServeFlags {
  daemon?: boolean;
  upgrade?: boolean;
  test?: boolean;
}

/** Environment variables the server machinery sets on processes it starts. */
export const ENV = {
  /** Names the one listening service a worker process runs. */
  worker: "SECURELY_WORKER",
  workerIndex: "SECURELY_WORKER_INDEX",
  /** The primary's working directory, which the worker moves to once its config is loaded. */
  workerCwd: "SECURELY_WORKER_CWD",
  /** Set on the detached child of `-d`; it must not detach again. */
  daemonChild: "SECURELY_DAEMON_CHILD",
} as const;
