/** Bad input to settings:* commands: one line naming the file, never "unexpected error". */
import { describe, expect, test } from "bun:test";
import { runSecurely, tempProject } from "../../harness.ts";

describe("bad input (settings)", () => {
  test("settings:import of a folder names it", async () => {
    const { env, dir } = tempProject();
    const r = await runSecurely(["settings:import", dir], { env });
    expect(r.stderr).toBe(`securely: cannot import ${dir}: it is a folder — give a .env, JSON or YAML file, or - for stdin\n`);
    expect(r.code).toBe(1);
  });
});
