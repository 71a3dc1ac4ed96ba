import { defineCommand } from "../../core/module.ts";
import { settingsRepository } from "../context.ts";
import { SettingsError } from "../errors.ts";
import { checkKey } from "../names.ts";
import { envArg, printValue, profileOf } from "./shared.ts";

export const settingsGet = defineCommand({
  name: "settings:get",
  description: "Print one setting's value (secrets decrypted) for scripts; exit 1 when not set",
  args: {
    key: { type: "positional", description: "Setting name, e.g. mail.smtp.host", required: true },
    ...envArg,
  },
  run({ app, args }) {
    const key = checkKey(args.key);
    const env = profileOf(app, args.env);
    const s = settingsRepository(app).get(key, env);
    if (!s) throw SettingsError.notSet([key], env ? ` in environment '${env}' or the base profile` : "");
    printValue(app, { key, value: s.value!, secret: s.secret, env: s.env });
  },
});
