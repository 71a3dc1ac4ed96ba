/** Bad input the CLI and the store must answer with one line and exit 1/2, never "unexpected error". */
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSecurely, tempDir, tempProject } from "../../harness.ts";

describe("bad input (core)", () => {
  test("an extra positional is a usage error, not silently dropped", async () => {
    const { env } = tempProject();
    const r = await runSecurely(["config:get", "store.path", "extra"], { env });
    expect(r.stderr).toBe("securely: config:get: unexpected argument 'extra' — quote values that contain spaces; see securely config:get --help\n");
    expect(r.code).toBe(2);
  });

  test("a store file that is not SQLite is reported and left untouched", async () => {
    const dir = tempDir();
    const db = join(dir, "store.db");
    const garbage = "this is not sqlite ".repeat(200);
    writeFileSync(db, garbage);
    const config = join(dir, "c.yaml");
    writeFileSync(config, `store:\n  path: ${db}\n`);
    const r = await runSecurely(["store:info"], { env: { SECURELY_CONF: config } });
    expect(r.stderr).toBe(
      `securely: store ${db} is not a SQLite database or is corrupted (file is not a database) — restore it from a backup (securely store:backup makes one), or point store.path at another file; securely leaves it untouched\n`,
    );
    expect(r.code).toBe(1);
    expect(readFileSync(db, "utf8")).toBe(garbage);
  });

  test("a store folder that cannot be created names the folder", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "file"), "");
    const config = join(dir, "c.yaml");
    writeFileSync(config, `store:\n  path: ${join(dir, "file", "sub", "store.db")}\n`);
    const r = await runSecurely(["store:info"], { env: { SECURELY_CONF: config } });
    expect(r.stderr).toBe(`securely: cannot create the store folder ${join(dir, "file", "sub")}: ENOTDIR — check store.path in the config and the parent folder's permissions\n`);
    expect(r.code).toBe(1);
  });

  test("an explicit -c that does not exist or is a folder is an error, not the default store", async () => {
    const dir = tempDir();
    const missing = await runSecurely(["settings:list", "-c", join(dir, "nope.yaml")]);
    expect(missing.stderr).toBe(`securely: ${join(dir, "nope.yaml")}: config file not found — pass -c FILE or create securely.config.yaml\n`);
    expect(missing.code).toBe(1);
    const folder = await runSecurely(["settings:list", "-c", dir]);
    expect(folder.stderr).toBe(`securely: ${dir}: cannot read the config file (it is a folder) — pass -c FILE with a readable YAML file\n`);
    expect(folder.code).toBe(1);
  });

  test("store:backup --force onto the live store is refused and the store keeps its data", async () => {
    const { env, dir } = tempProject();
    expect((await runSecurely(["settings:set", "keep=1"], { env })).code).toBe(0);
    const r = await runSecurely(["store:backup", join(dir, "store.db"), "--force"], { env });
    expect(r.stderr).toBe(`securely: backup destination ${join(dir, "store.db")} is the store itself (store.path) — give another file; nothing was changed\n`);
    expect(r.code).toBe(2);
    expect((await runSecurely(["settings:get", "keep"], { env })).stdout).toBe("1\n");
  });

  test("store:backup --force onto a folder says so", async () => {
    const { env, dir } = tempProject();
    const r = await runSecurely(["store:backup", dir, "--force"], { env });
    expect(r.stderr).toBe(`securely: backup destination ${dir} is a folder — give a file path inside it, e.g. ${dir}/securely.db\n`);
    expect(r.code).toBe(1);
  });
});
