/**
 * The four task kinds, one runner each: `run` (shell line), `command` (a securely command in a
 * child process), `job` (push to the queue) and `workflow` (start one). Job and workflow go
 * through functions src/main.ts provides (schedule cannot import workflow; queue may not be built).
 */
import { resolve } from "node:path";
import type { App } from "../../core/app.ts";
import { ScheduleError } from "../errors.ts";
import type { ScheduleEntry, TaskKind, TaskResult } from "../types.ts";
import { spawnTask, splitWords } from "./spawn.ts";

export type TaskRunner = (app: App, entry: ScheduleEntry) => Promise<TaskResult>;

/** Signature src/main.ts wires as app.provided.pushJob. */
export type PushJob = (app: App, handler: string, payload: unknown, opts: { queue?: string }) => Promise<unknown>;
/** Signature src/main.ts wires as app.provided.startWorkflow. */
export type StartWorkflow = (app: App, name: string, input: unknown, opts: Record<string, unknown>) => Promise<unknown>;

export function taskEnv(app: App, entry: ScheduleEntry, extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { ...app.env, SECURELY_SCHEDULE_NAME: entry.name, ...extra };
}

/** argv that runs this same securely: the compiled binary, SECURELY_BIN, or bun + src/main.ts. */
export function securelyArgv(app: App): string[] {
  if (app.env.SECURELY_BIN) return [app.env.SECURELY_BIN];
  if (Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/")) return [process.execPath];
  return [process.execPath, resolve(import.meta.dir, "../../main.ts")];
}

const runShell: TaskRunner = (app, entry) =>
  spawnTask(["/bin/sh", "-c", entry.target], { cwd: app.baseDir, env: taskEnv(app, entry), timeout: entry.timeout });

const runCommand: TaskRunner = (app, entry) => {
  const conf = app.configPath ? ["-c", app.configPath] : [];
  return spawnTask([...securelyArgv(app), ...splitWords(entry.target), ...conf], { cwd: app.baseDir, env: taskEnv(app, entry), timeout: entry.timeout });
};

const runJob: TaskRunner = async (app, entry) => {
  const push = app.provided.pushJob as PushJob | undefined;
  if (typeof push !== "function") throw ScheduleError.notWired(`push job '${entry.target}'`, "app.provided.pushJob");
  const id = await push(app, entry.target, entry.payload ?? null, { queue: entry.queue });
  return { exitCode: 0, output: `pushed job ${entry.target}${id !== undefined ? ` (${JSON.stringify(id)})` : ""}\n` };
};

const runWorkflow: TaskRunner = async (app, entry) => {
  const start = app.provided.startWorkflow as StartWorkflow | undefined;
  if (typeof start !== "function") throw ScheduleError.notWired(`start workflow '${entry.target}'`, "app.provided.startWorkflow");
  const id = await start(app, entry.target, entry.payload ?? null, {});
  return { exitCode: 0, output: `started workflow ${entry.target}${id !== undefined ? ` (${JSON.stringify(id)})` : ""}\n` };
};

export const TASK_RUNNERS: Record<TaskKind, TaskRunner> = { run: runShell, command: runCommand, job: runJob, workflow: runWorkflow };

/** Run a hook shell line; hook failures are reported, never fatal to the task. */
export function runHook(app: App, entry: ScheduleEntry, line: string, extra: Record<string, string>): Promise<TaskResult> {
  return spawnTask(["/bin/sh", "-c", line], { cwd: app.baseDir, env: taskEnv(app, entry, extra), timeout: 0 });
}
