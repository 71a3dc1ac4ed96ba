import { describe, expect, test } from "bun:test";
import { readFileSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { caPaths, createCa, keyTooOpen, loadCa, retireCa } from "../../src/tls/ca.ts";
import { tempDir } from "../harness.ts";

const DAY = 86_400_000;
const make = (dir = join(tempDir(), "tls"), days = 3650) => ({ dir, ca: createCa(dir, { days, keyType: "ecdsa_p256", now: Date.now() }) });

function codeOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e: any) {
    return { code: e.code, message: e.message };
  }
  return { message: "no error" };
}

describe("createCa / loadCa", () => {
  test("creates a 0700 folder, a 0600 key and a certificate that loads back", () => {
    const { dir, ca } = make();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(ca.keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(ca.certPath).mode & 0o777).toBe(0o644);
    const loaded = loadCa(dir, Date.now());
    expect(loaded.info.fingerprint).toBe(ca.info.fingerprint);
    expect(loaded.info.subject).toContain("O=securely local CA");
    expect(keyTooOpen(dir)).toBe(false);
  });

  test("missing CA", () => {
    const dir = tempDir();
    expect(codeOf(() => loadCa(dir, Date.now()))).toEqual({ code: "TLS_CA_MISSING", message: `no local CA in ${dir} — create it with \`securely tls:ca\`` });
  });

  test("only one of the two files present", () => {
    const { dir } = make();
    const { certPath, keyPath } = caPaths(dir);
    rmSync(keyPath);
    const e = codeOf(() => loadCa(dir, Date.now()));
    expect(e.code).toBe("TLS_CA_INCOMPLETE");
    expect(e.message).toContain(`${certPath} exists but ${keyPath} is missing`);
  });

  test("a corrupted key file is named, with what to do", () => {
    const { dir, ca } = make();
    writeFileSync(ca.keyPath, "-----BEGIN PRIVATE KEY-----\nnot base64 at all!!\n-----END PRIVATE KEY-----\n");
    const e = codeOf(() => loadCa(dir, Date.now()));
    expect(e.code).toBe("TLS_UNREADABLE");
    expect(e.message).toStartWith(`cannot read CA key ${ca.keyPath}: not a PEM private key`);
    expect(e.message).toContain("restore the file from a backup");
  });

  test("a truncated certificate file is named", () => {
    const { dir, ca } = make();
    writeFileSync(ca.certPath, readFileSync(ca.certPath, "utf8").slice(0, 200));
    const e = codeOf(() => loadCa(dir, Date.now()));
    expect(e.code).toBe("TLS_UNREADABLE");
    expect(e.message).toStartWith(`cannot read CA certificate ${ca.certPath}: not a PEM certificate`);
  });

  test("a key from another CA is a mismatch", () => {
    const a = make();
    const b = make();
    writeFileSync(a.ca.keyPath, readFileSync(b.ca.keyPath));
    expect(codeOf(() => loadCa(a.dir, Date.now())).code).toBe("TLS_CA_KEY_MISMATCH");
  });

  test("an expired CA is refused", () => {
    const { dir } = make(undefined, 1);
    const e = codeOf(() => loadCa(dir, Date.now() + 2 * DAY));
    expect(e.code).toBe("TLS_CA_EXPIRED");
    expect(e.message).toContain("tls:ca --new");
  });

  test("a key readable by others is detected", () => {
    const { dir, ca } = make();
    chmodSync(ca.keyPath, 0o644);
    expect(keyTooOpen(dir)).toBe(true);
  });

  test("retireCa moves both files aside so a new CA can be made", () => {
    const { dir, ca } = make();
    const moved = retireCa(dir, Date.now());
    expect(moved).toHaveLength(2);
    expect(codeOf(() => loadCa(dir, Date.now())).code).toBe("TLS_CA_MISSING");
    const fresh = createCa(dir, { days: 10, keyType: "ecdsa_p256", now: Date.now() });
    expect(fresh.info.fingerprint).not.toBe(ca.info.fingerprint);
  });
});
