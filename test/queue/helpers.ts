/** Shared setup for queue process tests: a project whose config names the fixture handler. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, runSecurely, startSecurely, tempProject } from "../harness.ts";

export const RECORD = join(import.meta.dir, "fixtures/record-fixture.ts");

export function queueProject(extra = "", retryAfter = 2) {
  const p = tempProject(`queue:\n  retry_after: ${retryAfter}\n  handlers:\n    rec: "module:${RECORD}"\n${extra}`);
  const log = join(p.dir, "jobs.log");
  const lines = () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : []);
  return { ...p, log, lines };
}

/**
 * Two workers, one job that hangs on its first attempt; the worker running it is killed -9.
 * Returns what the assertions need: the job log, the killed worker's pid, the job id and the
 * surviving worker (still running: the caller stops it). Shared by the sqlite and redis suites.
 */
export async function killWorkerMidJob(p: ReturnType<typeof queueProject>) {
  const w1 = await startSecurely(["queue:work", "--tries", "3"], { env: p.env });
  const w2 = await startSecurely(["queue:work", "--tries", "3"], { env: p.env });
  await runSecurely(["queue:push", "rec", JSON.stringify({ log: p.log, mode: "hang-first" })], { env: p.env });
  const first = (await eventually(() => p.lines().find((l) => l.startsWith("start ")), 10_000))!;
  const pid = Number(first.split(" ")[1]);
  const [victim, survivor] = w1.proc.pid === pid ? [w1, w2] : [w2, w1];
  victim.proc.kill("SIGKILL");
  await victim.proc.exited;
  await eventually(() => p.lines().some((l) => l.startsWith("done ")), 15_000);
  return { pid, id: first.split(" ")[3]!, survivor };
}
