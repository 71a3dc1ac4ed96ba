/**
 * A `run:` hook: the command through /bin/sh, with the changed keys in its environment (never
 * their values). Its output goes to stderr so the calling command's stdout stays data only. It
 * runs in its own process group, so a timeout kills everything it started, not just the shell.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { HookConfig } from "../types.ts";

export interface CommandOutcome {
  exitCode: number;
  timedOut: boolean;
}

export function runCommandHook(hook: HookConfig, keys: string[], env: string, cwd: string): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", hook.run!], {
      cwd,
      env: { ...process.env, SECURELY_CHANGED_KEYS: keys.join(","), SECURELY_SETTINGS_ENV: env },
      // stdout straight to our stderr (fd 2): a pipe would also wait on background children
      stdio: ["ignore", 2, "inherit"],
      detached: true,
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // the group is already gone
      }
    }, hook.timeout * 1000);
    const done = (exitCode: number) => {
      clearTimeout(timer);
      resolve({ exitCode, timedOut });
    };
    child.on("error", () => done(127));
    // killed by a signal: report it as a shell would, 128 + the signal's number
    child.on("exit", (code, signal) => done(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
}
