/** Bad input to queue:* commands: one line, exit 2, nothing changed. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSecurely, tempProject } from "../harness.ts";

describe("bad input (queue)", () => {
  test("queue:pause without QUEUE is a usage error", async () => {
    const { env } = tempProject();
    const r = await runSecurely(["queue:pause"], { env });
    expect(r.stderr).toBe("securely: queue:pause: missing argument <QUEUE> — see securely queue:pause --help\n");
    expect(r.code).toBe(2);
  });

  test("a bad flag on a read-only command does not talk about pushing", async () => {
    const { env } = tempProject();
    const r = await runSecurely(["queue:list", "--limit", "abc"], { env });
    expect(r.stderr).toBe('securely: --limit: expected an integer ≥ 1, got "abc" — nothing was changed\n');
    expect(r.code).toBe(2);
  });

  test("queue:push --file with no jobs says so instead of printing nothing", async () => {
    const { env, dir } = tempProject();
    const file = join(dir, "empty.ndjson");
    writeFileSync(file, "\n\n");
    const r = await runSecurely(["queue:push", "--file", file], { env });
    expect(r.stderr).toBe(`securely: queue:push: ${file} holds no jobs — write one JSON object per line, e.g. {"handler":"mail","payload":{}}\n`);
    expect(r.code).toBe(2);
  });
});
