/**
 * Payloads cross between securely and PHP's openssl functions in both directions, for every
 * cipher and both Laravel forms (encryptString / encrypt with serialize). The PHP side is
 * fixtures/laravel-encrypter.php, written from Laravel's documented payload format.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { CIPHER_NAMES, Encrypter, findCipher, formatKey, generateKey } from "../../../src/core/crypto/index.ts";

const php = Bun.which("php");
const SCRIPT = join(import.meta.dir, "fixtures/laravel-encrypter.php");
const VALUES = ["hello", "", "päßwörd ✓ 🔑", "with/slashes+and=signs", "line1\nline2", "x".repeat(3000)];

interface Task {
  op: "encrypt" | "decrypt";
  cipher: string;
  key: string;
  serialize: boolean;
  value?: string;
  payload?: string;
}

async function runPhp(tasks: Task[]): Promise<Array<{ ok: boolean; value?: unknown; payload?: string; error?: string }>> {
  const proc = Bun.spawn([php!, SCRIPT], { stdin: new TextEncoder().encode(JSON.stringify(tasks)), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`php failed (${code}): ${err}`);
  return JSON.parse(out);
}

const TITLE = php ? "Laravel interop via PHP openssl" : "Laravel interop via PHP openssl (skipped: php is not installed; apt-get install php-cli)";

describe.skipIf(!php)(TITLE, () => {
  const keys = Object.fromEntries(CIPHER_NAMES.map((c) => [c, generateKey(findCipher(c)!)]));

  test("PHP decrypts what securely encrypts", async () => {
    const tasks: Task[] = [];
    const expected: string[] = [];
    for (const cipher of CIPHER_NAMES) {
      const e = new Encrypter({ key: keys[cipher]!, cipher });
      for (const serialize of [false, true]) {
        for (const v of VALUES) {
          tasks.push({ op: "decrypt", cipher, key: formatKey(keys[cipher]!), serialize, payload: serialize ? e.encrypt(v) : e.encryptString(v) });
          expected.push(v);
        }
      }
    }
    const results = await runPhp(tasks);
    expect(results).toEqual(expected.map((v) => ({ ok: true, value: v })));
  });

  test("securely decrypts what PHP encrypts", async () => {
    const tasks: Task[] = [];
    for (const cipher of CIPHER_NAMES) {
      for (const serialize of [false, true]) for (const v of VALUES) tasks.push({ op: "encrypt", cipher, key: formatKey(keys[cipher]!), serialize, value: v });
    }
    const results = await runPhp(tasks);
    tasks.forEach((t, i) => {
      const r = results[i]!;
      expect(r.ok).toBe(true);
      const e = new Encrypter({ key: keys[t.cipher]!, cipher: t.cipher });
      expect(t.serialize ? e.decrypt(r.payload!) : e.decryptString(r.payload!)).toBe(t.value!);
    });
  });

  test("PHP rejects a securely payload under another key with Laravel's MAC error", async () => {
    const e = new Encrypter({ key: keys["AES-256-CBC"]! });
    const [r] = await runPhp([{ op: "decrypt", cipher: "AES-256-CBC", key: formatKey(generateKey(findCipher("AES-256-CBC")!)), serialize: false, payload: e.encryptString("x") }]);
    expect(r).toEqual({ ok: false, error: "The MAC is invalid." });
  });
});
