/**
 * Laravel's encrypted payload: base64 of the JSON object `{"iv","value","mac","tag"}` where iv and
 * value (the ciphertext) are base64, mac is hex HMAC-SHA256 over `iv . value` (empty for GCM) and
 * tag is the base64 GCM auth tag (empty for CBC). Laravel ≥ 9 writes slashes unescaped; older
 * versions escaped them (`\/`) and had no `tag` — JSON.parse reads both.
 */
import { CryptoError } from "./errors.ts";
import type { CipherSpec } from "./ciphers.ts";

export interface Payload {
  iv: string;
  value: string;
  mac: string;
  tag?: string;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64 decode (PHP's base64_decode($s, true)); undefined when not valid base64. */
export function strictBase64(s: string): Buffer | undefined {
  if (!BASE64.test(s) || s.length % 4 === 1) return undefined;
  return Buffer.from(s, "base64");
}

/** Encode in the key order Laravel's compact('iv', 'value', 'mac', 'tag') produces. */
export function encodePayload(p: Required<Payload>): string {
  return Buffer.from(JSON.stringify({ iv: p.iv, value: p.value, mac: p.mac, tag: p.tag })).toString("base64");
}

/** Decode and shape-check a payload (Encrypter::getJsonPayload + validPayload). */
export function decodePayload(text: string, cipher: CipherSpec): Payload {
  const raw = text.trim();
  if (raw === "") throw CryptoError.invalidPayload("it is empty");
  // PHP's lenient base64_decode ignores stray characters, but a clean error is kinder than a JSON one
  const b64 = raw.replace(/[\r\n]/g, "");
  if (!/^[A-Za-z0-9+/=_-]*$/.test(b64)) throw CryptoError.invalidPayload("it is not base64");
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(b64, "base64").toString("utf8"));
  } catch {
    throw CryptoError.invalidPayload("it does not decode to JSON (truncated or not an encrypted value?)");
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) throw CryptoError.invalidPayload("it does not decode to a JSON object");
  const p = json as Record<string, unknown>;
  for (const field of ["iv", "value", "mac"]) {
    if (typeof p[field] !== "string") throw CryptoError.invalidPayload(`the '${field}' field is missing`);
  }
  if (p.tag !== undefined && p.tag !== null && typeof p.tag !== "string") throw CryptoError.invalidPayload("the 'tag' field is not a string");
  const iv = strictBase64(p.iv as string);
  if (!iv || iv.length !== cipher.ivLength) {
    throw CryptoError.invalidPayload(`its iv is not ${cipher.ivLength} bytes, as ${cipher.name} needs (made with another cipher?)`);
  }
  return { iv: p.iv as string, value: p.value as string, mac: p.mac as string, tag: (p.tag as string | null | undefined) ?? undefined };
}
