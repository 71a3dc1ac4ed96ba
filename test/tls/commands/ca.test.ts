import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSecurely, tempProject } from "../../harness.ts";

describe("tls:ca", () => {
  test("creates the CA once, then shows the same one; --json for scripts", async () => {
    const p = tempProject();
    const first = await runSecurely(["tls:ca"], { env: p.env });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("created a new local CA");
    expect(first.stdout).toContain(`certificate:  ${join(p.dir, "tls/ca.pem")}`);
    expect(first.stdout).toContain("(never printed)");
    const again = await runSecurely(["tls:ca", "--json"], { env: p.env });
    const info = JSON.parse(again.stdout);
    expect(info.created).toBe(false);
    expect(info.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(first.stdout).toContain(info.fingerprint);
    expect(info.cert_path).toBe(join(p.dir, "tls/ca.pem"));
    expect(info.key_type).toBe("ecdsa_p256");
    expect(new Date(info.not_after).getTime() - Date.now()).toBeGreaterThan(3649 * 86_400_000);
  });

  test("key material is never printed, not by tls:ca nor config:show", async () => {
    const p = tempProject();
    const shown = await runSecurely(["tls:ca", "--json"], { env: p.env });
    const key = readFileSync(join(p.dir, "tls/ca-key.pem"), "utf8");
    const keyBody = key.split("\n")[1]!;
    const config = await runSecurely(["config:show"], { env: p.env });
    expect(config.code).toBe(0);
    expect(config.stdout).toContain("key_type: ecdsa_p256");
    for (const out of [shown.stdout + shown.stderr, config.stdout + config.stderr]) {
      expect(out).not.toContain("PRIVATE KEY");
      expect(out).not.toContain(keyBody);
    }
  });

  test("--new moves the old CA aside and creates another", async () => {
    const p = tempProject();
    const a = JSON.parse((await runSecurely(["tls:ca", "--json"], { env: p.env })).stdout);
    const b = JSON.parse((await runSecurely(["tls:ca", "--new", "--json"], { env: p.env })).stdout);
    expect(b.created).toBe(true);
    expect(b.fingerprint).not.toBe(a.fingerprint);
    expect(b.retired).toHaveLength(2);
    expect(readdirSync(join(p.dir, "tls")).filter((f) => f.endsWith(".bak"))).toHaveLength(2);
  });

  test("a corrupted key file: one clear line naming the file, exit 1, nothing replaced", async () => {
    const p = tempProject();
    await runSecurely(["tls:ca"], { env: p.env });
    const keyPath = join(p.dir, "tls/ca-key.pem");
    writeFileSync(keyPath, "garbage\n");
    for (const args of [["tls:ca"], ["tls:cert", "app.test"]]) {
      const r = await runSecurely(args, { env: p.env });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toStartWith(`securely: cannot read CA key ${keyPath}: not a PEM private key`);
    }
    expect(readFileSync(keyPath, "utf8")).toBe("garbage\n");
    expect(existsSync(join(p.dir, "tls/certs"))).toBe(false);
  });

  test("name constraints from config are written into a new CA", async () => {
    const p = tempProject("tls:\n  permitted_names: [test, .localhost]\n");
    const shown = await runSecurely(["tls:ca"], { env: p.env });
    expect(shown.stdout).toContain("may sign:     *.test, *.localhost");
    expect(JSON.parse((await runSecurely(["tls:ca", "--json"], { env: p.env })).stdout).permitted_names).toEqual(["test", "localhost"]);
    const denied = await runSecurely(["tls:cert", "example.com"], { env: p.env });
    expect(denied.code).toBe(2);
    expect(denied.stderr).toContain("host 'example.com' is outside the names the local CA");
    expect(denied.stderr).toContain("(test, localhost)");
    expect((await runSecurely(["tls:cert", "app.test", "localhost"], { env: p.env })).code).toBe(0);
  });
});
