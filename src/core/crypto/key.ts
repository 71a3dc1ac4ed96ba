/**
 * App keys as Laravel writes them: `base64:` followed by the base64 of the raw key bytes
 * (`php artisan key:generate`). A key without the prefix is used as raw bytes, as Laravel does.
 */
import { createHash, randomBytes } from "node:crypto";
import { CryptoError } from "./errors.ts";
import type { CipherSpec } from "./ciphers.ts";

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Parse `base64:…` (or a raw key string); `source` names where it came from, for errors. */
export function parseKey(text: string, source: string): Buffer {
  const t = text.trim();
  if (t === "") throw CryptoError.invalidKey(source, "it is empty");
  if (!t.startsWith("base64:")) return Buffer.from(t, "utf8");
  const b64 = t.slice("base64:".length);
  if (!BASE64.test(b64) || b64.length % 4 === 1) throw CryptoError.invalidKey(source, "the text after base64: is not valid base64");
  const key = Buffer.from(b64, "base64");
  if (key.length === 0) throw CryptoError.invalidKey(source, "it decodes to zero bytes");
  return key;
}

/** `base64:…`, the form Laravel's APP_KEY and securely's key file hold. */
export function formatKey(key: Buffer): string {
  return "base64:" + key.toString("base64");
}

/** A fresh random key of the cipher's length (Encrypter::generateKey). */
export function generateKey(cipher: CipherSpec): Buffer {
  return randomBytes(cipher.keyLength);
}

/**
 * A short, non-reversible name for a key (first 8 hex of SHA-256 over a fixed label and the key),
 * so `key:info` and errors can say which key without showing it.
 */
export function keyFingerprint(key: Buffer): string {
  return createHash("sha256").update("securely key fingerprint\0").update(key).digest("hex").slice(0, 8);
}
