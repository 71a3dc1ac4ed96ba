/**
 * Every failure a user can cause is a SecurelyError: one line saying what went wrong, where,
 * and what to do. The CLI prints `message` (never a stack) and exits with `exitCode`.
 */
export class SecurelyError extends Error {
  readonly exitCode: number;
  readonly code: string;
  readonly hint?: string;

  constructor(message: string, opts: { code?: string; exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(opts.hint ? `${message} — ${opts.hint}` : message, { cause: opts.cause });
    this.name = "SecurelyError";
    this.code = opts.code ?? "E_SECURELY";
    this.exitCode = opts.exitCode ?? 1;
    this.hint = opts.hint;
  }
}

/** Bad command-line usage: exit code 2, as getopt-style tools do. */
export class UsageError extends SecurelyError {
  constructor(message: string, hint?: string) {
    super(message, { code: "E_USAGE", exitCode: 2, hint });
    this.name = "UsageError";
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
