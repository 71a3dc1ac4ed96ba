/**
 * The `settings:` config section: change hooks. Each hook matches changed keys by glob and
 * either runs a command or signals a running service through its pid file.
 *
 * ```yaml
 * settings:
 *   hooks:
 *     - match: ["mail.*"]
 *       run: systemctl reload postfix
 *     - match: ["proxy.*", "TLS_*"]
 *       reload: true              # SIGHUP the securely server named by pid_file
 * ```
 */
import type { App } from "../core/app.ts";
import { list, obj, val } from "../core/config/schema.ts";
import type { HookConfig } from "./types.ts";

const hook = obj(
  {
    match: list(val("string|min:1"), [], "Globs of setting keys that fire this hook (`*` matches any characters, dots included)."),
    run: val("string|min:1", undefined, "Command run by /bin/sh with SECURELY_CHANGED_KEYS (comma-separated) and SECURELY_SETTINGS_ENV set."),
    reload: val("boolean", false, "Send `signal` to the process whose pid is in `pid_file` (a running `securely serve` by default)."),
    pid_file: val("string", undefined, "PID file of the process to signal; default: the top-level pid_file."),
    signal: val("in:SIGHUP,SIGUSR1,SIGUSR2,SIGTERM", "SIGHUP", "Signal sent by a reload hook."),
    timeout: val("duration", 30, "Seconds a `run` hook may take before it is killed (counts as failed)."),
  },
  {
    check: (h) => {
      const out: Array<[string, string]> = [];
      if ((h.match as string[]).length === 0) out.push(["match", "needs at least one glob"]);
      if (h.run && h.reload) out.push(["", "set either run or reload, not both"]);
      if (!h.run && !h.reload) out.push(["", "set run: COMMAND or reload: true"]);
      if (h.pid_file && !h.reload) out.push(["pid_file", "only applies with reload: true"]);
      return out;
    },
  },
);

export const settingsConfig = {
  settings: obj({
    hooks: list(hook, [], "Commands to run or services to reload when matching settings change."),
  }),
};

export function hooksOf(app: App): HookConfig[] {
  return app.config.get<HookConfig[]>("settings.hooks") ?? [];
}
