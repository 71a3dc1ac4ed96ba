/**
 * `-d` / `daemon: true`. Bun cannot fork, so the launching process re-executes this program
 * detached in a new session (setsid), stdio on `error_log` or /dev/null, and an IPC channel for
 * Pingora's readiness handshake: with `daemon_wait_for_ready` the launcher exits 0 only once the
 * daemon reports every service ready, and non-zero with the daemon's reason otherwise (it also
 * stops a daemon that is not ready within `daemon_ready_timeout_seconds`, so nothing half-started
 * is left running). Without it the launcher exits as soon as the daemon is spawned, as Pingora's.
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import type { App } from "../app.ts";
import { ENV } from "./flags.ts";
import { selfArgs, selfCommand, withoutDaemonFlag } from "./self-exec.ts";

export type DaemonMessage = { type: "ready"; pid: number; listening: string[] } | { type: "failed"; reason: string };

export async function launchDaemon(app: App): Promise<number> {
  const errorLog = app.config.get<string | undefined>("error_log");
  let out: number | "ignore" = "ignore";
  if (errorLog) {
    const path = app.resolvePath(errorLog);
    mkdirSync(dirname(path), { recursive: true });
    out = openSync(path, "a");
  }
  const wait = app.config.get<boolean>("daemon_wait_for_ready");
  const timeoutS = app.config.get<number>("daemon_ready_timeout_seconds");
  let onMessage: (m: DaemonMessage) => void = () => {};
  const child = Bun.spawn([...selfCommand(), ...withoutDaemonFlag(selfArgs())], {
    cwd: app.cwd,
    env: { ...(app.env as Record<string, string>), [ENV.daemonChild]: "1" },
    stdio: ["ignore", out, out],
    detached: true,
    ipc: (m: DaemonMessage) => onMessage(m),
  });
  if (typeof out === "number") closeSync(out);
  if (!wait) {
    child.disconnect?.();
    child.unref();
    process.stdout.write(`securely started in the background (pid ${child.pid})\n`);
    return 0;
  }
  const result = await new Promise<{ code: number; line: string }>((resolve) => {
    let timedOut = false;
    const timer = setTimeout(async () => {
      timedOut = true;
      child.kill("SIGTERM");
      // a service stuck in start() may not get to the signal: never leave it behind
      const finalMs = app.config.get<number>("graceful_shutdown_timeout_seconds") * 1000;
      await Promise.race([child.exited, Bun.sleep(finalMs)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      resolve({ code: 1, line: `securely: the daemon (pid ${child.pid}) was not ready within ${timeoutS} s (daemon_ready_timeout_seconds); stopped it${errorLog ? ` — see ${errorLog}` : ""}` });
    }, timeoutS * 1000);
    onMessage = (m) => {
      if (timedOut) return;
      clearTimeout(timer);
      if (m.type === "ready") {
        for (const l of m.listening) process.stdout.write(l + "\n");
        resolve({ code: 0, line: `securely started in the background (pid ${m.pid})` });
      } else resolve({ code: 1, line: `securely: the daemon failed to start: ${m.reason}` });
    };
    child.exited.then((code) => {
      if (timedOut) return;
      clearTimeout(timer);
      resolve({ code: code || 1, line: `securely: the daemon exited (code ${code}) before it was ready${errorLog ? ` — see ${errorLog}` : ""}` });
    });
  });
  if (result.code === 0) {
    process.stdout.write(result.line + "\n");
    child.disconnect?.();
    child.unref();
  } else process.stderr.write(result.line + "\n");
  return result.code;
}

/** In the daemon: tell the launcher (if it waits) how the start went, then let it go. */
export function notifyLauncher(msg: DaemonMessage): void {
  if (!process.env[ENV.daemonChild] || !process.connected) return;
  try {
    process.send!(msg);
    // let the launcher exit; our own lifetime no longer depends on it
    setTimeout(() => process.connected && process.disconnect?.(), 50).unref?.();
  } catch {
    // the launcher did not wait for us
  }
}
