import { describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findCipher, formatKey, generateKey, loadKeyring, readKeyFile, requireKeyring, writeKeyFile } from "../../../src/core/crypto/index.ts";
import { tempDir } from "../../harness.ts";

const cbc = findCipher("AES-256-CBC")!;

describe("keyring", () => {
  test("writeKeyFile writes an owner-only file, current key first, read back by readKeyFile", () => {
    const path = join(tempDir(), "sub", "securely.key");
    const [a, b] = [generateKey(cbc), generateKey(cbc)];
    writeKeyFile(path, [a, b]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).toBe(`${formatKey(a)}\n${formatKey(b)}\n`);
    expect(readKeyFile(path)).toEqual([a, b]);
  });

  test("loadKeyring prefers SECURELY_KEY, then the key file; previous keys are env's then the file's, without duplicates", () => {
    const path = join(tempDir(), "securely.key");
    const [f1, f2, e1, p1] = [generateKey(cbc), generateKey(cbc), generateKey(cbc), generateKey(cbc)];
    expect(loadKeyring({ env: {}, keyFile: path })).toBeUndefined();
    writeKeyFile(path, [f1, f2]);
    expect(loadKeyring({ env: {}, keyFile: path })).toEqual({ current: f1, previous: [f2], source: path, fromEnv: false, keyFile: path });
    const env = { SECURELY_KEY: formatKey(e1), SECURELY_PREVIOUS_KEYS: `${formatKey(p1)}, ${formatKey(e1)}` };
    expect(loadKeyring({ env, keyFile: path })).toEqual({ current: e1, previous: [p1, f1, f2], source: "SECURELY_KEY", fromEnv: true, keyFile: path });
  });

  test("a key file others can read is refused with the chmod to run", () => {
    const path = join(tempDir(), "securely.key");
    writeFileSync(path, formatKey(generateKey(cbc)) + "\n");
    chmodSync(path, 0o644);
    expect(() => readKeyFile(path)).toThrow(`key file ${path} is readable by other users (mode 0644) — run chmod 600 ${path}`);
  });

  test("no key anywhere says how to make one; a bad previous key names its position", () => {
    const path = join(tempDir(), "securely.key");
    expect(() => requireKeyring({ env: {}, keyFile: path })).toThrow(`no app key: SECURELY_KEY is not set and ${path} does not exist — run \`securely key:generate\``);
    expect(() => loadKeyring({ env: { SECURELY_KEY: formatKey(generateKey(cbc)), SECURELY_PREVIOUS_KEYS: "base64:%%%" }, keyFile: path })).toThrow(
      "the app key from SECURELY_PREVIOUS_KEYS item 1 is invalid",
    );
  });
});
