import { describe, expect, test } from "bun:test";
import { X509Certificate, createHash, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createCa } from "../../../src/tls/ca.ts";
import { issueLeaf } from "../../../src/tls/issue.ts";
import { permittedDnsOf } from "../../../src/tls/x509/build.ts";
import type { KeyType } from "../../../src/tls/types.ts";
import { tempDir } from "../../harness.ts";

const DAY = 86_400_000;

function openssl(args: string[]): { code: number | null; out: string } {
  const p = Bun.spawnSync(["openssl", ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
}

/** The value printed under an extension heading in `openssl x509 -text`. */
function ext(text: string, heading: string): string {
  const m = new RegExp(`${heading}:( critical)? *\\n\\s+(.+)`).exec(text);
  return m ? `${m[2]!.trim()}${m[1] ? " [critical]" : ""}` : "";
}

/** RFC 5280 §4.2.1.2 method 1, computed independently: SHA-1 of the subjectPublicKey bits. */
function expectedKeyId(pub: KeyObject): string {
  const bits =
    pub.asymmetricKeyType === "rsa"
      ? (pub.export({ type: "pkcs1", format: "der" }) as Buffer)
      : (pub.export({ type: "spki", format: "der" }) as Buffer).subarray(pub.asymmetricKeyDetails?.namedCurve === "secp384r1" ? -97 : -65);
  return createHash("sha1").update(bits).digest("hex").toUpperCase().replace(/(..)(?!$)/g, "$1:");
}

const SIG: Record<KeyType, string> = {
  ecdsa_p256: "ecdsa-with-SHA256",
  ecdsa_p384: "ecdsa-with-SHA384",
  rsa_2048: "sha256WithRSAEncryption",
  rsa_3072: "sha256WithRSAEncryption",
  rsa_4096: "sha256WithRSAEncryption",
};

describe("buildCertificate via createCa/issueLeaf", () => {
  for (const keyType of ["ecdsa_p256", "ecdsa_p384", "rsa_2048"] as KeyType[]) {
    test(`${keyType}: CA and leaf carry the right extensions and verify with openssl`, () => {
      const dir = tempDir();
      const now = Date.now();
      const ca = createCa(dir, { days: 3650, keyType, now });
      const leaf = issueLeaf(ca, ["app.test", "*.app.test", "10.0.0.1", "::1"], { days: 90, keyType, now });
      const leafPath = join(dir, "leaf.pem");
      writeFileSync(leafPath, leaf.certPem);

      const caText = openssl(["x509", "-in", ca.certPath, "-noout", "-text"]).out;
      expect(ext(caText, "X509v3 Basic Constraints")).toBe("CA:TRUE, pathlen:0 [critical]");
      expect(ext(caText, "X509v3 Key Usage")).toBe("Digital Signature, Certificate Sign, CRL Sign [critical]");
      const caSki = ext(caText, "X509v3 Subject Key Identifier");
      expect(caSki).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
      expect(ext(caText, "X509v3 Authority Key Identifier")).toBe(caSki);
      expect(caSki).toBe(expectedKeyId(ca.x509.publicKey));

      const text = openssl(["x509", "-in", leafPath, "-noout", "-text"]).out;
      expect(text).toContain(`Signature Algorithm: ${SIG[keyType]}`);
      expect(text).toContain("Subject: O = securely development certificate, CN = app.test");
      expect(ext(text, "X509v3 Basic Constraints")).toBe("CA:FALSE [critical]");
      expect(ext(text, "X509v3 Key Usage")).toBe("Digital Signature, Key Encipherment [critical]");
      expect(ext(text, "X509v3 Extended Key Usage")).toBe("TLS Web Server Authentication");
      expect(ext(text, "X509v3 Subject Alternative Name")).toBe("DNS:app.test, DNS:*.app.test, IP Address:10.0.0.1, IP Address:0:0:0:0:0:0:0:1");
      expect(ext(text, "X509v3 Authority Key Identifier")).toBe(caSki);
      expect(ext(text, "X509v3 Subject Key Identifier")).toBe(expectedKeyId(new X509Certificate(leaf.certPem).publicKey));

      expect(openssl(["verify", "-CAfile", ca.certPath, "-purpose", "sslserver", "-verify_hostname", "x.app.test", leafPath]).out).toContain(": OK");
      const x = new X509Certificate(leaf.certPem);
      expect(x.serialNumber.toLowerCase()).toBe(leaf.serial);
      expect(leaf.serial).toMatch(/^[0-7][0-9a-f]{31}$/);
      expect(new Date(x.validTo).getTime()).toBe(Math.floor((now + 90 * DAY) / 1000) * 1000);
    });
  }

  test("a leaf never outlives its CA", () => {
    const now = Date.now();
    const ca = createCa(tempDir(), { days: 10, keyType: "ecdsa_p256", now });
    const leaf = issueLeaf(ca, ["a.test"], { days: 365, keyType: "ecdsa_p256", now });
    expect(leaf.notAfter.getTime()).toBe(new Date(ca.x509.validTo).getTime());
  });

  test("a name-constrained CA: openssl enforces it, and issuing outside it is refused up front", () => {
    const dir = tempDir();
    const now = Date.now();
    const ca = createCa(dir, { days: 3650, keyType: "ecdsa_p256", now, permittedNames: ["test", "localhost"] });
    expect(permittedDnsOf(ca.certPem)).toEqual(["test", "localhost"]);
    expect(openssl(["x509", "-in", ca.certPath, "-noout", "-text"]).out).toMatch(/Name Constraints: critical\s+Permitted:\s+DNS:test\s+DNS:localhost/);
    const ok = issueLeaf(ca, ["app.test", "*.x.test", "localhost", "127.0.0.1"], { days: 30, keyType: "ecdsa_p256", now });
    writeFileSync(join(dir, "ok.pem"), ok.certPem);
    expect(openssl(["verify", "-CAfile", ca.certPath, join(dir, "ok.pem")]).out).toContain(": OK");
    expect(() => issueLeaf(ca, ["example.com"], { days: 30, keyType: "ecdsa_p256", now })).toThrow("host 'example.com' is outside the names the local CA");
    expect(() => issueLeaf(ca, ["nottest"], { days: 30, keyType: "ecdsa_p256", now })).toThrow("outside");
  });

  test("an unconstrained CA reports no permitted names", () => {
    expect(permittedDnsOf(createCa(tempDir(), { days: 1, keyType: "ecdsa_p256", now: Date.now() }).certPem)).toEqual([]);
  });
});
