/** People-facing output goes through consola; levels match --log-level / SECURELY_LOG_LEVEL. */
import { createConsola, type ConsolaInstance } from "consola";

const LEVELS: Record<string, number> = { silent: -999, error: 0, warn: 1, info: 3, debug: 4, trace: 5 };

export function createLogger(level?: string): ConsolaInstance {
  return createConsola({
    level: LEVELS[level ?? "info"] ?? 3,
    // logs go to stderr so stdout stays clean for data and `--json`
    stdout: process.stderr,
    stderr: process.stderr,
    formatOptions: { date: false, colors: process.stderr.isTTY ?? false },
  });
}

export const LOG_LEVELS = Object.keys(LEVELS);
