/** schedule:work — run the scheduler in the foreground until SIGINT/SIGTERM (serve runs it too). */
import { defineCommand } from "../../core/module.ts";
import { SecurelyError } from "../../core/errors.ts";
import { SERVE_ARGS, serveServices } from "../../core/server/index.ts";
import { scheduleEntries } from "../factory.ts";
import { scheduleService } from "../service.ts";

export const scheduleWork = defineCommand({
  name: "schedule:work",
  description: "Run scheduled entries as they fall due, until stopped (-d daemon, -t check, -u upgrade as serve)",
  args: { ...SERVE_ARGS },
  async run({ app, args }) {
    app.store();
    if (scheduleEntries(app).length === 0) {
      throw new SecurelyError(`no schedule entries in ${app.configPath ?? "the config"}`, { code: "SCHEDULE_EMPTY", hint: "add a `schedule:` list (see docs/schedule.md)" });
    }
    return serveServices(app, [scheduleService(app)], args, { metrics: false });
  },
});
