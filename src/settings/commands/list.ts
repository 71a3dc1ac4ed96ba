import { defineCommand } from "../../core/module.ts";
import { table } from "../../core/cli/output.ts";
import { settingsRepository } from "../context.ts";
import { envArg, MASK, prefixArg, profileOf, revealArg } from "./shared.ts";

export const settingsList = defineCommand({
  name: "settings:list",
  description: "List settings (secrets masked unless --reveal); PREFIX selects a subtree or a glob",
  args: {
    ...prefixArg,
    ...envArg,
    ...revealArg,
  },
  run({ app, args }) {
    const env = profileOf(app, args.env);
    const rows = settingsRepository(app)
      .all(env, { prefix: args.prefix, decrypt: Boolean(args.reveal) })
      .map((s) => ({ key: s.key, value: s.value ?? MASK, secret: s.secret, env: s.env, updated_at: new Date(s.updated_at).toISOString(), updated_by: s.updated_by }));
    app.print(rows, (r: typeof rows) =>
      table(
        r.map((x) => ({ ...x, value: x.value.includes("\n") ? JSON.stringify(x.value) : x.value, secret: x.secret ? "yes" : "", env: x.env || "(base)" })),
        ["key", "value", "secret", "env", "updated_at", "updated_by"],
      ),
    );
  },
});
