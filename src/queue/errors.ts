/** Queue errors: one line saying what, where (handler, job id, flag) and what to do. */
import { SecurelyError, UsageError } from "../core/errors.ts";

export class QueueError extends SecurelyError {
  static unknownHandler(name: string, known: string[]): QueueError {
    return new QueueError(`unknown handler '${name}'`, {
      code: "QUEUE_UNKNOWN_HANDLER",
      exitCode: 2,
      hint: known.length
        ? `define it under queue.handlers in the config (known: ${known.join(", ")}) or use shell:CMD, http:URL, module:PATH`
        : "define it under queue.handlers in the config or use shell:CMD, http:URL, module:PATH",
    });
  }
  static badJob(where: string, what: string): QueueError {
    return new QueueError(`${where}: ${what}`, { code: "QUEUE_BAD_JOB", exitCode: 2, hint: "nothing was pushed" });
  }
}

/** Thrown inside an attempt that ran past its timeout; counts as a failed attempt. */
export class JobTimeoutError extends Error {
  constructor(readonly seconds: number) {
    super(`timed out after ${seconds}s`);
    this.name = "JobTimeoutError";
  }
}

export function badFlag(flag: string, expected: string, got: unknown): UsageError {
  return new UsageError(`${flag}: expected ${expected}, got ${JSON.stringify(got)}`, "nothing was changed");
}
