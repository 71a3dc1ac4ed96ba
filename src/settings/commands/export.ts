import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { defineCommand } from "../../core/module.ts";
import { SecurelyError } from "../../core/errors.ts";
import { settingsRepository } from "../context.ts";
import { checkFormat, formatSettings } from "../formats/index.ts";
import { envArg, MASK, profileOf, revealArg } from "./shared.ts";

export const settingsExport = defineCommand({
  name: "settings:export",
  description: "Print settings as .env, JSON or YAML (secrets masked unless --reveal)",
  args: {
    prefix: { type: "positional", description: "Key prefix or glob (default: all)", required: false },
    format: { type: "string", description: "env (default; names as settings:run sets them), json or yaml" },
    output: { type: "string", alias: ["o"], description: "Write to FILE (mode 0600, replaced atomically) instead of stdout", valueHint: "FILE" },
    ...envArg,
    ...revealArg,
  },
  run({ app, args }) {
    const env = profileOf(app, args.env);
    const format = checkFormat(args.format) ?? (app.json ? "json" : "env");
    const entries = settingsRepository(app)
      .all(env, { prefix: args.prefix, decrypt: Boolean(args.reveal) })
      .map((s): [string, string] => [s.key, s.value ?? MASK]);
    const text = formatSettings(entries, format);
    if (!args.output) return void process.stdout.write(text);
    writePrivateFile(args.output, text);
    process.stderr.write(`wrote ${entries.length} setting${entries.length === 1 ? "" : "s"} to ${args.output}\n`);
  },
});

/**
 * A shell redirect creates the file with the umask (often world-readable) — wrong for revealed
 * secrets. Write a 0600 temp file beside it, fsync, rename over.
 */
function writePrivateFile(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new SecurelyError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { hint: "check the folder exists and is writable" });
  }
}
