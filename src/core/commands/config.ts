import { defineCommand } from "../module.ts";
import { ConfigError, formatProblem, rootSchema } from "../config/load.ts";
import { renderConfigDocs } from "../config/docs.ts";
import { SecurelyError } from "../errors.ts";

export const configShow = defineCommand({
  name: "config:show",
  description: "Print the resolved config (defaults, env overrides and ${NAME} applied; secrets masked unless --reveal)",
  args: { reveal: { type: "boolean", description: "Show secret values instead of ********" } },
  run({ app, args }) {
    app.print(args.reveal ? app.config.data : app.config.masked());
  },
});

export const configGet = defineCommand({
  name: "config:get",
  description: "Print one resolved config value by dot path (e.g. proxy.threads)",
  args: {
    key: { type: "positional", description: "Dot path, e.g. store.path", required: true },
    reveal: { type: "boolean", description: "Show a secret value instead of ********" },
  },
  run({ app, args }) {
    const value = app.config.get(args.key);
    if (value === undefined) throw new SecurelyError(`config key '${args.key}' is not set`, { hint: "see securely config:show" });
    const masked = args.key.split(".").reduce<any>((cur, p) => cur?.[p], args.reveal ? app.config.data : app.config.masked());
    app.print(masked, (v) => (typeof v === "object" ? JSON.stringify(v, null, 2) : String(v)));
  },
});

export const configCheck = defineCommand({
  name: "config:check",
  description: "Validate the config and list every problem (also -t/--test); exit 1 when invalid",
  run({ app }) {
    try {
      app.config;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      if (app.json) app.print({ valid: false, file: app.configPath, problems: err.problems });
      else {
        for (const p of err.problems) process.stderr.write(formatProblem(p) + "\n");
        process.stderr.write(`securely: config is invalid (${err.problems.length} problem${err.problems.length === 1 ? "" : "s"})\n`);
      }
      return 1;
    }
    app.print({ valid: true, file: app.configPath ?? null }, (r) => `config ${r.file ?? "(defaults)"} is valid`);
    return 0;
  },
});

export const configDocs = defineCommand({
  name: "config:docs",
  description: "Print the reference of every config key (rules, default, meaning) as Markdown",
  run({ app }) {
    process.stdout.write(renderConfigDocs(rootSchema(app.modules)));
  },
});
