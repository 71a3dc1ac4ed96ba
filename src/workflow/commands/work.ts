import { defineCommand } from "../../core/module.ts";
import { createWorker, openRuntime, workerOptions } from "../runtime.ts";
import { positiveInt } from "./input.ts";

export const workflowWork = defineCommand({
  name: "workflow:work",
  description: "Run a worker: replays workflow tasks and runs activities until SIGTERM (graceful) or SIGINT",
  args: {
    concurrency: { type: "string", description: "Activities at once (default workflow.concurrency)" },
    "stop-when-empty": { type: "boolean", description: "Exit once nothing is due (future timers do not count)" },
    "max-time": { type: "string", description: "Exit after this many seconds" },
  },
  async run({ app, args }) {
    const rt = await openRuntime(app, { loadCode: true });
    const maxTime = positiveInt(args["max-time"], "--max-time");
    const worker = createWorker(
      rt,
      workerOptions(app, {
        concurrency: positiveInt(args.concurrency, "--concurrency"),
        stopWhenEmpty: args["stop-when-empty"],
        maxTimeMs: maxTime === undefined ? undefined : maxTime * 1000,
      }),
    );
    const onSignal = (sig: NodeJS.Signals) => {
      app.log.info(`${sig}: ${sig === "SIGTERM" ? "finishing running activities" : "stopping now"}`);
      worker.stop(sig === "SIGTERM");
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    process.stdout.write(`securely ready (workflow worker ${worker.owner}, ${rt.registry.names().length} workflows)\n`);
    try {
      await worker.run();
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    app.log.info("workflow worker stopped");
  },
});
