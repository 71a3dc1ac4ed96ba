import { describe, expect, test } from "bun:test";
import { settingsProject } from "../project.ts";

describe("settings:run", () => {
  test("runs the command with settings as variables, secrets decrypted, exit code passed through", async () => {
    const p = settingsProject();
    await p.ok(["key:generate"]);
    await p.ok(["settings:set", "mail.smtp.host=smtp.example.com", "APP_ENV=base"]);
    await p.ok(["settings:set", "--secret", "DB_PASSWORD=s3cret"]);
    await p.ok(["settings:set", "--env", "production", "APP_ENV=prod"]);
    const r = await p.run(["settings:run", "--env", "production", "--", "sh", "-c", 'echo "$MAIL_SMTP_HOST $DB_PASSWORD $APP_ENV"; exit 7'], {
      env: { APP_ENV: "inherited" },
    });
    expect([r.code, r.stdout, r.stderr]).toEqual([7, "smtp.example.com s3cret prod\n", ""]);
    const only = await p.run(["settings:run", "--prefix", "mail", "--", "sh", "-c", 'echo "$MAIL_SMTP_HOST|${DB_PASSWORD:-unset}"']);
    expect([only.code, only.stdout]).toEqual([0, "smtp.example.com|unset\n"]);
  });

  test("without a command it is a usage error", async () => {
    const p = settingsProject();
    const r = await p.run(["settings:run"]);
    expect([r.code, r.stderr]).toEqual([2, "securely: settings:run needs a command after -- — e.g. securely settings:run -- php artisan migrate\n"]);
    const missing = await p.run(["settings:run", "--", "/nonexistent/cmd"]);
    expect([missing.code, missing.stderr]).toEqual([127, "securely: cannot run '/nonexistent/cmd': command not found or not executable\n"]);
  });
});
