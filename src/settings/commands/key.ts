/**
 * key:generate, key:rotate, key:prune, key:info — the app key's life cycle. The key itself is
 * printed only by `key:generate --show`; everything else names keys by fingerprint.
 */
import { existsSync } from "node:fs";
import { defineCommand } from "../../core/module.ts";
import { SecurelyError } from "../../core/errors.ts";
import { findCipher, formatKey, generateKey, keyFingerprint, readKeyFile, requireKeyring, writeKeyFile } from "../../core/crypto/index.ts";
import { cipherName, keyFilePath, keyringOf } from "../app-key.ts";
import { settingsRepository } from "../context.ts";
import { Secrets } from "../secrets.ts";
import { printValue } from "./shared.ts";

export const keyGenerate = defineCommand({
  name: "key:generate",
  description: "Create the app key file (0600, beside the store); --show prints a key instead of writing it",
  args: {
    show: { type: "boolean", description: "Print a new base64: key (for SECURELY_KEY or a Laravel APP_KEY) and write nothing" },
    force: { type: "boolean", description: "Replace an existing key file (secrets encrypted with the old key become unreadable)" },
  },
  run({ app, args }) {
    const cipher = cipherName(app);
    const key = generateKey(findCipher(cipher)!);
    if (args.show) return printValue(app, { value: formatKey(key), cipher });
    if (app.env.SECURELY_KEY) {
      throw new SecurelyError("SECURELY_KEY is set, so a key file would be ignored", { hint: "use key:generate --show and put the key where SECURELY_KEY is set" });
    }
    const path = keyFilePath(app);
    const existing = readKeyFile(path);
    if (existing && !args.force) {
      throw new SecurelyError(`an app key already exists in ${path}; replacing it would orphan every secret encrypted with it`, {
        code: "KEY_EXISTS",
        hint: "use key:rotate to replace it and re-encrypt the secrets, or --force to discard it",
      });
    }
    const secrets = existsSync(app.storePath) ? settingsRepository(app).secretCount() : 0;
    if (!existing && secrets > 0 && !args.force) {
      // the key file is gone but secrets exist: a new key would not make them readable
      throw new SecurelyError(`the store holds ${secrets} secret${secrets > 1 ? "s" : ""} but ${path} does not exist; a new key cannot decrypt them`, {
        code: "KEY_MISSING",
        hint: "restore the key file from a backup (or set SECURELY_KEY), or pass --force to start a new key anyway",
      });
    }
    writeKeyFile(path, [key]);
    if (secrets > 0) app.log.warn(`${secrets} secret${secrets > 1 ? "s were" : " was"} encrypted with another key and can no longer be read`);
    app.print({ key_file: path, fingerprint: keyFingerprint(key), cipher }, (r) => `app key written to ${r.key_file} (${r.cipher}, fingerprint ${r.fingerprint})`);
  },
});

export const keyRotate = defineCommand({
  name: "key:rotate",
  description: "New app key, every secret re-encrypted in one transaction, the old key kept as previous",
  args: {
    reencrypt: { type: "boolean", description: "Keep the current key and re-encrypt every secret under it (after you changed SECURELY_KEY yourself)" },
  },
  run({ app, args }) {
    const cipher = cipherName(app);
    const path = keyFilePath(app);
    const ring = requireKeyring({ env: app.env, keyFile: path });
    if (ring.fromEnv && !args.reencrypt) {
      throw new SecurelyError("the app key comes from SECURELY_KEY, which securely cannot change", {
        hint: "set SECURELY_KEY to a new key (key:generate --show) and SECURELY_PREVIOUS_KEYS to the old one, then run key:rotate --reencrypt",
      });
    }
    const spec = findCipher(cipher)!;
    const open = () => new Secrets(requireKeyring({ env: app.env, keyFile: path }), cipher);
    const changes = settingsRepository(app).reencrypt(open, (current) => {
      if (args.reencrypt) return current;
      // the key file is replaced inside the store's write lock, before any secret is rewritten: a
      // crash in between leaves secrets under the old key, which the new file keeps as previous
      writeKeyFile(path, [generateKey(spec), ...(readKeyFile(path) ?? [])]);
      return open();
    });
    const now = requireKeyring({ env: app.env, keyFile: path });
    app.print(
      { reencrypted: changes.length, fingerprint: keyFingerprint(now.current), previous_keys: now.previous.map(keyFingerprint), key_file: ring.fromEnv ? null : path },
      (r) => `${args.reencrypt ? "kept" : "new"} app key ${r.fingerprint}; ${r.reencrypted} secret${r.reencrypted === 1 ? "" : "s"} re-encrypted; previous keys: ${r.previous_keys.join(", ") || "none"}`,
    );
  },
});

export const keyPrune = defineCommand({
  name: "key:prune",
  description: "Drop previous keys from the key file once no secret needs them",
  run({ app }) {
    const cipher = cipherName(app);
    const path = keyFilePath(app);
    const ring = requireKeyring({ env: app.env, keyFile: path });
    const fileKeys = readKeyFile(path) ?? [];
    const needy = existsSync(app.storePath) ? settingsRepository(app).inspectSecrets(new Secrets(ring, cipher)).filter((s) => s.byPreviousKey || s.error) : [];
    if (needy.length > 0) {
      throw new SecurelyError(`${needy.length} secret(s) still need a previous key: ${needy.map((s) => s.key).join(", ")}`, { hint: "run key:rotate --reencrypt first" });
    }
    const dropped = ring.fromEnv ? fileKeys : fileKeys.slice(1);
    if (fileKeys.length > 0) writeKeyFile(path, ring.fromEnv ? [] : [fileKeys[0]!]);
    app.print({ dropped: dropped.map(keyFingerprint) }, (r) => (r.dropped.length ? `dropped previous keys ${r.dropped.join(", ")} from ${path}` : "no previous keys in the key file"));
  },
});

export const keyInfo = defineCommand({
  name: "key:info",
  description: "Where the app key comes from, its fingerprint, previous keys, and which secrets need them",
  run({ app }) {
    const cipher = cipherName(app);
    const path = keyFilePath(app);
    const ring = keyringOf(app);
    const secrets = ring && existsSync(app.storePath) ? settingsRepository(app).inspectSecrets(new Secrets(ring, cipher)) : [];
    const info = {
      source: ring?.source ?? null,
      key_file: path,
      cipher,
      fingerprint: ring ? keyFingerprint(ring.current) : null,
      previous_keys: ring?.previous.map(keyFingerprint) ?? [],
      secrets: secrets.length,
      secrets_under_previous_key: secrets.filter((s) => s.byPreviousKey).map((s) => s.key),
      secrets_undecryptable: secrets.filter((s) => s.error).map((s) => s.key),
    };
    app.print(info, (i) =>
      [
        i.source ? `app key: ${i.fingerprint} from ${i.source} (${i.cipher})` : `app key: none (run securely key:generate; key file would be ${i.key_file})`,
        `previous keys: ${i.previous_keys.join(", ") || "none"}`,
        `secrets: ${i.secrets}, under a previous key: ${i.secrets_under_previous_key.length}, undecryptable: ${i.secrets_undecryptable.length}`,
        ...(i.secrets_under_previous_key.length ? [`  run key:rotate --reencrypt for: ${i.secrets_under_previous_key.join(", ")}`] : []),
        ...(i.secrets_undecryptable.length ? [`  no known key decrypts: ${i.secrets_undecryptable.join(", ")}`] : []),
      ].join("\n"),
    );
  },
});
