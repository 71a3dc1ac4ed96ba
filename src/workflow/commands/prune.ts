import { defineCommand } from "../../core/module.ts";
import { openRuntime } from "../runtime.ts";
import { positiveInt } from "./input.ts";

export const workflowPrune = defineCommand({
  name: "workflow:prune",
  description: "Delete finished runs and their history older than N days (default workflow.retention_days)",
  args: { days: { type: "string", description: "Age in days" } },
  async run({ app, args }) {
    const days = positiveInt(args.days, "--days") ?? app.config.get<number>("workflow.retention_days");
    const rt = await openRuntime(app);
    const deleted = rt.client.prune(days);
    app.print({ deleted, days }, (r) => `deleted ${r.deleted} run(s) finished more than ${r.days} day(s) ago`);
  },
});
