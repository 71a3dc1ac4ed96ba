/**
 * Config `${NAME}` reads settings: env first, then settings (secrets decrypted), then the default.
 * The store and key are found before the config exists (App.bootstrapValue), so there is no loop.
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { App } from "../../src/core/app.ts";
import { modules, provided } from "../../src/main.ts";
import { readSetting } from "../../src/settings/index.ts";
import { tempDir } from "../harness.ts";
import { settingsProject } from "./project.ts";

describe("config ${NAME} from settings", () => {
  test("a config value ${DB_PASSWORD} resolves from a secret set with settings:set --secret", async () => {
    const p = settingsProject("db_password: ${DB_PASSWORD}\nmail_host: ${mail.smtp.host:-none}\nfrom_env: ${FROM_ENV:-default}\n");
    // the config cannot load yet (DB_PASSWORD unset), but settings commands still work
    const before = await p.run(["config:check"]);
    expect(before.stderr).toContain("db_password: ${DB_PASSWORD} is not set in the environment or settings");
    await p.ok(["key:generate"]);
    await p.ok(["settings:set", "--secret", "DB_PASSWORD=from-the-store"]);
    await p.ok(["settings:set", "mail.smtp.host=smtp.example.com", "FROM_ENV=from-settings"]);
    // a secret that reached the config through ${NAME} stays masked unless asked for
    expect(await p.ok(["config:get", "db_password"])).toBe("********\n");
    expect(await p.ok(["config:get", "db_password", "--reveal"])).toBe("from-the-store\n");
    expect(await p.ok(["config:get", "mail_host"])).toBe("smtp.example.com\n");
    // the process environment wins over settings
    expect(await p.ok(["config:get", "from_env"], { env: { FROM_ENV: "from-env" } })).toBe("from-env\n");
    expect(await p.ok(["config:get", "from_env"])).toBe("from-settings\n");
  });

  test("in process: the store path comes from the raw YAML (env-only ${NAME}) while the config loads", async () => {
    const dir = tempDir();
    const config = join(dir, "securely.config.yaml");
    await Bun.write(config, "store:\n  path: ${DATA_DIR}/store.db\ncrypto:\n  cipher: AES-128-GCM\ngreeting: ${GREETING}\n");
    const env = { DATA_DIR: join(dir, "data"), SECURELY_KEY: "base64:" + Buffer.alloc(16, 7).toString("base64") };
    const writer = new App({ modules, provided, configPath: config, env });
    expect(writer.storePath).toBe(join(dir, "data/store.db"));
    const { settingsRepository } = await import("../../src/settings/context.ts");
    settingsRepository(writer).set([{ key: "GREETING", value: "hello", secret: true }], "");
    writer.close();

    const reader = new App({ modules, provided, configPath: config, env });
    expect(reader.config.get("greeting")).toBe("hello");
    expect(reader.config.get("crypto.cipher")).toBe("AES-128-GCM");
    expect([readSetting(reader, "GREETING"), readSetting(reader, "NOPE"), readSetting(reader, "not-a-name")]).toEqual(["hello", undefined, undefined]);
    reader.close();
    // after close, a new store connection gets a fresh repository
    expect(readSetting(reader, "GREETING")).toBe("hello");
    reader.close();
  });

  test("broken YAML stops settings commands with the loader's file:line error, never a guessed store", async () => {
    const p = settingsProject("broken: [\n");
    const r = await p.run(["settings:set", "a=1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith("securely: securely.config.yaml:");
    expect(r.stderr).toContain("invalid YAML");
    expect(existsSync(p.store)).toBe(false);
  });

  test("store.path may use environment variables but not settings (it is read before them)", async () => {
    const p = settingsProject("store:\n  path: ${DATA_DIR}/store.db\n");
    const r = await p.run(["settings:set", "DATA_DIR=/tmp"]);
    expect([r.code, r.stderr]).toEqual([1, "securely: store.path uses ${DATA_DIR}, which is not set in the environment — store.path is read before settings are available, so it may reference environment variables only (or write ${DATA_DIR:-default})\n"]);
    expect(await p.ok(["settings:set", "a=1"], { env: { DATA_DIR: p.dir } })).toBe("set a\n");
    expect(existsSync(join(p.dir, "store.db"))).toBe(true);
  });

  test("a lookup never creates a store: config:check in a fresh folder leaves no store behind", async () => {
    const p = settingsProject("x: ${MISSING:-fallback}\n");
    expect(await p.ok(["config:check"])).toContain("is valid");
    expect(existsSync(p.store)).toBe(false);
  });

  test("a secret the key cannot decrypt is a one-line config error naming the setting", async () => {
    const p = settingsProject("db_password: ${DB_PASSWORD}\n");
    const k1 = (await p.ok(["key:generate", "--show"])).trim();
    const k2 = (await p.ok(["key:generate", "--show"])).trim();
    await p.ok(["settings:set", "--secret", "DB_PASSWORD=x"], { env: { SECURELY_KEY: k1 } });
    const r = await p.run(["config:get", "db_password"], { env: { SECURELY_KEY: k2 } });
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith("securely: config ${DB_PASSWORD} reads setting 'DB_PASSWORD': cannot decrypt secret 'DB_PASSWORD': the MAC is invalid");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
