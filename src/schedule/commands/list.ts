/** schedule:list — every entry with its expression, next run(s) and last outcome. */
import { table } from "../../core/cli/output.ts";
import { defineCommand } from "../../core/module.ts";
import { UsageError } from "../../core/errors.ts";
import { nextRun } from "../cron/next.ts";
import { formatLocal } from "../cron/timezone.ts";
import { scheduleEntries } from "../factory.ts";
import { RunHistory } from "../history.ts";

export const scheduleList = defineCommand({
  name: "schedule:list",
  description: "List scheduled entries with their cron expression, next run times and last outcome",
  args: {
    next: { type: "string", description: "How many upcoming run times to show per entry (default 1)" },
  },
  run({ app, args }) {
    const count = args.next === undefined ? 1 : Number(args.next);
    if (!Number.isInteger(count) || count < 1 || count > 100) throw new UsageError(`schedule:list: --next '${args.next}' must be a whole number from 1 to 100`);
    const entries = scheduleEntries(app);
    const history = new RunHistory(app.store());
    const env = app.env.SECURELY_ENV ?? app.env.APP_ENV ?? "production";
    const now = app.clock.now();
    const rows = entries.map((e) => {
      const next: number[] = [];
      let t: number | undefined = now;
      while (next.length < count && (t = nextRun(e.cron, t!, e.timezone)) !== undefined) next.push(t);
      const last = history.last(e.name);
      return {
        name: e.name,
        kind: e.kind,
        target: e.target,
        expression: e.expression,
        timezone: e.timezone,
        description: e.description ?? null,
        runs_here: e.environments.length === 0 || e.environments.includes(env),
        next_runs: next.map((ms) => new Date(ms).toISOString()),
        next_local: next.map((ms) => formatLocal(ms, e.timezone)),
        last_run: last ? { at: new Date(last.due_at).toISOString(), status: last.status, exit_code: last.exit_code, reason: last.reason } : null,
      };
    });
    app.print(rows, (rs: typeof rows) => {
      if (rs.length === 0) return "no schedule entries (add a `schedule:` list to the config)";
      return table(
        rs.map((r) => ({
          name: r.name,
          schedule: r.expression,
          task: `${r.kind}: ${r.target}`,
          next: r.runs_here ? `${r.next_local.join(", ") || "never"} ${r.timezone}` : `(not in ${env})`,
          last: r.last_run ? `${r.last_run.status}${r.last_run.exit_code !== null ? ` (${r.last_run.exit_code})` : ""} at ${r.last_run.at}` : "-",
        })),
      );
    });
  },
});
