/** Bad input to workflow:* commands and workflow files: one line with file:line, exit 1/2. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSecurely, tempProject } from "../harness.ts";

describe("bad input (workflow)", () => {
  test("workflow:prune --days '' is refused (Number('') is 0: it would prune every finished run)", async () => {
    const { env } = tempProject();
    const r = await runSecurely(["workflow:prune", "--days", ""], { env });
    expect(r.stderr).toBe("securely: --days expects a non-negative number, got ''\n");
    expect(r.code).toBe(2);
  });

  test("workflow:work --concurrency 0 is refused", async () => {
    const { env } = tempProject();
    const r = await runSecurely(["workflow:work", "--concurrency", "0", "--stop-when-empty"], { env });
    expect(r.stderr).toBe("securely: --concurrency expects a number ≥ 1, got '0'\n");
    expect(r.code).toBe(2);
  });

  test("a workflow file with a syntax error names file:line:column and the problem", async () => {
    const { env, dir } = tempProject("workflow:\n  files: [bad.ts]\n");
    writeFileSync(join(dir, "bad.ts"), "export default {{{\n");
    const r = await runSecurely(["workflow:run", "x"], { env });
    expect(r.stderr).toBe(`securely: workflow file: ${join(dir, "bad.ts")}:1:17 failed to load: Expected identifier but found "{"\n`);
    expect(r.code).toBe(1);
  });

  test("a workflow file that is a folder says so", async () => {
    const { env, dir } = tempProject("workflow:\n  files: [flows]\n");
    mkdirSync(join(dir, "flows"));
    const r = await runSecurely(["workflow:run", "x"], { env });
    expect(r.stderr).toBe(`securely: workflow file: ${join(dir, "flows")} is a folder — name a .ts or .js file\n`);
    expect(r.code).toBe(1);
  });
});
