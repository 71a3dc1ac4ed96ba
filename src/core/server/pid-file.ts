/**
 * The pid file (Pingora's `pid_file`): written once every service is ready, removed on exit —
 * but only while it still names this process, because after a graceful upgrade it names the new
 * instance and systemd reads it to find the new main pid.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export function readPid(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Write atomically (temp + rename) so a reader never sees a half-written number. */
export function writePid(path: string, pid = process.pid): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${pid}.tmp`;
  writeFileSync(tmp, `${pid}\n`);
  renameSync(tmp, path);
}

/** Remove the file if it still names `pid`; returns whether it did. */
export function removePidIfOwned(path: string, pid = process.pid): boolean {
  if (!existsSync(path) || readPid(path) !== pid) return false;
  rmSync(path, { force: true });
  return true;
}

/** Whether a process with this pid exists (EPERM means it exists but belongs to another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid of a live instance named by the pid file, or undefined when absent or stale. */
export function runningPid(path: string): number | undefined {
  const pid = readPid(path);
  return pid !== undefined && pid !== process.pid && isAlive(pid) ? pid : undefined;
}
