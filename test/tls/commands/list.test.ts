import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { runSecurely, tempProject } from "../../harness.ts";

describe("tls:list and tls:remove", () => {
  test("lists what was issued, filters --expiring, removes by host and by serial prefix with the files", async () => {
    const p = tempProject();
    const a = JSON.parse((await runSecurely(["tls:cert", "a.test", "www.a.test", "--json"], { env: p.env })).stdout);
    const b = JSON.parse((await runSecurely(["tls:cert", "b.test", "--days", "20", "--json"], { env: p.env })).stdout);

    const list = await runSecurely(["tls:list", "--json"], { env: p.env });
    const rows = JSON.parse(list.stdout);
    expect(rows.map((r: any) => [r.hosts, r.source, r.status, r.cert_path])).toEqual([
      [["a.test", "www.a.test"], "cli", "valid", a.cert_path],
      [["b.test"], "cli", "expiring", b.cert_path],
    ]);
    expect(list.stdout).not.toContain("PRIVATE KEY");
    const human = await runSecurely(["tls:list"], { env: p.env });
    expect(human.stdout).toMatch(/^ID\s+HOSTS\s+SOURCE\s+SERIAL\s+NOT_AFTER\s+DAYS_LEFT\s+STATUS\s+CERT_PATH/);
    expect(human.stdout).toContain("a.test,www.a.test");

    const expiring = JSON.parse((await runSecurely(["tls:list", "--expiring", "--json"], { env: p.env })).stdout);
    expect(expiring.map((r: any) => r.hosts[0])).toEqual(["b.test"]);
    expect(JSON.parse((await runSecurely(["tls:list", "--expiring", "--within", "5", "--json"], { env: p.env })).stdout)).toEqual([]);

    const byHost = await runSecurely(["tls:remove", "WWW.a.test"], { env: p.env });
    expect(byHost.code).toBe(0);
    expect(byHost.stdout).toContain(`removed ${a.serial} (a.test, www.a.test)`);
    expect(existsSync(a.cert_path) || existsSync(a.key_path)).toBe(false);

    const bySerial = await runSecurely(["tls:remove", b.serial.slice(0, 8), "--keep-files", "--json"], { env: p.env });
    expect(JSON.parse(bySerial.stdout)).toEqual({ removed: [{ serial: b.serial, hosts: ["b.test"] }], deleted_files: [] });
    expect(existsSync(b.cert_path)).toBe(true);
    expect(JSON.parse((await runSecurely(["tls:list", "--json"], { env: p.env })).stdout)).toEqual([]);
  });

  test("removing something unknown is an error that points at tls:list", async () => {
    const p = tempProject();
    const r = await runSecurely(["tls:remove", "nothing.test"], { env: p.env });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("securely: no issued certificate matches 'nothing.test' — see securely tls:list for serials and hosts");
  });

  test("reissuing to the same files replaces the old row", async () => {
    const p = tempProject();
    await runSecurely(["tls:cert", "a.test"], { env: p.env });
    await runSecurely(["tls:cert", "a.test"], { env: p.env });
    expect(JSON.parse((await runSecurely(["tls:list", "--json"], { env: p.env })).stdout)).toHaveLength(1);
  });
});
