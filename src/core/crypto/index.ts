/**
 * @module core/crypto — Laravel-compatible encryption (payload format, ciphers, keys) on
 * node:crypto, and the keyring that finds the app key.
 */
export { CIPHERS, CIPHER_NAMES, DEFAULT_CIPHER, findCipher, type CipherName, type CipherSpec } from "./ciphers.ts";
export { Encrypter, type Decrypted, type EncrypterOptions } from "./encrypter.ts";
export { CryptoError } from "./errors.ts";
export { formatKey, generateKey, keyFingerprint, parseKey } from "./key.ts";
export { keyringEncrypter, loadKeyring, readKeyFile, requireKeyring, writeKeyFile, type Keyring, type KeyringOptions } from "./keyring.ts";
export { decodePayload, encodePayload, type Payload } from "./payload.ts";
export { phpSerialize, phpUnserialize, type PhpScalar } from "./php-serialize.ts";
