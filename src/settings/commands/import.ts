import { existsSync, readFileSync } from "node:fs";
import { defineCommand } from "../../core/module.ts";
import { SecurelyError } from "../../core/errors.ts";
import { settingsRepository } from "../context.ts";
import { checkFormat, formatOfFile, parseSettingsFile } from "../formats/index.ts";
import { exitCodeFor, runHooks } from "../hooks/index.ts";
import { checkKey, matchesAny } from "../names.ts";
import { checkValue, envArg, printWriteResult, profileOf } from "./shared.ts";

export const settingsImport = defineCommand({
  name: "settings:import",
  description: "Import settings from a .env, JSON or YAML file (- for stdin) in one transaction",
  args: {
    file: { type: "positional", description: "File to read; - reads stdin", required: true },
    format: { type: "string", description: "env, json or yaml (default: from the extension; env for stdin)" },
    secret: { type: "string", description: "Mark keys matching these globs secret (comma-separated, e.g. '*PASSWORD*,*_KEY')", valueHint: "PATTERN" },
    ...envArg,
  },
  async run({ app, args }) {
    const env = profileOf(app, args.env);
    const file = args.file === "-" ? "(stdin)" : args.file;
    const format = checkFormat(args.format) ?? (args.file === "-" ? "env" : formatOfFile(args.file));
    let text: string;
    if (args.file === "-") text = await Bun.stdin.text();
    else {
      if (!existsSync(args.file)) throw new SecurelyError(`cannot import ${args.file}: no such file`);
      try {
        text = readFileSync(args.file, "utf8");
      } catch (err) {
        // a folder, or a file this user may not read: say which, not a bare EISDIR
        throw new SecurelyError(`cannot import ${args.file}: ${(err as NodeJS.ErrnoException).code === "EISDIR" ? "it is a folder" : (err as Error).message}`, { hint: "give a .env, JSON or YAML file, or - for stdin" });
      }
    }
    const entries = parseSettingsFile(text, format, file);
    const globs = (args.secret ?? "").split(",").map((g) => g.trim()).filter(Boolean);
    const inputs = entries.map(([key, value]) => {
      try {
        checkKey(key);
      } catch (err) {
        throw new SecurelyError(`${file}: ${(err as Error).message}`, { code: "SETTINGS_INVALID_NAME", exitCode: 2 });
      }
      checkValue(key, value);
      return { key, value, secret: matchesAny(key, globs) ? true : undefined };
    });
    const changes = settingsRepository(app).set(inputs, env);
    const changed = new Set(changes.map((c) => c.key));
    const hooks = await runHooks(app, changes);
    printWriteResult(app, "imported", changes, [...new Set(inputs.map((i) => i.key))].filter((k) => !changed.has(k)), hooks);
    return exitCodeFor(hooks);
  },
});
