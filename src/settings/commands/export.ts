import { defineCommand } from "../../core/module.ts";
import { settingsRepository } from "../context.ts";
import { checkFormat, formatSettings } from "../formats/index.ts";
import { envArg, MASK, profileOf, revealArg } from "./shared.ts";

export const settingsExport = defineCommand({
  name: "settings:export",
  description: "Print settings as .env, JSON or YAML (secrets masked unless --reveal)",
  args: {
    prefix: { type: "positional", description: "Key prefix or glob (default: all)", required: false },
    format: { type: "string", description: "env (default; names as settings:run sets them), json or yaml" },
    ...envArg,
    ...revealArg,
  },
  run({ app, args }) {
    const env = profileOf(app, args.env);
    const format = checkFormat(args.format) ?? "env";
    const entries = settingsRepository(app)
      .all(env, { prefix: args.prefix, decrypt: Boolean(args.reveal) })
      .map((s): [string, string] => [s.key, s.value ?? MASK]);
    process.stdout.write(formatSettings(entries, format));
  },
});
