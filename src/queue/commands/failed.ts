/** Failed jobs: `queue:failed`, `queue:retry`, `queue:forget`, `queue:flush`, `queue:prune-failed`. */
import { table } from "../../core/cli/output.ts";
import { SecurelyError, UsageError } from "../../core/errors.ts";
import { defineCommand } from "../../core/module.ts";
import { driverFor } from "../drivers/index.ts";
import { parseInteger, parseSeconds } from "../options.ts";

export const failedCommand = defineCommand({
  name: "queue:failed",
  description: "List failed jobs",
  args: {
    queue: { type: "string", description: "Only this queue" },
    limit: { type: "string", description: "At most this many rows (default 100)" },
  },
  async run({ args, app }) {
    const limit = args.limit !== undefined ? parseInteger(args.limit, "--limit", 1) : 100;
    const rows = (await driverFor(app).failed({ queue: args.queue, limit })).map((r) => ({ ...r, failed_at: new Date(r.failed_at).toISOString() }));
    app.print(rows, (d) => table(d.map((r: any) => ({ id: r.id, queue: r.queue, handler: r.handler, attempts: r.attempts, failed_at: r.failed_at, exception: r.exception.split("\n")[0].slice(0, 80) }))));
  },
});

/** "3", "1-5" → ids. */
function parseIds(items: string[], range?: string): number[] {
  const ids: number[] = [];
  for (const it of items) ids.push(parseInteger(it, "ID", 1));
  if (range) {
    const m = /^(\d+)-(\d+)$/.exec(range);
    if (!m || Number(m[1]) > Number(m[2])) throw new UsageError(`--range: expected FROM-TO such as 1-5, got '${range}'`);
    for (let i = Number(m[1]); i <= Number(m[2]); i++) ids.push(i);
  }
  return ids;
}

export const retryCommand = defineCommand({
  name: "queue:retry",
  variadic: true,
  description: "Push failed jobs back onto their queue (attempts reset): IDs, or all",
  args: {
    ids: { type: "positional", required: false, description: "Failed job ids, or all" },
    queue: { type: "string", description: "Only failed jobs of this queue" },
    range: { type: "string", description: "Id range, e.g. 1-5" },
  },
  async run({ args, app, rest }) {
    const items = [...(args._ as string[])].map(String);
    if (items.length === 0 && !args.range && !args.queue) throw new UsageError("queue:retry: give failed job ids, all, --range or --queue");
    const all = items.includes("all") || (items.length === 0 && !args.range);
    const ids = all ? "all" : parseIds(items, args.range);
    void rest;
    const retried = await driverFor(app).retry(ids, app.clock.now(), args.queue);
    app.print({ retried }, (d) => (d.retried.length ? d.retried.map((id: number) => `retried failed job ${id}`).join("\n") : "no failed jobs matched"));
  },
});

export const forgetCommand = defineCommand({
  name: "queue:forget",
  description: "Delete one failed job",
  args: { id: { type: "positional", description: "Failed job id" } },
  async run({ args, app }) {
    const id = parseInteger(args.id, "ID", 1);
    if (!(await driverFor(app).forget(id))) throw new SecurelyError(`no failed job with id ${id}`, { hint: "see securely queue:failed" });
    app.print({ forgotten: id }, () => `forgot failed job ${id}`);
  },
});

function flushCommand(name: string, description: string, defaultHours?: number) {
  return defineCommand({
    name,
    description,
    args: { hours: { type: "string", description: `Only failed jobs older than this many hours${defaultHours ? ` (default ${defaultHours})` : ""}` } },
    async run({ args, app }) {
      const hours = args.hours !== undefined ? parseSeconds(args.hours, "--hours") : defaultHours;
      const n = await driverFor(app).flushFailed(hours === undefined ? undefined : hours * 3_600_000, app.clock.now());
      app.print({ deleted: n }, () => `deleted ${n} failed job${n === 1 ? "" : "s"}`);
    },
  });
}

export const flushFailedCommand = flushCommand("queue:flush", "Delete all failed jobs (or those older than --hours)");
export const pruneFailedCommand = flushCommand("queue:prune-failed", "Delete failed jobs older than --hours (default 24)", 24);
