import { describe, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { settingsProject } from "../project.ts";

describe("settings:import / settings:export", () => {
  test("imports a .env with --secret globs, exports env masked and json revealed", async () => {
    const p = settingsProject();
    await p.ok(["key:generate"]);
    const file = join(p.dir, ".env.production");
    writeFileSync(file, "APP_NAME=demo\nDB_PASSWORD='p@ss word'\nexport STRIPE_KEY=sk_live_123\n# comment\nMAIL_FROM=\"a@b.c\"\n");
    const out = JSON.parse(await p.ok(["settings:import", file, "--secret", "*PASSWORD*,*_KEY", "--json"]));
    expect(out.changed).toEqual([
      { key: "APP_NAME", env: "", secret: false },
      { key: "DB_PASSWORD", env: "", secret: true },
      { key: "STRIPE_KEY", env: "", secret: true },
      { key: "MAIL_FROM", env: "", secret: false },
    ]);
    expect(await p.ok(["settings:export"])).toBe("APP_NAME=demo\nDB_PASSWORD='********'\nMAIL_FROM=a@b.c\nSTRIPE_KEY='********'\n");
    expect(JSON.parse(await p.ok(["settings:export", "--format", "json", "--reveal"]))).toEqual({
      APP_NAME: "demo",
      DB_PASSWORD: "p@ss word",
      MAIL_FROM: "a@b.c",
      STRIPE_KEY: "sk_live_123",
    });
    // --output writes an owner-only file, since revealed secrets must not land world-readable
    const envFile = join(p.dir, "app.env");
    await p.ok(["settings:export", "--reveal", "-o", envFile]);
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, "utf8")).toContain("DB_PASSWORD='p@ss word'");
  });

  test("imports nested YAML from stdin-less files and JSON from stdin; export yaml round trips", async () => {
    const p = settingsProject();
    const file = join(p.dir, "settings.yaml");
    writeFileSync(file, "mail:\n  smtp:\n    host: smtp.example.com\n    port: 587\n");
    await p.ok(["settings:import", file]);
    await p.ok(["settings:import", "-", "--format", "json", "--env", "staging"], { stdin: '{"mail": {"smtp": {"host": "staging-smtp"}}}' });
    const yaml = await p.ok(["settings:export", "--format", "yaml", "--env", "staging"]);
    expect(yaml).toBe('mail.smtp.host: staging-smtp\nmail.smtp.port: "587"\n');
    const again = settingsProject();
    writeFileSync(join(again.dir, "x.yaml"), yaml);
    await again.ok(["settings:import", join(again.dir, "x.yaml")]);
    expect(await again.ok(["settings:get", "mail.smtp.port"])).toBe("587\n");
  });

  test("a bad file is one error naming file and line; nothing is imported", async () => {
    const p = settingsProject();
    const file = join(p.dir, "bad.env");
    writeFileSync(file, "OK=1\nTHIS LINE HOLDS A SECRET\n");
    const r = await p.run(["settings:import", file]);
    expect([r.code, r.stderr]).toEqual([1, `securely: ${file}:2: expected KEY=VALUE\n`]);
    writeFileSync(file, "OK=1\nbad-name=2\n");
    const r2 = await p.run(["settings:import", file]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toStartWith(`securely: ${file}: invalid setting name 'bad-name'`);
    expect(JSON.parse(await p.ok(["settings:list", "--json"]))).toEqual([]);
    const r3 = await p.run(["settings:import", join(p.dir, "nope.env")]);
    expect(r3.stderr).toBe(`securely: cannot import ${join(p.dir, "nope.env")}: no such file\n`);
  });
});
