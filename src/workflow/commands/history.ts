import { table } from "../../core/cli/output.ts";
import { defineCommand } from "../../core/module.ts";
import { WorkflowError } from "../errors.ts";
import { openRuntime } from "../runtime.ts";

export const workflowHistory = defineCommand({
  name: "workflow:history",
  description: "Print a run's event history (--json for the full events)",
  args: { id: { type: "positional", description: "Workflow id", required: true } },
  async run({ app, args }) {
    const rt = await openRuntime(app);
    if (!rt.engine.runs.get(args.id)) throw WorkflowError.notFound(args.id);
    const events = rt.engine.runs.history(args.id).map((e) => ({ ...e, at: new Date(e.at).toISOString() }));
    app.print(events, (evs) =>
      table(
        evs.map((e: any) => ({ seq: e.seq, at: e.at, type: e.type, cmd: e.cid, details: summary(e.data) })),
        ["seq", "at", "type", "cmd", "details"],
      ),
    );
  },
});

function summary(d: any): string {
  if (!d) return "";
  const s = JSON.stringify(d.name !== undefined ? { name: d.name, ...d } : d);
  return s.length > 90 ? s.slice(0, 87) + "..." : s;
}
