/**
 * Change hooks: after a write commits, every `settings.hooks` entry whose globs match a changed
 * key fires once with all its matching keys. A failing hook is reported; the settings stay
 * written (the write already committed, and undoing it could break whatever already reloaded).
 */
import type { App } from "../../core/app.ts";
import { SecurelyError } from "../../core/errors.ts";
import { hooksOf } from "../config.ts";
import { matchesAny } from "../names.ts";
import type { Change, HookResult } from "../types.ts";
import { runCommandHook } from "./run-command.ts";
import { signalPidFile } from "./reload-service.ts";

export async function runHooks(app: App, changes: Change[]): Promise<HookResult[]> {
  if (changes.length === 0) return [];
  // no hooks in the YAML: do not make the write depend on the rest of the config being valid
  const raw = app.bootstrapValue<unknown[]>("settings.hooks");
  if (!Array.isArray(raw) || raw.length === 0) return [];
  let hooks;
  try {
    hooks = hooksOf(app);
  } catch (err) {
    if (!(err instanceof SecurelyError)) throw err;
    const error = `not run: the config is invalid (${err.message.split("\n")[0]})`;
    app.log.warn(`settings hooks ${error}; the settings stay written`);
    return [{ hook: 0, what: "settings.hooks", keys: changes.map((c) => c.key), ok: false, error }];
  }
  const results: HookResult[] = [];
  const env = changes[0]!.env;
  for (const [i, hook] of hooks.entries()) {
    const keys = [...new Set(changes.filter((c) => matchesAny(c.key, hook.match)).map((c) => c.key))];
    if (keys.length === 0) continue;
    if (hook.run) {
      const what = `run ${JSON.stringify(hook.run)}`;
      const out = await runCommandHook(hook, keys, env, app.baseDir);
      const ok = out.exitCode === 0 && !out.timedOut;
      const error = out.timedOut ? `timed out after ${hook.timeout} s and was killed` : ok ? undefined : `exited with code ${out.exitCode}`;
      results.push({ hook: i + 1, what, keys, ok, exit_code: out.exitCode, error });
    } else {
      const pidFile = app.resolvePath(hook.pid_file ?? app.config.get<string>("pid_file"));
      const error = signalPidFile(pidFile, hook.signal);
      results.push({ hook: i + 1, what: `reload ${pidFile} (${hook.signal})`, keys, ok: !error, error });
    }
    const r = results[results.length - 1]!;
    if (r.ok) app.log.debug(`settings hook #${r.hook} (${r.what}) ran for ${keys.join(", ")}`);
    else app.log.warn(`settings hook #${r.hook} (${r.what}) failed: ${r.error}; the settings stay written`);
  }
  return results;
}

/** Exit code of a write command: 0, or 3 when the write committed but a hook failed. */
export function exitCodeFor(results: HookResult[]): number {
  return results.some((r) => !r.ok) ? HOOK_FAILED_EXIT : 0;
}

export const HOOK_FAILED_EXIT = 3;
