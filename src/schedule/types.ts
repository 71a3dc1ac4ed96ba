/** Scheduler contracts: a resolved entry and the outcome of one run. */
import type { CronExpression } from "./cron/parse.ts";

export type TaskKind = "run" | "command" | "job" | "workflow";
export const TASK_KINDS: TaskKind[] = ["run", "command", "job", "workflow"];

export type HookName = "before" | "after" | "on_success" | "on_failure";

/** One `schedule:` entry after validation, with its cron expression compiled. */
export interface ScheduleEntry {
  name: string;
  description?: string;
  kind: TaskKind;
  /** Shell line (run), securely command line (command), job handler or workflow name. */
  target: string;
  /** Job payload or workflow input. */
  payload?: unknown;
  queue?: string;
  /** The cron text (written, or built from the helpers). */
  expression: string;
  cron: CronExpression;
  timezone: string;
  between?: [string, string];
  unlessBetween?: [string, string];
  environments: string[];
  /** Overlap lock expiry in minutes; 0 = overlapping runs allowed. */
  withoutOverlapping: number;
  onOneServer: boolean;
  runInBackground: boolean;
  /** Seconds before a run or command task is killed; 0 = no limit. */
  timeout: number;
  output?: string;
  hooks: Partial<Record<HookName, string>>;
}

/** What running a task produced. */
export interface TaskResult {
  exitCode: number;
  output: string;
}

export type RunStatus = "running" | "success" | "failed" | "skipped";

/** One row of `schedule_runs`, as schedule:list and tests see it. */
export interface RunRecord {
  name: string;
  due_at: number;
  host: string;
  status: RunStatus;
  started_at: number;
  finished_at: number | null;
  exit_code: number | null;
  reason: string | null;
}
