/**
 * A `reload:` hook: signal (SIGHUP by default) the process whose pid is in a pid file — a running
 * `securely serve` (top-level pid_file) or any daemon that reloads on a signal.
 */
import { existsSync, readFileSync } from "node:fs";

/** Returns undefined when signalled, or why it could not be (one line). */
export function signalPidFile(pidFile: string, signal: NodeJS.Signals): string | undefined {
  if (!existsSync(pidFile)) return `pid file ${pidFile} does not exist (is the service running?)`;
  const text = readFileSync(pidFile, "utf8").trim();
  const pid = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(pid) || pid <= 1) return `pid file ${pidFile} does not hold a process id`;
  try {
    process.kill(pid, signal);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ESRCH") return `process ${pid} from ${pidFile} is not running (stale pid file)`;
    if (code === "EPERM") return `not allowed to signal process ${pid} from ${pidFile} (run as its user or root)`;
    return `cannot signal process ${pid} from ${pidFile}: ${(err as Error).message}`;
  }
}
