/** Bad input to dns:query: one line naming the flag, exit 2. */
import { describe, expect, test } from "bun:test";
import { runSecurely, tempProject } from "../harness.ts";

describe("bad input (dns)", () => {
  test("dns:query --timeout abc is a usage error (not NaN ms)", async () => {
    const { env } = tempProject();
    const r = await runSecurely(["dns:query", "example.com", "--server", "127.0.0.1:1", "--timeout", "abc"], { env });
    expect(r.stderr).toBe("securely: --timeout must be a whole number of milliseconds ≥ 1, got 'abc'\n");
    expect(r.code).toBe(2);
  });

  test("dns:query --server with a port past 65535 is a usage error", async () => {
    const { env } = tempProject();
    const r = await runSecurely(["dns:query", "example.com", "--server", "127.0.0.1:99999"], { env });
    expect(r.stderr).toBe('securely: --server: port must be 1-65535, got 99999 in "127.0.0.1:99999"\n');
    expect(r.code).toBe(2);
  });
});
