import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { settingsProject, storeBytes } from "../project.ts";

describe("settings:set / get / list / tree / unset", () => {
  test("sets plain and secret values, reads them back, masks secrets unless --reveal", async () => {
    const p = settingsProject();
    await p.ok(["key:generate"]);
    expect(await p.ok(["settings:set", "mail.smtp.host=smtp.example.com", "mail.from=hi@example.com"])).toBe("set mail.smtp.host\nset mail.from\n");
    expect(await p.ok(["settings:set", "--secret", "mail.smtp.password=pa ss=word"])).toBe("set mail.smtp.password (secret)\n");
    expect(await p.ok(["settings:get", "mail.smtp.password"])).toBe("pa ss=word\n");
    expect(JSON.parse(await p.ok(["settings:get", "mail.smtp.host", "--json"]))).toEqual({ key: "mail.smtp.host", value: "smtp.example.com", secret: false, env: "" });

    const list = JSON.parse(await p.ok(["settings:list", "--json"]));
    expect(list.map((r: any) => [r.key, r.value, r.secret, r.updated_by])).toEqual([
      ["mail.from", "hi@example.com", false, "tester"],
      ["mail.smtp.host", "smtp.example.com", false, "tester"],
      ["mail.smtp.password", "********", true, "tester"],
    ]);
    expect(await p.ok(["settings:list", "mail.smtp", "--reveal"])).toContain("pa ss=word");
    expect(await p.ok(["settings:tree"])).toBe(
      ["mail", "├── from = hi@example.com", "└── smtp", "    ├── host = smtp.example.com", "    └── password = ******** (secret)", ""].join("\n"),
    );
    expect(await p.ok(["settings:set", "mail.from=hi@example.com"])).toBe("unchanged: mail.from\n");
    expect(await p.ok(["settings:unset", "mail.from", "mail.smtp.host"])).toBe("unset mail.from\nunset mail.smtp.host\n");
    const missing = await p.run(["settings:get", "mail.from"]);
    expect([missing.code, missing.stderr]).toEqual([1, "securely: setting 'mail.from' is not set — see securely settings:list\n"]);
  });

  test("a bare KEY reads its value from stdin, so the secret never appears in argv", async () => {
    const p = settingsProject();
    await p.ok(["key:generate"]);
    await p.ok(["settings:set", "--secret", "API_TOKEN"], { stdin: "tok-from-stdin\n" });
    expect(await p.ok(["settings:get", "API_TOKEN"])).toBe("tok-from-stdin\n");
  });

  test("the store never holds a secret's plaintext: not in the DB, the WAL, or the history", async () => {
    const p = settingsProject();
    await p.ok(["key:generate"]);
    const secret = "PLAINTEXT-CANARY-7f3a9c";
    await p.ok(["settings:set", "--secret", `CANARY=${secret}`]);
    await p.ok(["settings:set", "visible=plain-value-canary"]);
    await p.ok(["settings:set", `CANARY=${secret}-v2`]); // stays secret; old value overwritten
    await p.ok(["settings:history", "CANARY"]);
    const bytes = storeBytes(p.store);
    expect(bytes.includes("plain-value-canary")).toBe(true); // the search does see plain values
    expect(bytes.includes(secret)).toBe(false);
    expect(bytes.includes(readFileSync(p.keyFile, "utf8").trim().slice("base64:".length))).toBe(false);
    expect(await p.ok(["settings:get", "CANARY"])).toBe(`${secret}-v2\n`);
  });

  test("profiles: --env writes a profile, SECURELY_ENV selects it, missing keys fall back to the base", async () => {
    const p = settingsProject();
    await p.ok(["settings:set", "APP_URL=http://localhost", "APP_NAME=demo"]);
    await p.ok(["settings:set", "--env", "production", "APP_URL=https://demo.example"]);
    expect(await p.ok(["settings:get", "APP_URL"], { env: { SECURELY_ENV: "production" } })).toBe("https://demo.example\n");
    expect(await p.ok(["settings:get", "APP_NAME", "--env", "production"])).toBe("demo\n");
    expect(await p.ok(["settings:get", "APP_URL"])).toBe("http://localhost\n");
  });

  test("bad input: one line naming the problem, exit 2 for usage, and nothing written", async () => {
    const p = settingsProject();
    const bad = await p.run(["settings:set", "good=1", "smtp-host=x"]);
    expect([bad.code, bad.stderr]).toEqual([2, "securely: invalid setting name 'smtp-host' — use letters, digits and _ in dot-separated parts, each starting with a letter or _ (e.g. mail.smtp.host or DB_PASSWORD)\n"]);
    // no key yet: the secret cannot be written, and neither is the plain value set with it
    const nokey = await p.run(["settings:set", "plain=1", "--secret", "S=hidden-value"]);
    expect(nokey.code).toBe(1);
    expect(nokey.stderr).toStartWith("securely: no app key: SECURELY_KEY is not set and ");
    expect(nokey.stderr).not.toContain("hidden-value");
    expect(nokey.stderr.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(await p.ok(["settings:list", "--json"]))).toEqual([]);
  });

  test("settings:history shows who changed a key and hashes, never a secret's value", async () => {
    const p = settingsProject();
    await p.ok(["key:generate"]);
    await p.ok(["settings:set", "--secret", "S=first-secret"]);
    await p.ok(["settings:set", "S=second-secret"]);
    const rows = JSON.parse(await p.ok(["settings:history", "S", "--json"]));
    expect(rows.map((r: any) => [r.by, r.action, r.secret])).toEqual([["tester", "set", true], ["tester", "set", true]]);
    expect(rows[1].old_hash).toBe(rows[0].new_hash);
    expect(rows[0].new_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(rows)).not.toContain("first-secret");
  });
});
