/**
 * Built-in activity `securely.shell`: run a command line with `sh -c`, the activity input as JSON
 * on stdin and SECURELY_* variables in the environment. Exit 0 is success; stdout (bounded) is
 * the result, parsed as JSON when it is JSON. The process tree is killed when the attempt is
 * abandoned (timeout, heartbeat missed, worker stopping).
 */
import { defineActivity } from "../sdk.ts";

const MAX_OUTPUT = 64 * 1024;

export interface ShellInput {
  command: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Written to stdin as JSON (default: the whole input). */
  stdin?: unknown;
}

export const shellActivity = defineActivity<ShellInput>("securely.shell", async (input, ctx) => {
  if (!input || typeof input.command !== "string" || !input.command) throw new Error("securely.shell: input.command is required");
  const proc = Bun.spawn(["sh", "-c", input.command], {
    cwd: input.cwd,
    env: {
      ...process.env,
      ...(input.env ?? {}),
      SECURELY_WORKFLOW_ID: ctx.workflowId,
      SECURELY_ACTIVITY_ID: String(ctx.activityId),
      SECURELY_ATTEMPT: String(ctx.attempt),
      SECURELY_IDEMPOTENCY_KEY: ctx.idempotencyKey,
    },
    stdin: new TextEncoder().encode(JSON.stringify(input.stdin ?? input)),
    stdout: "pipe",
    stderr: "pipe",
    // its own process group, so an abandoned attempt kills the whole tree, not just `sh`
    detached: true,
  });
  const kill = () => {
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      proc.kill("SIGKILL");
    }
  };
  ctx.signal.addEventListener("abort", kill, { once: true });
  try {
    const [stdout, stderr, code] = await Promise.all([bounded(proc.stdout), bounded(proc.stderr), proc.exited]);
    if (code !== 0) throw new Error(`command exited with ${code}${stderr.trim() ? `: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : ""}`);
    const text = stdout.trim();
    try {
      return text ? JSON.parse(text) : null;
    } catch {
      return text;
    }
  } finally {
    ctx.signal.removeEventListener("abort", kill);
  }
});

async function bounded(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let out = "";
  for await (const chunk of stream) {
    if (out.length < MAX_OUTPUT) out += decoder.decode(chunk, { stream: true });
  }
  return out.length > MAX_OUTPUT ? out.slice(0, MAX_OUTPUT) : out;
}
