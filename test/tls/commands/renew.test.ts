import { describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSecurely, tempProject } from "../../harness.ts";

const serialOf = (path: string) => new X509Certificate(readFileSync(path)).serialNumber.toLowerCase();

describe("tls:renew", () => {
  test("reissues only what expires within --within days, into the same files, keeping hosts and key type", async () => {
    const p = tempProject();
    const soon = JSON.parse((await runSecurely(["tls:cert", "soon.test", "*.soon.test", "--days", "10", "--key-type", "rsa_2048", "--json"], { env: p.env })).stdout);
    const later = JSON.parse((await runSecurely(["tls:cert", "later.test", "--json"], { env: p.env })).stdout);
    const r = await runSecurely(["tls:renew", "--json"], { env: p.env });
    expect(r.code).toBe(0);
    const { renewed } = JSON.parse(r.stdout);
    expect(renewed.map((x: any) => [x.hosts, x.cert_path])).toEqual([[["soon.test", "*.soon.test"], soon.cert_path]]);
    expect(serialOf(soon.cert_path)).toBe(renewed[0].serial);
    expect(serialOf(later.cert_path)).toBe(later.serial);
    const cert = new X509Certificate(readFileSync(soon.cert_path));
    expect(cert.publicKey.asymmetricKeyType).toBe("rsa");
    expect(cert.checkPrivateKey(require("node:crypto").createPrivateKey(readFileSync(soon.key_path)))).toBe(true);
    expect(statSync(soon.key_path).mode & 0o777).toBe(0o600);
    const list = JSON.parse((await runSecurely(["tls:list", "--json"], { env: p.env })).stdout);
    expect(list.map((x: any) => x.serial).sort()).toEqual([renewed[0].serial, later.serial].sort());
    expect((await runSecurely(["tls:renew"], { env: p.env })).stdout.trim()).toBe("nothing to renew (no tls:cert certificate expires within 30 days)");
  });

  test("after tls:ca --new, certificates from the old CA are renewed whatever their expiry", async () => {
    const p = tempProject();
    const a = JSON.parse((await runSecurely(["tls:cert", "a.test", "--json"], { env: p.env })).stdout);
    await runSecurely(["tls:ca", "--new"], { env: p.env });
    const { renewed } = JSON.parse((await runSecurely(["tls:renew", "--json"], { env: p.env })).stdout);
    expect(renewed).toHaveLength(1);
    const ca = new X509Certificate(readFileSync(join(p.dir, "tls/ca.pem")));
    expect(new X509Certificate(readFileSync(a.cert_path)).checkIssued(ca)).toBe(true);
  });

  test("--all renews everything; bad --within is a usage error", async () => {
    const p = tempProject();
    await runSecurely(["tls:cert", "a.test"], { env: p.env });
    expect(JSON.parse((await runSecurely(["tls:renew", "--all", "--json"], { env: p.env })).stdout).renewed).toHaveLength(1);
    const bad = await runSecurely(["tls:renew", "--within", "soon"], { env: p.env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--within must be a whole number of days, got 'soon'");
  });
});

describe("tls:cert output errors", () => {
  test("an --out that cannot be written is one clear line", async () => {
    const p = tempProject();
    const blocker = join(p.dir, "file");
    writeFileSync(blocker, "");
    const r = await runSecurely(["tls:cert", "a.test", "--out", join(blocker, "sub")], { env: p.env });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^securely: cannot write certificate files .*\/file\/sub\/a\.test\.pem, .*: (ENOTDIR|EEXIST) — choose a writable folder with --out$/);
  });
});
