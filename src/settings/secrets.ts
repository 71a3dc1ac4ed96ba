/**
 * The settings' view of the app key: encrypt and decrypt secret values, and hash values for the
 * history. A secret's hash is an HMAC under a key derived from the app key, so the history can
 * show "changed" without giving anyone a way to test guesses offline; plain values use SHA-256.
 */
import { createHash, createHmac } from "node:crypto";
import { keyringEncrypter, type Encrypter, type Keyring } from "../core/crypto/index.ts";

const HASH_CHARS = 16;

export class Secrets {
  readonly encrypter: Encrypter;
  private readonly hashKey: Buffer;

  constructor(readonly ring: Keyring, cipher: string) {
    this.encrypter = keyringEncrypter(ring, cipher);
    this.hashKey = createHmac("sha256", ring.current).update("securely settings history hash").digest();
  }

  /** Secrets are stored as Laravel's encryptString payload, readable by Laravel's decryptString. */
  encrypt(value: string): string {
    return this.encrypter.encryptString(value);
  }

  /** The plaintext and whether a previous key (not the current one) was needed. */
  decrypt(payload: string): { value: string; byPreviousKey: boolean } {
    const d = this.encrypter.decryptBytes(payload);
    return { value: d.bytes.toString("utf8"), byPreviousKey: d.keyIndex > 0 };
  }

  hashSecret(value: string): string {
    return createHmac("sha256", this.hashKey).update(value).digest("hex").slice(0, HASH_CHARS);
  }
}

export function hashPlain(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, HASH_CHARS);
}
