/**
 * Where the app key lives. The current key is `SECURELY_KEY` (Laravel's APP_KEY) or line 1 of the
 * key file; previous keys, newest first, are `SECURELY_PREVIOUS_KEYS` (comma-separated, Laravel's
 * APP_PREVIOUS_KEYS) and the key file's later lines. The key file is owner-only (0600) and kept
 * beside the store but never inside it: a stolen store file alone decrypts nothing.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { SecurelyError } from "../errors.ts";
import { Encrypter } from "./encrypter.ts";
import { CryptoError } from "./errors.ts";
import { findCipher } from "./ciphers.ts";
import { formatKey, parseKey } from "./key.ts";

export interface Keyring {
  current: Buffer;
  /** Tried in order after `current`; duplicates of `current` removed. */
  previous: Buffer[];
  /** "SECURELY_KEY" or the key file's path: where `current` came from (never the key). */
  source: string;
  fromEnv: boolean;
  keyFile: string;
}

export interface KeyringOptions {
  env: Record<string, string | undefined>;
  keyFile: string;
}

/** The keys in a key file, current first; undefined when the file does not exist. */
export function readKeyFile(path: string): Buffer[] | undefined {
  if (!existsSync(path)) return undefined;
  const mode = statSync(path).mode & 0o777;
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    // ssh refuses a private key others can read; so do we, rather than keep using a leaked key
    throw new SecurelyError(`key file ${path} is readable by other users (mode ${mode.toString(8).padStart(4, "0")})`, {
      code: "CRYPTO_KEY_FILE_MODE",
      hint: `run chmod 600 ${path}`,
    });
  }
  const lines = readFileSync(path, "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  return lines.map((l, i) => parseKey(l, i === 0 ? path : `${path} line ${i + 1}`));
}

/**
 * Replace the key file atomically: write a 0600 temp file, fsync, rename over. A crash leaves
 * either the old file or the new one, never half a key.
 */
export function writeKeyFile(path: string, keys: Buffer[]): void {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, keys.map(formatKey).join("\n") + "\n");
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** The keyring, or undefined when neither SECURELY_KEY nor the key file exists. */
export function loadKeyring(opts: KeyringOptions): Keyring | undefined {
  const fileKeys = readKeyFile(opts.keyFile) ?? [];
  const envKey = opts.env.SECURELY_KEY?.trim();
  const envPrevious = (opts.env.SECURELY_PREVIOUS_KEYS ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean)
    .map((k, i) => parseKey(k, `SECURELY_PREVIOUS_KEYS item ${i + 1}`));
  let current: Buffer;
  let rest: Buffer[];
  let source: string;
  if (envKey) {
    current = parseKey(envKey, "SECURELY_KEY");
    rest = [...envPrevious, ...fileKeys];
    source = "SECURELY_KEY";
  } else if (fileKeys.length > 0) {
    current = fileKeys[0]!;
    rest = [...envPrevious, ...fileKeys.slice(1)];
    source = opts.keyFile;
  } else return undefined;
  const seen = new Set([current.toString("hex")]);
  const previous = rest.filter((k) => !seen.has(k.toString("hex")) && seen.add(k.toString("hex")));
  return { current, previous, source, fromEnv: Boolean(envKey), keyFile: opts.keyFile };
}

/** The keyring or a one-line error saying how to create a key. */
export function requireKeyring(opts: KeyringOptions): Keyring {
  const ring = loadKeyring(opts);
  if (!ring) {
    throw new SecurelyError(`no app key: SECURELY_KEY is not set and ${opts.keyFile} does not exist`, {
      code: "CRYPTO_NO_KEY",
      hint: "run `securely key:generate` (or set SECURELY_KEY=base64:…)",
    });
  }
  return ring;
}

/** An Encrypter over the keyring for `cipher`. */
export function keyringEncrypter(ring: Keyring, cipher: string): Encrypter {
  if (!findCipher(cipher)) throw CryptoError.unsupportedCipher(cipher);
  // previous keys of another length belong to another cipher: skip them instead of failing
  const spec = findCipher(cipher)!;
  return new Encrypter({
    key: ring.current,
    cipher,
    previousKeys: ring.previous.filter((k) => k.length === spec.keyLength),
    keySource: ring.source,
  });
}
