/**
 * Laravel's Encrypter (Illuminate\Encryption\Encrypter) on node:crypto: the same payloads, so a
 * Laravel app holding the same `base64:` key decrypts what securely encrypts and the reverse.
 * Decryption tries the current key, then each previous key (APP_PREVIOUS_KEYS), as Laravel 11 does.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { CIPHERS, DEFAULT_CIPHER, findCipher, type CipherName, type CipherSpec } from "./ciphers.ts";
import { CryptoError } from "./errors.ts";
import { decodePayload, encodePayload, strictBase64 } from "./payload.ts";
import { phpSerialize, phpUnserialize, type PhpScalar } from "./php-serialize.ts";

export interface EncrypterOptions {
  key: Buffer;
  /** Laravel's app.cipher; default AES-256-CBC. */
  cipher?: CipherName | string;
  /** Keys tried after `key` when decrypting, newest first. */
  previousKeys?: Buffer[];
  /** Names where the key came from ("SECURELY_KEY", a file path) for errors — never the key. */
  keySource?: string;
}

export interface Decrypted {
  bytes: Buffer;
  /** 0 when the current key decrypted it, n for previousKeys[n - 1]. */
  keyIndex: number;
}

export class Encrypter {
  readonly cipher: CipherSpec;
  private readonly keys: Buffer[];

  constructor(opts: EncrypterOptions) {
    const cipher = findCipher(opts.cipher ?? DEFAULT_CIPHER);
    if (!cipher) throw CryptoError.unsupportedCipher(String(opts.cipher));
    this.cipher = cipher;
    this.keys = [opts.key, ...(opts.previousKeys ?? [])];
    this.keys.forEach((k, i) => {
      if (k.length !== cipher.keyLength) {
        const source = i === 0 ? (opts.keySource ?? "the key") : `previous key #${i}`;
        throw CryptoError.wrongKeyLength(source, k.length, cipher.name, cipher.keyLength);
      }
    });
  }

  /** Laravel's `encrypt($value)`: PHP-serialize, then encrypt. */
  encrypt(value: PhpScalar): string {
    return this.encryptBytes(phpSerialize(value));
  }

  /** Laravel's `encryptString($value)`: encrypt the UTF-8 bytes as they are. */
  encryptString(value: string): string {
    return this.encryptBytes(Buffer.from(value, "utf8"));
  }

  /** Laravel's `decrypt($payload)`: decrypt, then unserialize the PHP scalar. */
  decrypt(payload: string): PhpScalar {
    return phpUnserialize(this.decryptBytes(payload).bytes);
  }

  /** Laravel's `decryptString($payload)`. */
  decryptString(payload: string): string {
    return this.decryptBytes(payload).bytes.toString("utf8");
  }

  encryptBytes(plain: Buffer): string {
    const c = this.cipher;
    const key = this.keys[0]!;
    const iv = randomIv(c.ivLength);
    const cipher = createCipheriv(c.algorithm, key, iv) as ReturnType<typeof createCipheriv> & { getAuthTag?(): Buffer };
    // openssl_encrypt with options 0 returns the ciphertext base64-encoded; the payload holds that
    const value = Buffer.concat([cipher.update(plain), cipher.final()]).toString("base64");
    const ivB64 = iv.toString("base64");
    const tag = c.aead ? cipher.getAuthTag!().toString("base64") : "";
    const mac = c.aead ? "" : hmac(ivB64, value, key);
    return encodePayload({ iv: ivB64, value, mac, tag });
  }

  /** Decrypt with the first key that authenticates the payload; says which key that was. */
  decryptBytes(payload: string): Decrypted {
    const c = this.cipher;
    const p = decodePayload(payload, c);
    const iv = Buffer.from(p.iv, "base64");
    const tag = p.tag ? strictBase64(p.tag) : undefined;
    if (c.aead && (!tag || tag.length !== 16)) throw CryptoError.cannotDecrypt();
    if (!c.aead && p.tag) throw CryptoError.invalidPayload(`it carries a GCM tag but the cipher is ${c.name} (made with a GCM cipher?)`);
    const value = strictBase64(p.value);
    if (!value) throw CryptoError.invalidPayload("its value is not base64");
    let macMatched = false;
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[i]!;
      if (!c.aead) {
        if (!sameMac(hmac(p.iv, p.value, key), p.mac)) continue;
        macMatched = true;
      }
      const bytes = tryDecrypt(c, key, iv, value, tag);
      if (bytes) return { bytes, keyIndex: i };
    }
    if (!c.aead && !macMatched) throw CryptoError.invalidMac();
    throw CryptoError.cannotDecrypt();
  }

  /** Laravel's Encrypter::supported($key, $cipher). */
  static supported(key: Buffer, cipher: string): boolean {
    const spec = findCipher(cipher);
    return spec !== undefined && key.length === spec.keyLength;
  }
}

/**
 * IVs cut from a pooled block of CSPRNG output: one randomBytes call per 4 KiB instead of one per
 * encryption (the syscall was ~15% of a round trip). Each byte is handed out once, never reused.
 */
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

function randomIv(length: number): Buffer {
  if (poolOffset + length > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  // a copy, so the caller's IV does not alias the pool that later IVs are cut from
  const iv = Buffer.from(pool.subarray(poolOffset, poolOffset + length));
  poolOffset += length;
  return iv;
}

function hmac(iv: string, value: string, key: Buffer): string {
  return createHmac("sha256", key).update(iv + value).digest("hex");
}

function sameMac(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function tryDecrypt(c: CipherSpec, key: Buffer, iv: Buffer, value: Buffer, tag: Buffer | undefined): Buffer | undefined {
  try {
    const d = createDecipheriv(c.algorithm, key, iv) as ReturnType<typeof createDecipheriv> & { setAuthTag?(t: Buffer): void };
    if (c.aead) d.setAuthTag!(tag!);
    return Buffer.concat([d.update(value), d.final()]);
  } catch {
    // wrong key (GCM) or bad padding: Laravel's openssl_decrypt returns false and tries the next key
    return undefined;
  }
}

export { CIPHERS };
