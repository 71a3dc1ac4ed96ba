import { defineCommand } from "../../core/module.ts";
import { table } from "../../core/cli/output.ts";
import { settingsRepository } from "../context.ts";
import { checkKey, profileName } from "../names.ts";

export const settingsHistory = defineCommand({
  name: "settings:history",
  description: "Show when a setting changed, by whom, and old/new value hashes (never a secret's value)",
  args: {
    key: { type: "positional", description: "Setting name", required: true },
    env: { type: "string", description: "Only this profile (default: every profile)", valueHint: "NAME" },
  },
  run({ app, args }) {
    const key = checkKey(args.key);
    const env = args.env === undefined ? undefined : profileName(args.env, app.env);
    const rows = settingsRepository(app)
      .history(key, env)
      .map((h) => ({ when: new Date(h.changed_at).toISOString(), by: h.changed_by, env: h.env, action: h.action, secret: h.secret, old_hash: h.old_hash, new_hash: h.new_hash }));
    app.print(rows, (r: typeof rows) =>
      r.length === 0 ? `no history for '${key}'` : table(r.map((x) => ({ ...x, env: x.env || "(base)", secret: x.secret ? "yes" : "" })), ["when", "by", "env", "action", "secret", "old_hash", "new_hash"]),
    );
  },
});
