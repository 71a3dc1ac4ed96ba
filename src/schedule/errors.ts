/** Errors the scheduler raises, each one line: what, where, what to do. */
import { SecurelyError } from "../core/errors.ts";

export class ScheduleError extends SecurelyError {
  constructor(message: string, code: string, hint?: string, cause?: unknown) {
    super(message, { code, hint, cause });
    this.name = "ScheduleError";
  }

  static badCron(expression: string, problem: string): ScheduleError {
    return new ScheduleError(`cron expression '${expression}': ${problem}`, "SCHEDULE_BAD_CRON", "write 5 fields (minute hour day month weekday) or 6 with seconds first");
  }

  static unknownEntry(name: string, near?: string): ScheduleError {
    return new ScheduleError(`no schedule entry named '${name}'${near ? ` — did you mean '${near}'?` : ""}`, "SCHEDULE_UNKNOWN_ENTRY", "see securely schedule:list");
  }

  static notWired(what: string, fn: string): ScheduleError {
    return new ScheduleError(`cannot ${what}: this binary does not provide ${fn}`, "SCHEDULE_NOT_WIRED", "build securely with the queue and workflow namespaces");
  }
}
