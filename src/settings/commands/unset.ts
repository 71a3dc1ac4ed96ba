import { defineCommand } from "../../core/module.ts";
import { settingsRepository } from "../context.ts";
import { exitCodeFor, runHooks } from "../hooks/index.ts";
import { checkKey } from "../names.ts";
import { envArg, printWriteResult, profileOf } from "./shared.ts";

export const settingsUnset = defineCommand({
  name: "settings:unset",
  variadic: true,
  description: "Remove settings from a profile atomically (all must exist, or nothing is removed)",
  args: {
    keys: { type: "positional", description: "Setting names", required: true },
    ...envArg,
  },
  async run({ app, args }) {
    const env = profileOf(app, args.env);
    const keys = (args._ as string[]).map(checkKey);
    const changes = settingsRepository(app).unset(keys, env);
    const hooks = await runHooks(app, changes);
    printWriteResult(app, "unset", changes, [], hooks);
    return exitCodeFor(hooks);
  },
});
