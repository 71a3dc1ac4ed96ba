/**
 * settings:run -- CMD ARGS: the settings as environment variables of CMD (mail.smtp.host →
 * MAIL_SMTP_HOST), secrets decrypted in this process's memory only, never written anywhere.
 * Settings override inherited variables of the same name. CMD's exit code is passed through.
 */
import { defineCommand } from "../../core/module.ts";
import { SecurelyError, UsageError } from "../../core/errors.ts";
import { settingsRepository } from "../context.ts";
import { envVarName } from "../names.ts";
import { envArg, profileOf } from "./shared.ts";

const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];
const SIGNUM: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

export const settingsRun = defineCommand({
  name: "settings:run",
  description: "Run a command with the settings as environment variables: settings:run [--env NAME] -- CMD ARGS…",
  args: {
    prefix: { type: "string", description: "Only settings under this prefix or glob" },
    ...envArg,
  },
  async run({ app, args, rest }) {
    if (rest.length === 0) throw new UsageError("settings:run needs a command after --", "e.g. securely settings:run -- php artisan migrate");
    const env = profileOf(app, args.env);
    const vars: Record<string, string> = {};
    const from: Record<string, string> = {};
    for (const s of settingsRepository(app).all(env, { prefix: args.prefix, decrypt: true })) {
      const name = envVarName(s.key);
      if (from[name]) throw new SecurelyError(`settings '${from[name]}' and '${s.key}' both become ${name}`, { hint: "rename one of them with settings:set + settings:unset" });
      from[name] = s.key;
      vars[name] = s.value!;
    }
    app.close(); // do not hold the store open for the child's whole life
    let child: Bun.Subprocess;
    try {
      child = Bun.spawn(rest, { env: { ...process.env, ...vars } as Record<string, string>, stdin: "inherit", stdout: "inherit", stderr: "inherit" });
    } catch {
      throw new SecurelyError(`cannot run '${rest[0]}': command not found or not executable`, { exitCode: 127 });
    }
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    for (const sig of FORWARDED) process.on(sig, forward);
    const code = await child.exited;
    for (const sig of FORWARDED) process.off(sig, forward);
    // killed by a signal: exit as a shell would (128 + signal number)
    if (child.signalCode) return 128 + (SIGNUM[child.signalCode] ?? 1);
    return code;
  },
});
