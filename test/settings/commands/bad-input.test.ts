/** Bad input to settings:* commands: one line naming the file, never "unexpected error". */
import { describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSecurely, tempProject } from "../../harness.ts";

describe("bad input (settings)", () => {
  test("settings:import of a folder names it", async () => {
    const { env, dir } = tempProject();
    const r = await runSecurely(["settings:import", dir], { env });
    expect(r.stderr).toBe(`securely: cannot import ${dir}: it is a folder — give a .env, JSON or YAML file, or - for stdin\n`);
    expect(r.code).toBe(1);
  });

  test("a missing key file while secrets exist says restore it, not key:generate; the secret stays stored", async () => {
    const { env, dir } = tempProject();
    expect((await runSecurely(["key:generate"], { env })).code).toBe(0);
    expect((await runSecurely(["settings:set", "--secret", "db.password=hunter2"], { env })).code).toBe(0);
    const key = join(dir, "securely.key");
    const saved = readFileSync(key);
    rmSync(key);
    const r = await runSecurely(["settings:get", "db.password"], { env });
    expect(r.stderr).toBe(
      `securely: no app key: 1 secret setting is encrypted, but SECURELY_KEY is not set and ${key} does not exist — restore the key file from a backup (or set SECURELY_KEY to that key); key:generate would make a new key that cannot read them\n`,
    );
    expect(r.code).toBe(1);
    const info = await runSecurely(["key:info"], { env });
    expect(info.stdout.split("\n")[0]).toBe(`app key: MISSING — restore ${key} from a backup (or set SECURELY_KEY); a new key cannot read the secrets`);
    writeFileSync(key, saved, { mode: 0o600 });
    expect((await runSecurely(["settings:get", "db.password"], { env })).stdout).toBe("hunter2\n");
  });
});
