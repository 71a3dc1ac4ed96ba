/** Bad input to cache:* commands must never widen into deleting more than asked. */
import { describe, expect, test } from "bun:test";
import { runSecurely, tempProject } from "../../harness.ts";

describe("bad input (cache)", () => {
  test("cache:flush --tags '' refuses instead of flushing the whole store", async () => {
    const { env } = tempProject();
    expect((await runSecurely(["cache:put", "keep", "1"], { env })).code).toBe(0);
    const r = await runSecurely(["cache:flush", "--tags", ""], { env });
    expect(r.stderr).toBe("securely: --tags is empty — give tag names (--tags a,b), or leave --tags out to flush the whole store\n");
    expect(r.code).toBe(2);
    expect((await runSecurely(["cache:get", "keep"], { env })).stdout).toBe("1\n");
  });
});
