/** Shared setup for queue process tests: a project whose config names the fixture handler. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempProject } from "../harness.ts";

export const RECORD = join(import.meta.dir, "fixtures/record-fixture.ts");

export function queueProject(extra = "", retryAfter = 2) {
  const p = tempProject(`queue:\n  retry_after: ${retryAfter}\n  handlers:\n    rec: "module:${RECORD}"\n${extra}`);
  const log = join(p.dir, "jobs.log");
  const lines = () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : []);
  return { ...p, log, lines };
}
