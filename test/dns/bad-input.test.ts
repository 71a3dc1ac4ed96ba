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

  test("dns:record:add refuses an owner name a zone file could not read back; the zone keeps its records", async () => {
    const { env } = tempProject();
    expect((await runSecurely(["dns:zone:add", "example.com"], { env })).code).toBe(0);
    expect((await runSecurely(["dns:record:add", "example.com", "www", "A", "192.0.2.1"], { env })).code).toBe(0);
    const r = await runSecurely(["dns:record:add", "example.com", "bad name", "A", "192.0.2.2"], { env });
    expect(r.stderr).toBe('securely: invalid owner name "bad name": it contains " " — use letters, digits, - and _ in dot-separated labels (@ for the apex, *.name for a wildcard)\n');
    expect(r.code).toBe(2);
    const list = await runSecurely(["dns:record:list", "example.com", "--json"], { env });
    expect(list.stdout).toContain("192.0.2.1");
    expect(list.stdout).not.toContain("192.0.2.2");
  });

  test("dns:zone:add --ns with a space is refused and no zone is created", async () => {
    const { env } = tempProject();
    const r = await runSecurely(["dns:zone:add", "example.com", "--ns", "bad ns"], { env });
    expect(r.stderr).toBe('securely: --ns "bad ns" is not a domain name: it contains " " — e.g. --ns ns1.example.com\n');
    expect(r.code).toBe(2);
    expect((await runSecurely(["dns:zone:export", "example.com"], { env })).code).toBe(1);
  });
});
