import { defineCommand } from "../../core/module.ts";
import { formatMs } from "../duration.ts";
import { openRuntime } from "../runtime.ts";

export const workflowStatus = defineCommand({
  name: "workflow:status",
  description: "Show a run: state, what it waits on, timers, signals not yet seen, activity attempts, children",
  args: { id: { type: "positional", description: "Workflow id", required: true } },
  async run({ app, args }) {
    const rt = await openRuntime(app);
    const d = rt.client.describe(args.id);
    app.print(d, (x) => {
      const lines = [`${x.id}  ${x.name}  ${x.status}`, `started ${x.created_at}${x.completed_at ? `, ended ${x.completed_at}` : ""}, ${x.events} events`];
      if (x.waiting_on) lines.push(`waiting on: ${x.waiting_on}`);
      for (const t of x.timers) {
        const left = Date.parse(t.fires_at) - Date.now();
        lines.push(`timer ${t.id} fires at ${t.fires_at}${left > 0 ? ` (in ${formatMs(left)})` : " (due)"}`);
      }
      if (x.signals_not_yet_seen.length) lines.push(`signals not yet seen: ${x.signals_not_yet_seen.join(", ")}`);
      for (const a of x.activities) {
        const next = a.state === "retrying" && a.next_attempt_at ? `, next attempt at ${a.next_attempt_at}` : "";
        lines.push(`activity ${a.id} ${a.name}: ${a.state}, ${a.attempts} attempt(s)${next}${a.last_error ? `, last error: ${a.last_error}` : ""}`);
      }
      for (const c of x.children as any[]) lines.push(`child ${c.id} ${c.name}: ${c.status}`);
      if (x.status === "completed") lines.push(`output: ${JSON.stringify(x.output)}`);
      if (x.error) lines.push(`error: ${x.error.message}`);
      return lines.join("\n");
    });
  },
});
