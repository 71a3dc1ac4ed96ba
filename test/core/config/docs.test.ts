import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, runSecurely } from "../../harness.ts";

test("docs/config.md is exactly what config:docs prints (regenerate: securely config:docs > docs/config.md)", async () => {
  const r = await runSecurely(["config:docs"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("| `threads` |");
  expect(readFileSync(join(ROOT, "docs/config.md"), "utf8")).toBe(r.stdout);
});
