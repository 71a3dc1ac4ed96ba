/**
 * Pingora's `error_log`: when set, log lines go to that file (appended) instead of stderr.
 * Writes are synchronous so the last lines before an exit are never lost.
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { App } from "../app.ts";

export function redirectLogs(app: App): (() => void) | undefined {
  const file = app.config.get<string | undefined>("error_log");
  if (!file) return undefined;
  const path = app.resolvePath(file);
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, "a");
  const stream = { write: (s: string) => (writeSync(fd, s), true) } as unknown as NodeJS.WriteStream;
  app.log.options.stdout = stream;
  app.log.options.stderr = stream;
  return () => {
    app.log.options.stdout = process.stderr;
    app.log.options.stderr = process.stderr;
    closeSync(fd);
  };
}
