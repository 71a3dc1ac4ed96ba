/**
 * `shell` handler: `sh -c COMMAND` with the payload on stdin and in SECURELY_JOB_PAYLOAD.
 * The command runs in its own process group so a timeout kills its whole tree, not just `sh`.
 */
import { BoundedOutput } from "./bounded-output.ts";
import type { HandlerRun } from "./resolve.ts";

/** Environment values above this are left out (execve limits one string to 128 KiB). */
const MAX_ENV_PAYLOAD = 64 * 1024;

export function shellHandler(command: string, outputLimit: number): HandlerRun {
  return async (payloadText, ctx) => {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      SECURELY_JOB_ID: String(ctx.jobId),
      SECURELY_JOB_ATTEMPT: String(ctx.attempt),
      SECURELY_JOB_QUEUE: ctx.queue,
    };
    if (payloadText.length <= MAX_ENV_PAYLOAD) env.SECURELY_JOB_PAYLOAD = payloadText;
    const proc = Bun.spawn(["sh", "-c", command], { stdin: new TextEncoder().encode(payloadText), stdout: "pipe", stderr: "pipe", env, detached: true });
    const kill = () => {
      try {
        process.kill(-proc.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    ctx.signal.addEventListener("abort", kill);
    const out = new BoundedOutput(outputLimit);
    try {
      const [code] = await Promise.all([proc.exited, out.drain(proc.stdout), out.drain(proc.stderr)]);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (code !== 0) throw Object.assign(new Error(`command exited with ${proc.signalCode ?? code}`), { output: out.text() });
      return { output: out.text() };
    } finally {
      ctx.signal.removeEventListener("abort", kill);
    }
  };
}
