/** schedule:test NAME — run one entry now, whatever its schedule; exit with the task's exit code. */
import { defineCommand } from "../../core/module.ts";
import { closeCache } from "../../cache/index.ts";
import { findEntry } from "../config.ts";
import { createScheduler } from "../factory.ts";

export const scheduleTest = defineCommand({
  name: "schedule:test",
  description: "Run the entry NAME now (hooks and without_overlapping apply; nothing is claimed)",
  args: { name: { type: "positional", description: "Entry name (see schedule:list)", required: true } },
  async run({ app, args }) {
    const scheduler = createScheduler(app);
    try {
      const entry = findEntry(scheduler.entries, String(args.name));
      const outcome = await scheduler.run(entry, scheduler.clock.now(), { claim: false });
      app.print(outcome, (o) => `${o.output ?? ""}${o.output && !o.output.endsWith("\n") ? "\n" : ""}${o.name}: ${o.status}${o.reason ? `, ${o.reason}` : ""}${o.exit_code !== undefined ? ` (exit ${o.exit_code})` : ""}`);
      return outcome.status === "skipped" ? 1 : (outcome.exit_code ?? 0);
    } finally {
      await closeCache(app);
    }
  },
});
