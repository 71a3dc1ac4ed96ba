/**
 * Where this installation's app key and cipher come from, resolved against the App. Works while
 * the config is still loading (config `${NAME}` → secret setting), through App.bootstrapValue.
 */
import { dirname, join } from "node:path";
import type { App } from "../core/app.ts";
import { DEFAULT_CIPHER, findCipher, loadKeyring, requireKeyring, CryptoError, type Keyring } from "../core/crypto/index.ts";
import { Secrets } from "./secrets.ts";

/** crypto.key_file, else securely.key beside the store. */
export function keyFilePath(app: App): string {
  const configured = app.env.SECURELY_CRYPTO__KEY_FILE ?? app.bootstrapValue<string>("crypto.key_file");
  if (configured) return app.resolvePath(configured);
  const store = app.storePath;
  return store === ":memory:" ? app.resolvePath(".securely/securely.key") : join(dirname(store), "securely.key");
}

/** SECURELY_CIPHER, else crypto.cipher, else AES-256-CBC (Laravel's app.cipher). */
export function cipherName(app: App): string {
  const name = app.env.SECURELY_CIPHER ?? app.bootstrapValue<string>("crypto.cipher") ?? DEFAULT_CIPHER;
  const spec = findCipher(name);
  if (!spec) throw CryptoError.unsupportedCipher(name);
  return spec.name;
}

export function keyringOf(app: App): Keyring | undefined {
  return loadKeyring({ env: app.env, keyFile: keyFilePath(app) });
}

/** The encrypter over the current keyring; throws "no app key …" when there is none. */
export function openSecrets(app: App): Secrets {
  return new Secrets(requireKeyring({ env: app.env, keyFile: keyFilePath(app) }), cipherName(app));
}
