/**
 * Encryption failures as one line each. Messages never contain a key, a plaintext or the payload
 * itself: they say which check failed and the likely cause.
 */
import { SecurelyError } from "../errors.ts";
import { CIPHER_NAMES } from "./ciphers.ts";

export class CryptoError extends SecurelyError {
  constructor(message: string, code: string, hint?: string) {
    super(message, { code, hint });
    this.name = "CryptoError";
  }

  /** Laravel: "The MAC is invalid." */
  static invalidMac(): CryptoError {
    return new CryptoError("the MAC is invalid: the payload was made with another key or was changed", "CRYPTO_INVALID_MAC");
  }

  /** Laravel: "Could not decrypt the data." (GCM tag mismatch, bad padding). */
  static cannotDecrypt(): CryptoError {
    return new CryptoError("could not decrypt the data: the payload was made with another key or was changed", "CRYPTO_DECRYPT_FAILED");
  }

  /** Laravel: "The payload is invalid." */
  static invalidPayload(why: string): CryptoError {
    return new CryptoError(`the payload is invalid: ${why}`, "CRYPTO_INVALID_PAYLOAD", "pass the whole base64 string that encrypt printed");
  }

  static unsupportedCipher(name: string): CryptoError {
    return new CryptoError(`unsupported cipher '${name}'`, "CRYPTO_UNSUPPORTED_CIPHER", `use one of ${CIPHER_NAMES.join(", ")} (crypto.cipher or SECURELY_CIPHER)`);
  }

  static wrongKeyLength(source: string, got: number, cipher: string, want: number): CryptoError {
    return new CryptoError(
      `the app key from ${source} is ${got} bytes but ${cipher} needs ${want}`,
      "CRYPTO_KEY_LENGTH",
      "generate a matching key with `securely key:generate --show`, or set crypto.cipher to the key's cipher",
    );
  }

  static invalidKey(source: string, why: string): CryptoError {
    return new CryptoError(`the app key from ${source} is invalid: ${why}`, "CRYPTO_INVALID_KEY", "keys look like base64:… (securely key:generate --show prints one)");
  }

  static unserialize(why: string): CryptoError {
    return new CryptoError(`cannot unserialize the decrypted value: ${why}`, "CRYPTO_UNSERIALIZE", "decrypt without --unserialize to see the raw value");
  }
}
