/** `queue:clear`, `queue:pause`, `queue:resume`, `queue:restart`. */
import { UsageError } from "../../core/errors.ts";
import { defineCommand } from "../../core/module.ts";
import { driverFor } from "../drivers/index.ts";

export const clearCommand = defineCommand({
  name: "queue:clear",
  description: "Delete every pending job of a queue (needs --force)",
  args: {
    queue: { type: "string", description: "Queue to clear (default queue.default_queue)" },
    force: { type: "boolean", description: "Really delete" },
  },
  async run({ args, app }) {
    const queue = args.queue ?? app.config.get<string>("queue.default_queue");
    if (!args.force) throw new UsageError(`queue:clear would delete every pending job of '${queue}'`, "add --force to confirm");
    const n = await driverFor(app).clear(queue);
    app.print({ queue, deleted: n }, () => `cleared ${n} job${n === 1 ? "" : "s"} from '${queue}'`);
  },
});

function pauseCommand(paused: boolean) {
  return defineCommand({
    name: paused ? "queue:pause" : "queue:resume",
    description: paused ? "Stop every worker from taking jobs of a queue" : "Let workers take jobs of a paused queue again",
    args: { queue: { type: "positional", description: "Queue name", required: true } },
    async run({ args, app }) {
      await driverFor(app).setPaused(String(args.queue), paused);
      app.print({ queue: args.queue, paused }, () => `${paused ? "paused" : "resumed"} '${args.queue}'`);
    },
  });
}

export const pauseQueueCommand = pauseCommand(true);
export const resumeQueueCommand = pauseCommand(false);

export const restartCommand = defineCommand({
  name: "queue:restart",
  description: "Make running workers exit after their current jobs (a supervisor restarts them)",
  async run({ app }) {
    await driverFor(app).signalRestart(app.clock.now());
    app.print({ restart: true }, () => "broadcast restart signal to queue workers");
  },
});
