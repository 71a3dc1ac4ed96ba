import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../../harness.ts";
import { isAlive, readPid, removePidIfOwned, runningPid, writePid } from "../../../src/core/server/pid-file.ts";
import { statusPath } from "../../../src/core/server/status-file.ts";

describe("pid file", () => {
  test("written atomically, removed only by its owner, stale pids are not running", () => {
    const f = join(tempDir(), "run/securely.pid");
    writePid(f, 4242);
    expect(readPid(f)).toBe(4242);
    expect(removePidIfOwned(f, 1)).toBe(false);
    expect(readPid(f)).toBe(4242);
    expect(removePidIfOwned(f, 4242)).toBe(true);
    expect(readPid(f)).toBeUndefined();
    writePid(f, 2 ** 22 + 1); // above pid_max: never alive
    expect(runningPid(f)).toBeUndefined();
    expect(isAlive(process.pid)).toBe(true);
    expect(statusPath("/run/securely.pid")).toBe("/run/securely.status.json");
  });
});
