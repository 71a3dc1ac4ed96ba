import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { settingsProject, storeBytes } from "../project.ts";

describe("key:generate / key:rotate / key:prune / key:info", () => {
  test("key:generate writes a 0600 key file once and refuses to overwrite it without --force", async () => {
    const p = settingsProject();
    expect(await p.ok(["key:generate"])).toMatch(new RegExp(`^app key written to ${p.keyFile} \\(AES-256-CBC, fingerprint [0-9a-f]{8}\\)\\n$`));
    expect(statSync(p.keyFile).mode & 0o777).toBe(0o600);
    const key = readFileSync(p.keyFile, "utf8");
    expect(key).toMatch(/^base64:[A-Za-z0-9+/]{43}=\n$/);
    const again = await p.run(["key:generate"]);
    expect([again.code, again.stderr]).toEqual([1, `securely: an app key already exists in ${p.keyFile}; replacing it would orphan every secret encrypted with it — use key:rotate to replace it and re-encrypt the secrets, or --force to discard it\n`]);
    expect(readFileSync(p.keyFile, "utf8")).toBe(key);
    await p.ok(["key:generate", "--force"]);
    expect(readFileSync(p.keyFile, "utf8")).not.toBe(key);
  });

  test("key:generate refuses to start a new key when the store holds secrets and the key file is gone", async () => {
    const p = settingsProject();
    await p.ok(["key:generate"]);
    await p.ok(["settings:set", "--secret", "S=1", "T=2"]);
    rmSync(p.keyFile);
    const r = await p.run(["key:generate"]);
    expect([r.code, r.stderr]).toEqual([1, `securely: the store holds 2 secrets but ${p.keyFile} does not exist; a new key cannot decrypt them — restore the key file from a backup (or set SECURELY_KEY), or pass --force to start a new key anyway\n`]);
    expect(existsSync(p.keyFile)).toBe(false);
  });

  test("key:generate --show prints a key of the cipher's length and writes nothing", async () => {
    const p = settingsProject();
    expect(await p.ok(["key:generate", "--show"])).toMatch(/^base64:[A-Za-z0-9+/]{43}=\n$/);
    expect(await p.ok(["key:generate", "--show"], { env: { SECURELY_CIPHER: "AES-128-GCM" } })).toMatch(/^base64:[A-Za-z0-9+/]{22}==\n$/);
    expect(() => statSync(p.keyFile)).toThrow();
  });

  test("key:rotate re-encrypts every secret under a new key and keeps the old one as previous", async () => {
    const p = settingsProject();
    await p.ok(["key:generate"]);
    await p.ok(["settings:set", "--secret", "A=alpha", "B=beta"]);
    await p.ok(["settings:set", "--secret", "--env", "production", "A=alpha-prod"]);
    const oldKey = readFileSync(p.keyFile, "utf8").trim();
    const before = storeBytes(p.store);
    const out = JSON.parse(await p.ok(["key:rotate", "--json"]));
    expect(out.reencrypted).toBe(3);
    expect(out.previous_keys).toHaveLength(1);
    const lines = readFileSync(p.keyFile, "utf8").trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(oldKey);
    expect(statSync(p.keyFile).mode & 0o777).toBe(0o600);
    expect(storeBytes(p.store).equals(before)).toBe(false);
    // only the new key is needed now
    expect(await p.ok(["settings:get", "A", "--env", "production"], { env: { SECURELY_KEY: lines[0] } })).toBe("alpha-prod\n");
    expect(await p.ok(["settings:get", "B"])).toBe("beta\n");
    const info = JSON.parse(await p.ok(["key:info", "--json"]));
    expect(info).toMatchObject({ source: p.keyFile, secrets: 3, secrets_under_previous_key: [], secrets_undecryptable: [] });
    expect(JSON.parse(await p.ok(["key:prune", "--json"])).dropped).toHaveLength(1);
    expect(readFileSync(p.keyFile, "utf8").trim()).toBe(lines[0]!);
    expect((await p.run(["settings:history", "A", "--json"])).stdout).toContain('"action": "reencrypt"');
  });

  test("with SECURELY_KEY, rotation is: new SECURELY_KEY + old in SECURELY_PREVIOUS_KEYS, then key:rotate --reencrypt", async () => {
    const p = settingsProject();
    const k1 = (await p.ok(["key:generate", "--show"])).trim();
    const k2 = (await p.ok(["key:generate", "--show"])).trim();
    await p.ok(["settings:set", "--secret", "S=value"], { env: { SECURELY_KEY: k1 } });
    const refused = await p.run(["key:rotate"], { env: { SECURELY_KEY: k1 } });
    expect([refused.code, refused.stderr]).toEqual([1, "securely: the app key comes from SECURELY_KEY, which securely cannot change — set SECURELY_KEY to a new key (key:generate --show) and SECURELY_PREVIOUS_KEYS to the old one, then run key:rotate --reencrypt\n"]);
    const both = { SECURELY_KEY: k2, SECURELY_PREVIOUS_KEYS: k1 };
    expect(JSON.parse(await p.ok(["key:info", "--json"], { env: both })).secrets_under_previous_key).toEqual(["S"]);
    expect(await p.ok(["settings:get", "S"], { env: both })).toBe("value\n");
    await p.ok(["key:rotate", "--reencrypt"], { env: both });
    expect(await p.ok(["settings:get", "S"], { env: { SECURELY_KEY: k2 } })).toBe("value\n");
    const wrong = await p.run(["settings:get", "S"], { env: { SECURELY_KEY: k1 } });
    expect([wrong.code, wrong.stderr]).toEqual([1, "securely: cannot decrypt secret 'S': the MAC is invalid: the payload was made with another key or was changed — is SECURELY_KEY / the key file the one it was set with? add the old key to SECURELY_PREVIOUS_KEYS\n"]);
    expect(wrong.stderr).not.toContain(k1.slice(7));
  });
});
