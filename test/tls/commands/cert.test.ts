import { describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { runSecurely, tempProject } from "../../harness.ts";

const openssl = (args: string[]) => {
  const p = Bun.spawnSync(["openssl", ...args], { stdout: "pipe", stderr: "pipe" });
  return p.stdout.toString() + p.stderr.toString();
};

describe("tls:cert", () => {
  test("writes a certificate and a 0600 key for DNS names, a wildcard and IPs, verifiable with openssl", async () => {
    const p = tempProject();
    const out = join(p.dir, "out");
    const r = await runSecurely(["tls:cert", "App.test", "*.app.test", "127.0.0.1", "::1", "--out", out, "--days", "30", "--json"], { env: p.env });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.hosts).toEqual(["app.test", "*.app.test", "127.0.0.1", "::1"]);
    expect(info.cert_path).toBe(join(out, "app.test+3.pem"));
    expect(info.key_path).toBe(join(out, "app.test+3-key.pem"));
    expect(info.ca_path).toBe(join(p.dir, "tls/ca.pem"));
    expect(statSync(info.key_path).mode & 0o777).toBe(0o600);
    expect(info.ca_created).toBe(true); // first use creates the CA, as mkcert does
    const human = await runSecurely(["tls:cert", "x.test"], { env: p.env });
    expect(human.stdout).not.toContain("created");
    expect(openssl(["verify", "-CAfile", info.ca_path, "-verify_hostname", "www.app.test", info.cert_path])).toContain(": OK");
    const x = new X509Certificate(await Bun.file(info.cert_path).text());
    expect(Math.round((new Date(x.validTo).getTime() - Date.now()) / 86_400_000)).toBe(30);
    expect(x.checkPrivateKey(require("node:crypto").createPrivateKey(await Bun.file(info.key_path).text()))).toBe(true);
  });

  test("says so when the first certificate created the CA", async () => {
    const p = tempProject();
    const r = await runSecurely(["tls:cert", "a.test"], { env: p.env });
    expect(r.stdout).toContain(`created local CA ${join(p.dir, "tls/ca.pem")} — trust it once with: securely tls:trust`);
  });

  test("defaults: files under tls/certs, one host names them; --key-type rsa_2048 and config key_type", async () => {
    const p = tempProject("tls:\n  key_type: rsa_2048\n  days: 100\n");
    const r = await runSecurely(["tls:cert", "*.site.test", "--json"], { env: p.env });
    const info = JSON.parse(r.stdout);
    expect(info.cert_path).toBe(join(p.dir, "tls/certs/_wildcard.site.test.pem"));
    expect(info.key_type).toBe("rsa_2048");
    expect(new X509Certificate(await Bun.file(info.cert_path).text()).publicKey.asymmetricKeyType).toBe("rsa");
    expect(Math.round((Date.parse(info.not_after) - Date.now()) / 86_400_000)).toBe(100);
    const ec = JSON.parse((await runSecurely(["tls:cert", "b.test", "--key-type", "ecdsa_p384", "--json"], { env: p.env })).stdout);
    expect(ec.key_type).toBe("ecdsa_p384");
  });

  test("--client adds clientAuth: openssl accepts it as a TLS client certificate, and not without the flag", async () => {
    const p = tempProject();
    const c = JSON.parse((await runSecurely(["tls:cert", "client.test", "--client", "--json"], { env: p.env })).stdout);
    const s = JSON.parse((await runSecurely(["tls:cert", "server.test", "--json"], { env: p.env })).stdout);
    expect(c.client).toBe(true);
    expect(openssl(["x509", "-in", c.cert_path, "-noout", "-ext", "extendedKeyUsage"])).toContain("TLS Web Server Authentication, TLS Web Client Authentication");
    expect(openssl(["verify", "-CAfile", c.ca_path, "-purpose", "sslclient", c.cert_path])).toContain(": OK");
    expect(openssl(["verify", "-CAfile", s.ca_path, "-purpose", "sslclient", s.cert_path])).toContain("unsuitable certificate purpose");
  });

  test("warns that *.test will not match in browsers or OpenSSL", async () => {
    const p = tempProject();
    const r = await runSecurely(["tls:cert", "*.test"], { env: p.env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("*.test: browsers and OpenSSL do not match a wildcard directly under a top-level name");
  });

  test.each([
    [["tls:cert", "app.test:8443"], "invalid host 'app.test:8443': looks like a URL or host:port"],
    [["tls:cert", "ok.test", "a..test"], "invalid host 'a..test': empty label"],
    [["tls:cert", "foo.*.test"], "a wildcard must be the whole left-most label"],
    [["tls:cert", "a.test", "--days", "0"], "--days must be a whole number from 1 to 825, got '0'"],
    [["tls:cert", "a.test", "--days", "900"], "--days must be a whole number from 1 to 825"],
    [["tls:cert", "a.test", "--key-type", "dsa"], "--key-type must be one of ecdsa_p256, ecdsa_p384, rsa_2048, rsa_3072, rsa_4096, got 'dsa'"],
    [["tls:cert"], "tls:cert: missing argument <HOST>"],
  ])("bad input %p: exit 2, one line, no CA and no files created", async (args, message) => {
    const p = tempProject();
    const r = await runSecurely(args, { env: p.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(existsSync(join(p.dir, "tls"))).toBe(false);
  });
});
