import { describe, expect, test } from "bun:test";
import { findCipher, generateKey, type Keyring } from "../../src/core/crypto/index.ts";
import { SettingsRepository } from "../../src/settings/repository.ts";
import { Secrets } from "../../src/settings/secrets.ts";
import { settingsMigrations } from "../../src/settings/migrations.ts";
import { FrozenClock, tempStore } from "../harness.ts";

const ring = (current: Buffer, previous: Buffer[] = []): Keyring => ({ current, previous, source: "test", fromEnv: true, keyFile: "/nonexistent" });
const newKey = () => generateKey(findCipher("AES-256-CBC")!);

function setup(key = newKey()) {
  const store = tempStore(settingsMigrations);
  const clock = new FrozenClock();
  let secrets = new Secrets(ring(key), "AES-256-CBC");
  const repo = new SettingsRepository({ store, secrets: () => secrets, clock, actor: "tester" });
  return { store, clock, repo, useKey: (r: Keyring) => (secrets = new Secrets(r, "AES-256-CBC")) };
}

describe("SettingsRepository", () => {
  test("sets several keys in one write and reads them back, secrets decrypted", () => {
    const { repo, store } = setup();
    const changes = repo.set([{ key: "mail.host", value: "h" }, { key: "DB_PASSWORD", value: "pw", secret: true }], "");
    expect(changes.map((c) => [c.key, c.secret])).toEqual([["mail.host", false], ["DB_PASSWORD", true]]);
    expect(repo.get("DB_PASSWORD", "")).toMatchObject({ value: "pw", secret: true, env: "", updated_by: "tester" });
    expect(repo.get("DB_PASSWORD", "", false)?.value).toBeUndefined();
    expect(store.changes.seq("settings")).toBe(1);
  });

  test("a profile's value wins; a key missing in the profile falls back to the base profile", () => {
    const { repo } = setup();
    repo.set([{ key: "a", value: "base" }, { key: "b", value: "base-b" }], "");
    repo.set([{ key: "a", value: "prod" }], "production");
    expect(repo.get("a", "production")?.value).toBe("prod");
    expect(repo.get("b", "production")).toMatchObject({ value: "base-b", env: "" });
    expect(repo.get("a", "")?.value).toBe("base");
    expect(repo.all("production").map((s) => [s.key, s.value, s.env])).toEqual([["a", "prod", "production"], ["b", "base-b", ""]]);
  });

  test("a secret stays secret when updated without --secret, and --plain (secret: false) turns it plain", () => {
    const { repo } = setup();
    repo.set([{ key: "TOKEN", value: "one", secret: true }], "");
    repo.set([{ key: "TOKEN", value: "two" }], "");
    expect(repo.get("TOKEN", "")).toMatchObject({ value: "two", secret: true });
    repo.set([{ key: "TOKEN", value: "two", secret: false }], "");
    expect(repo.get("TOKEN", "")).toMatchObject({ value: "two", secret: false });
  });

  test("writing the same value again is no change: no history row, no change-feed bump", () => {
    const { repo, store } = setup();
    repo.set([{ key: "k", value: "v" }, { key: "s", value: "x", secret: true }], "");
    expect(repo.set([{ key: "k", value: "v" }, { key: "s", value: "x" }], "")).toEqual([]);
    expect(repo.history("k")).toHaveLength(1);
    expect(store.changes.seq("settings")).toBe(1);
  });

  test("history records hashes: equal values hash equal, a secret's hash is keyed", () => {
    const { repo, clock } = setup();
    repo.set([{ key: "p", value: "same" }, { key: "s", value: "same", secret: true }], "");
    clock.advance(1000);
    repo.set([{ key: "p", value: "other" }], "");
    repo.unset(["p"], "");
    const h = repo.history("p");
    expect(h.map((x) => x.action)).toEqual(["set", "set", "unset"]);
    expect(h[1]!.old_hash).toBe(h[0]!.new_hash);
    expect(h[2]!.old_hash).toBe(h[1]!.new_hash);
    expect(h[1]!.changed_at - h[0]!.changed_at).toBe(1000);
    expect(repo.history("s")[0]!.new_hash).not.toBe(h[0]!.new_hash);
  });

  test("unset is all or nothing and names every missing key", () => {
    const { repo } = setup();
    repo.set([{ key: "a", value: "1" }], "");
    expect(() => repo.unset(["a", "b", "c"], "")).toThrow("settings 'b', 'c' are not set");
    expect(repo.get("a", "")?.value).toBe("1");
  });

  test("a secret under another key is a one-line error naming the key, not the value", () => {
    const { repo, useKey } = setup();
    repo.set([{ key: "s", value: "hunter2", secret: true }], "");
    useKey(ring(newKey()));
    expect(() => repo.get("s", "")).toThrow("cannot decrypt secret 's': the MAC is invalid");
  });

  test("reencrypt moves every secret to the new key, and changes nothing if one is undecryptable", () => {
    const k1 = newKey();
    const k2 = newKey();
    const { repo, useKey, store } = setup(k1);
    repo.set([{ key: "a", value: "A", secret: true }, { key: "b", value: "B", secret: true }], "");
    repo.set([{ key: "a", value: "A-prod", secret: true }], "production");
    const before = store.db.query("SELECT value FROM settings_values ORDER BY env, key").all();
    const next = new Secrets(ring(k2, [k1]), "AES-256-CBC");
    expect(repo.reencrypt(() => new Secrets(ring(k1), "AES-256-CBC"), () => next)).toHaveLength(3);
    useKey(ring(k2));
    expect([repo.get("a", "")?.value, repo.get("b", "")?.value, repo.get("a", "production")?.value]).toEqual(["A", "B", "A-prod"]);
    expect(store.db.query("SELECT value FROM settings_values ORDER BY env, key").all()).not.toEqual(before);

    const k3 = newKey();
    useKey(ring(k3));
    repo.set([{ key: "c", value: "C", secret: true }], ""); // under k3, unknown to the ring below
    const snapshot = store.db.query("SELECT * FROM settings_values ORDER BY env, key").all();
    expect(() => repo.reencrypt(() => new Secrets(ring(k2), "AES-256-CBC"), () => next)).toThrow("1 secret cannot be decrypted with any known key: c; nothing was changed");
    expect(store.db.query("SELECT * FROM settings_values ORDER BY env, key").all()).toEqual(snapshot);
  });

  test("list prefixes select a subtree, or a glob", () => {
    const { repo } = setup();
    repo.set(["mail.host", "mail.smtp.port", "mailer.x", "DB_HOST"].map((key) => ({ key, value: "v" })), "");
    expect(repo.all("", { prefix: "mail" }).map((s) => s.key)).toEqual(["mail.host", "mail.smtp.port"]);
    expect(repo.all("", { prefix: "mail." }).map((s) => s.key)).toEqual(["mail.host", "mail.smtp.port"]);
    expect(repo.all("", { prefix: "*host*" }).map((s) => s.key)).toEqual(["mail.host"]);
  });
});
