import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { settingsProject } from "../project.ts";

const php = Bun.which("php");

describe("crypt:encrypt / crypt:decrypt", () => {
  test("round trips raw and serialized values, from arguments and from stdin", async () => {
    const p = settingsProject();
    await p.ok(["key:generate"]);
    const payload = (await p.ok(["crypt:encrypt", "hello world"])).trim();
    expect(JSON.parse(Buffer.from(payload, "base64").toString())).toContainAllKeys(["iv", "value", "mac", "tag"]);
    expect(await p.ok(["crypt:decrypt", payload])).toBe("hello world\n");
    const serialized = (await p.ok(["crypt:encrypt", "-", "--serialize"], { stdin: "from stdin\n" })).trim();
    expect(await p.ok(["crypt:decrypt", "-", "--unserialize"], { stdin: serialized + "\n" })).toBe("from stdin\n");
    expect(await p.ok(["crypt:decrypt", serialized])).toBe('s:10:"from stdin";\n');
  });

  test("wrong key, tampering, truncation and unknown cipher are one-line errors", async () => {
    const p = settingsProject();
    const k1 = (await p.ok(["key:generate", "--show"])).trim();
    const k2 = (await p.ok(["key:generate", "--show"])).trim();
    const payload = (await p.ok(["crypt:encrypt", "s3cret"], { env: { SECURELY_KEY: k1 } })).trim();
    const cases: Array<[string[], Record<string, string>, string]> = [
      [["crypt:decrypt", payload], { SECURELY_KEY: k2 }, "securely: the MAC is invalid: the payload was made with another key or was changed\n"],
      [["crypt:decrypt", payload.slice(0, 40)], { SECURELY_KEY: k1 }, "securely: the payload is invalid: it does not decode to JSON (truncated or not an encrypted value?) — pass the whole base64 string that encrypt printed\n"],
      [["crypt:decrypt", payload], { SECURELY_KEY: k1, SECURELY_CIPHER: "AES-192-CBC" }, "securely: unsupported cipher 'AES-192-CBC' — use one of AES-128-CBC, AES-256-CBC, AES-128-GCM, AES-256-GCM (crypto.cipher or SECURELY_CIPHER)\n"],
      [["crypt:decrypt", payload], { SECURELY_KEY: k1, SECURELY_CIPHER: "AES-128-CBC" }, "securely: the app key from SECURELY_KEY is 32 bytes but AES-128-CBC needs 16 — generate a matching key with `securely key:generate --show`, or set crypto.cipher to the key's cipher\n"],
    ];
    for (const [args, env, stderr] of cases) {
      const r = await p.run(args, { env });
      expect([r.code, r.stdout, r.stderr]).toEqual([1, "", stderr]);
    }
    // the previous key still decrypts during a rotation
    expect(await p.ok(["crypt:decrypt", payload], { env: { SECURELY_KEY: k2, SECURELY_PREVIOUS_KEYS: k1 } })).toBe("s3cret\n");
  });

  test.skipIf(!php)("decrypts a payload PHP's openssl made, and PHP decrypts ours (skipped without php)", async () => {
    const p = settingsProject();
    const key = (await p.ok(["key:generate", "--show"], { env: { SECURELY_CIPHER: "AES-256-GCM" } })).trim();
    const env = { SECURELY_KEY: key, SECURELY_CIPHER: "AES-256-GCM" };
    const runPhp = async (tasks: unknown[]) => {
      const proc = Bun.spawn([php!, join(import.meta.dir, "../../core/crypto/fixtures/laravel-encrypter.php")], { stdin: new TextEncoder().encode(JSON.stringify(tasks)), stdout: "pipe" });
      return JSON.parse(await new Response(proc.stdout).text());
    };
    const [made] = await runPhp([{ op: "encrypt", cipher: "AES-256-GCM", key, serialize: true, value: "from laravel" }]);
    expect(await p.ok(["crypt:decrypt", made.payload, "--unserialize"], { env })).toBe("from laravel\n");
    const ours = (await p.ok(["crypt:encrypt", "from securely"], { env })).trim();
    expect(await runPhp([{ op: "decrypt", cipher: "AES-256-GCM", key, serialize: false, payload: ours }])).toEqual([{ ok: true, value: "from securely" }]);
  });
});
