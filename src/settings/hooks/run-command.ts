/**
 * A `run:` hook: the command through /bin/sh, with the changed keys in its environment (never
 * their values). Its output goes to stderr so the calling command's stdout stays data only.
 */
import type { HookConfig } from "../types.ts";

export interface CommandOutcome {
  exitCode: number;
  timedOut: boolean;
}

export async function runCommandHook(hook: HookConfig, keys: string[], env: string, cwd: string): Promise<CommandOutcome> {
  const proc = Bun.spawn(["/bin/sh", "-c", hook.run!], {
    cwd,
    env: { ...process.env, SECURELY_CHANGED_KEYS: keys.join(","), SECURELY_SETTINGS_ENV: env } as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, hook.timeout * 1000);
  const pipe = (async () => {
    for await (const chunk of proc.stdout) process.stderr.write(chunk);
  })();
  const exitCode = await proc.exited;
  await pipe;
  clearTimeout(timer);
  return { exitCode, timedOut };
}
