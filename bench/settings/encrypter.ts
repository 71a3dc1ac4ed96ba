/**
 * Encrypt + decrypt round trips per second: securely's Encrypter (node:crypto in Bun) vs the
 * same Laravel payload round trip in PHP's openssl (bench/settings/encrypter-php.php).
 * Bounded: at most N round trips or LIMIT seconds per cipher and side.
 *   npx bun bench/settings/encrypter.ts [N=50000] [LIMIT=3] [SIZE=64]
 */
import { join } from "node:path";
import { CIPHER_NAMES, Encrypter, findCipher, formatKey, generateKey } from "../../src/core/crypto/index.ts";

const [n = 50_000, limit = 3, size = 64] = process.argv.slice(2).map(Number);
const php = Bun.which("php");
const plain = "x".repeat(size);

function securely(cipher: string, key: Buffer): { ops: number; seconds: number } {
  const e = new Encrypter({ key, cipher });
  const start = performance.now();
  let done = 0;
  for (let i = 0; i < n; i++) {
    if (e.decryptString(e.encryptString(plain)) !== plain) throw new Error("round trip failed");
    done++;
    if ((done & 1023) === 0 && performance.now() - start > limit * 1000) break;
  }
  return { ops: done, seconds: (performance.now() - start) / 1000 };
}

async function phpSide(cipher: string, key: Buffer): Promise<{ ops: number; seconds: number } | undefined> {
  if (!php) return undefined;
  const proc = Bun.spawn([php, join(import.meta.dir, "encrypter-php.php"), cipher, formatKey(key), String(n), String(limit), String(size)], { stdout: "pipe" });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`php bench failed: ${out}`);
  return JSON.parse(out);
}

console.log(`round trips of a ${size}-byte value (encryptString + decryptString), up to ${n} or ${limit} s each`);
console.log(["cipher", "securely/s", "php/s", "ratio"].map((h) => h.padEnd(14)).join(""));
for (const cipher of CIPHER_NAMES) {
  const key = generateKey(findCipher(cipher)!);
  const s = securely(cipher, key);
  const p = await phpSide(cipher, key);
  const sRate = s.ops / s.seconds;
  const pRate = p ? p.ops / p.seconds : NaN;
  console.log([cipher, sRate.toFixed(0), p ? pRate.toFixed(0) : "n/a", p ? (sRate / pRate).toFixed(2) + "x" : "n/a"].map((c) => c.padEnd(14)).join(""));
}
