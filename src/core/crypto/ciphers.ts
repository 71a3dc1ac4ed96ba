/**
 * The ciphers Laravel's Encrypter supports (Illuminate\Encryption\Encrypter::$supportedCiphers),
 * spelled as Laravel's `app.cipher` spells them. CBC ciphers are authenticated with an
 * HMAC-SHA256 `mac`; GCM ciphers carry a 16-byte auth `tag` and an empty `mac`.
 */
export type CipherName = "AES-128-CBC" | "AES-256-CBC" | "AES-128-GCM" | "AES-256-GCM";

export interface CipherSpec {
  name: CipherName;
  /** node:crypto algorithm name (OpenSSL's, lower case, as PHP's openssl_* take it). */
  algorithm: "aes-128-cbc" | "aes-256-cbc" | "aes-128-gcm" | "aes-256-gcm";
  /** Key length in bytes. */
  keyLength: 16 | 32;
  /** IV length in bytes: 16 for CBC, 12 for GCM (openssl_cipher_iv_length). */
  ivLength: 16 | 12;
  aead: boolean;
}

export const CIPHERS: Record<CipherName, CipherSpec> = {
  "AES-128-CBC": { name: "AES-128-CBC", algorithm: "aes-128-cbc", keyLength: 16, ivLength: 16, aead: false },
  "AES-256-CBC": { name: "AES-256-CBC", algorithm: "aes-256-cbc", keyLength: 32, ivLength: 16, aead: false },
  "AES-128-GCM": { name: "AES-128-GCM", algorithm: "aes-128-gcm", keyLength: 16, ivLength: 12, aead: true },
  "AES-256-GCM": { name: "AES-256-GCM", algorithm: "aes-256-gcm", keyLength: 32, ivLength: 12, aead: true },
};

export const CIPHER_NAMES = Object.keys(CIPHERS) as CipherName[];

/** Laravel's default `app.cipher`. */
export const DEFAULT_CIPHER: CipherName = "AES-256-CBC";

/** Look a cipher up case-insensitively (Laravel lower-cases it too); undefined when unknown. */
export function findCipher(name: string): CipherSpec | undefined {
  return CIPHERS[name.toUpperCase() as CipherName];
}
