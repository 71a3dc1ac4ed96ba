import { describe, expect, test } from "bun:test";
import { checkKey, envVarName, isValidKey, matchesAny, profileName } from "../../src/settings/names.ts";

describe("names", () => {
  test("setting names are dotted parts of letters, digits and _", () => {
    for (const ok of ["DB_PASSWORD", "mail.smtp.host", "_x", "a1.b2._c"]) expect(isValidKey(ok)).toBe(true);
    for (const bad of ["", "1abc", "mail..host", "mail.", ".mail", "smtp-host", "a b", "ä", "x".repeat(256)]) expect(isValidKey(bad)).toBe(false);
    expect(() => checkKey("smtp-host")).toThrow("invalid setting name 'smtp-host' — use letters, digits and _ in dot-separated parts");
  });

  test("profiles come from --env, then SECURELY_ENV, else the base profile", () => {
    expect(profileName(undefined, {})).toBe("");
    expect(profileName(undefined, { SECURELY_ENV: "staging" })).toBe("staging");
    expect(profileName("production", { SECURELY_ENV: "staging" })).toBe("production");
    expect(() => profileName("bad name", {})).toThrow("invalid environment name 'bad name'");
  });

  test("envVarName upper-cases and turns dots into underscores", () => {
    expect(envVarName("mail.smtp.host")).toBe("MAIL_SMTP_HOST");
    expect(envVarName("DB_PASSWORD")).toBe("DB_PASSWORD");
  });

  test("globs: * spans dots, ? is one character, the rest is literal", () => {
    expect(matchesAny("mail.smtp.host", ["mail.*"])).toBe(true);
    expect(matchesAny("mailer.x", ["mail.*"])).toBe(false);
    expect(matchesAny("DB_PASSWORD", ["*PASSWORD*"])).toBe(true);
    expect(matchesAny("a1", ["a?"])).toBe(true);
    expect(matchesAny("axb", ["a.b"])).toBe(false);
  });
});
