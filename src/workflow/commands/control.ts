/** workflow:cancel, workflow:terminate, workflow:retry: change the course of one run. */
import { defineCommand } from "../../core/module.ts";
import { openRuntime } from "../runtime.ts";

const idArg = { id: { type: "positional", description: "Workflow id", required: true } } as const;

export const workflowCancel = defineCommand({
  name: "workflow:cancel",
  description: "Cancel a run gracefully: its waits fail with CancelledFailure and its compensations run (children too)",
  args: { ...idArg, reason: { type: "string", description: "Reason recorded in history" } },
  async run({ app, args }) {
    const rt = await openRuntime(app);
    const ids = rt.client.cancel(args.id, args.reason ?? "cancelled by workflow:cancel");
    app.print({ cancel_requested: ids }, (r) => `cancel requested for ${r.cancel_requested.join(", ")}`);
  },
});

export const workflowTerminate = defineCommand({
  name: "workflow:terminate",
  description: "Stop a run at once: no compensation, pending activities dropped (children too)",
  args: { ...idArg, reason: { type: "string", description: "Reason recorded in history" } },
  async run({ app, args }) {
    const rt = await openRuntime(app);
    const ids = rt.client.terminate(args.id, args.reason ?? "terminated by workflow:terminate");
    app.print({ terminated: ids }, (r) => `terminated ${r.terminated.join(", ")}`);
  },
});

export const workflowRetry = defineCommand({
  name: "workflow:retry",
  description: "Resume a failed run from just before the failure that ended it (after fixing the cause or the code)",
  args: idArg,
  async run({ app, args }) {
    const rt = await openRuntime(app);
    const r = rt.client.retry(args.id);
    app.print(r, (x) => `${x.id} is running again${x.from_seq ? ` from event #${x.from_seq}` : ""} (${x.rescheduled} activit${x.rescheduled === 1 ? "y" : "ies"} rescheduled)`);
  },
});
