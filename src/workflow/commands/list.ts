import { table } from "../../core/cli/output.ts";
import { UsageError } from "../../core/errors.ts";
import { defineCommand } from "../../core/module.ts";
import { openRuntime } from "../runtime.ts";
import { RUN_STATUSES } from "../types.ts";
import { positiveInt } from "./input.ts";

export const workflowList = defineCommand({
  name: "workflow:list",
  description: "List workflow runs, newest first",
  args: {
    status: { type: "string", description: `Only runs in this state (${RUN_STATUSES.join(", ")})` },
    name: { type: "string", description: "Only runs of this workflow" },
    limit: { type: "string", description: "At most this many (default 100)" },
  },
  async run({ app, args }) {
    if (args.status && !RUN_STATUSES.includes(args.status as any)) throw new UsageError(`unknown status '${args.status}'`, `use one of ${RUN_STATUSES.join(", ")}`);
    const rt = await openRuntime(app);
    const runs = rt.engine.runs.list({ status: args.status, name: args.name, limit: positiveInt(args.limit, "--limit") ?? 100 });
    const rows = runs.map((r) => ({
      id: r.id,
      name: r.name,
      status: r.status,
      waiting_on: r.waiting_on,
      created_at: new Date(r.created_at).toISOString(),
      error: r.error?.message ?? null,
    }));
    app.print(rows, (rs) => table(rs.map((r: any) => ({ ...r, error: r.error ? String(r.error).slice(0, 60) : "" })), ["id", "name", "status", "waiting_on", "created_at", "error"]));
  },
});
