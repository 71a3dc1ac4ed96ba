/** Bad input to queue:* commands: one line, exit 2, nothing changed. */
import { describe, expect, test } from "bun:test";
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
});
