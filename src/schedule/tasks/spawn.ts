/** Run a child process for a task or hook: output captured (both streams), bounded, killable on timeout. */
import type { TaskResult } from "../types.ts";

/** Keep at most this much output per run in memory. */
const MAX_OUTPUT = 256 * 1024;

export interface SpawnOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  /** Seconds; 0 = no limit. */
  timeout: number;
}

export async function spawnTask(argv: string[], opts: SpawnOptions): Promise<TaskResult> {
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    // its own process group, so a timeout kills the shell's children too (they hold the pipes open)
    proc = Bun.spawn(argv, { cwd: opts.cwd, env: opts.env as Record<string, string>, stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true });
  } catch (err) {
    return { exitCode: 127, output: `cannot start ${argv[0]}: ${(err as Error).message}\n` };
  }
  let output = "";
  let timedOut = false;
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) if (output.length < MAX_OUTPUT) output += decoder.decode(chunk, { stream: true });
  };
  const timer =
    opts.timeout > 0
      ? setTimeout(() => {
          timedOut = true;
          killGroup(proc, "SIGTERM");
          setTimeout(() => killGroup(proc, "SIGKILL"), 5000).unref?.();
        }, opts.timeout * 1000)
      : undefined;
  const [, , code] = await Promise.all([collect(proc.stdout), collect(proc.stderr), proc.exited]);
  if (timer) clearTimeout(timer);
  if (timedOut) output += `\n(killed after the ${opts.timeout} s timeout)\n`;
  return { exitCode: timedOut ? 124 : code, output: output.slice(0, MAX_OUTPUT) };
}

function killGroup(proc: Bun.Subprocess, sig: NodeJS.Signals): void {
  try {
    process.kill(-proc.pid, sig);
  } catch {
    if (proc.exitCode === null) proc.kill(sig); // the group is gone or was never ours
  }
}

/** Split a command line into words: whitespace separates, single and double quotes group, backslash escapes. */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | null = null;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      started = true;
    } else if (c === "\\" && i + 1 < line.length) {
      cur += line[++i];
      started = true;
    } else if (/\s/.test(c)) {
      if (started || cur) out.push(cur);
      cur = "";
      started = false;
    } else cur += c;
  }
  if (started || cur) out.push(cur);
  return out;
}
