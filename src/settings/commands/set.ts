import { defineCommand } from "../../core/module.ts";
import { UsageError } from "../../core/errors.ts";
import { settingsRepository } from "../context.ts";
import { exitCodeFor, runHooks } from "../hooks/index.ts";
import { envArg, parseAssignments, printWriteResult, profileOf } from "./shared.ts";

export const settingsSet = defineCommand({
  name: "settings:set",
  variadic: true,
  description: "Set one or more settings atomically: KEY=VALUE … (a bare KEY reads its value from stdin)",
  args: {
    pairs: { type: "positional", description: "KEY=VALUE pairs; a bare KEY reads the value from stdin", required: true },
    secret: { type: "boolean", description: "Encrypt the values at rest (they stay secret on later updates)" },
    plain: { type: "boolean", description: "Store a secret key as plain text from now on" },
    ...envArg,
  },
  async run({ app, args }) {
    if (args.secret && args.plain) throw new UsageError("--secret and --plain contradict each other");
    const env = profileOf(app, args.env);
    const pairs = await parseAssignments(args._ as string[]);
    const secret = args.secret ? true : args.plain ? false : undefined;
    const changes = settingsRepository(app).set(pairs.map(([key, value]) => ({ key, value, secret })), env);
    const changed = new Set(changes.map((c) => c.key));
    const hooks = await runHooks(app, changes);
    printWriteResult(app, "set", changes, [...new Set(pairs.map(([k]) => k))].filter((k) => !changed.has(k)), hooks);
    return exitCodeFor(hooks);
  },
});
