/**
 * Settings in the store. Every write is one BEGIN IMMEDIATE transaction, so concurrent writers
 * from several processes queue on SQLite's write lock and none is lost; the key is loaded inside
 * that transaction, so a concurrent key:rotate cannot slip between "read key" and "write secret".
 */
import type { Statement } from "bun:sqlite";
import { CryptoError } from "../core/crypto/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Store } from "../core/store/store.ts";
import { SettingsError } from "./errors.ts";
import { hashPlain, type Secrets } from "./secrets.ts";
import type { Change, HistoryEntry, Setting, SettingInput } from "./types.ts";

interface Row {
  env: string;
  key: string;
  value: string;
  secret: number;
  hash: string;
  updated_at: number;
  updated_by: string;
}

export interface RepositoryOptions {
  store: Store;
  /** Opens the keyring; called only when a secret is read or written. */
  secrets: () => Secrets;
  clock: Clock;
  /** Who is writing, for the history ("deploy", "root"). */
  actor: string;
}

/** Change-feed topic bumped by every write, for services that watch settings. */
export const SETTINGS_TOPIC = "settings";

export class SettingsRepository {
  private readonly store: Store;
  private readonly q: Record<"row" | "both" | "upsert" | "delete" | "history" | "historyOf" | "historyOfEnv" | "secretRows" | "update", Statement>;
  private secureDelete = false;

  constructor(private readonly opts: RepositoryOptions) {
    this.store = opts.store;
    const db = opts.store.db;
    this.q = {
      row: db.prepare("SELECT * FROM settings_values WHERE env = ?1 AND key = ?2"),
      both: db.prepare("SELECT * FROM settings_values WHERE env IN ('', ?1) ORDER BY key, env"),
      upsert: db.prepare(
        `INSERT INTO settings_values (env, key, value, secret, hash, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (env, key) DO UPDATE SET value = ?3, secret = ?4, hash = ?5, updated_at = ?6, updated_by = ?7`,
      ),
      update: db.prepare("UPDATE settings_values SET value = ?3, hash = ?4 WHERE env = ?1 AND key = ?2"),
      delete: db.prepare("DELETE FROM settings_values WHERE env = ?1 AND key = ?2"),
      history: db.prepare(
        "INSERT INTO settings_history (env, key, action, secret, old_hash, new_hash, changed_at, changed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
      ),
      historyOf: db.prepare("SELECT * FROM settings_history WHERE key = ?1 ORDER BY id"),
      historyOfEnv: db.prepare("SELECT * FROM settings_history WHERE key = ?1 AND env = ?2 ORDER BY id"),
      secretRows: db.prepare("SELECT * FROM settings_values WHERE secret = 1 ORDER BY env, key"),
    };
  }

  /** The value of `key` in profile `env`, falling back to the base profile. */
  get(key: string, env: string, decrypt = true): Setting | undefined {
    const row = (env ? (this.q.row.get(env, key) as Row | null) : null) ?? (this.q.row.get("", key) as Row | null);
    if (!row) return undefined;
    return this.toSetting(row, decrypt ? this.opts.secrets : undefined);
  }

  /**
   * Every setting visible in profile `env` (its own keys over the base profile's), sorted by key,
   * optionally under a prefix: `mail` selects `mail` and `mail.*`; a prefix with `*` is a glob.
   */
  all(env: string, opts: { prefix?: string; decrypt?: boolean } = {}): Setting[] {
    const merged = new Map<string, Row>();
    for (const row of this.q.both.all(env) as Row[]) {
      // ORDER BY key, env puts the base row ('') first; the profile's row replaces it
      merged.set(row.key, row);
    }
    const match = prefixMatcher(opts.prefix);
    let secrets: Secrets | undefined;
    const lazy = () => (secrets ??= this.opts.secrets());
    return [...merged.values()].filter((r) => match(r.key)).map((r) => this.toSetting(r, opts.decrypt ? lazy : undefined));
  }

  /** Write several settings atomically; returns only the keys whose value or secrecy changed. */
  set(inputs: SettingInput[], env: string): Change[] {
    const byKey = new Map(inputs.map((i) => [i.key, i]));
    const now = this.opts.clock.now();
    return this.write(() => {
      let secrets: Secrets | undefined;
      const sec = () => (secrets ??= this.opts.secrets());
      const changes: Change[] = [];
      for (const input of byKey.values()) {
        const old = this.q.row.get(env, input.key) as Row | null;
        const secret = input.secret ?? Boolean(old?.secret);
        const hash = secret ? sec().hashSecret(input.value) : hashPlain(input.value);
        if (old && Boolean(old.secret) === secret && old.hash === hash) continue;
        const stored = secret ? sec().encrypt(input.value) : input.value;
        this.q.upsert.run(env, input.key, stored, secret ? 1 : 0, hash, now, this.opts.actor);
        const change: Change = { key: input.key, env, action: "set", secret, old_hash: old?.hash ?? null, new_hash: hash };
        this.q.history.run(env, input.key, "set", secret ? 1 : 0, change.old_hash, hash, now, this.opts.actor);
        changes.push(change);
      }
      return changes;
    });
  }

  /** Remove keys from profile `env` atomically; every key must exist there. */
  unset(keys: string[], env: string): Change[] {
    const now = this.opts.clock.now();
    return this.write(() => {
      const rows = [...new Set(keys)].map((k) => [k, this.q.row.get(env, k) as Row | null] as const);
      const missing = rows.filter(([, r]) => !r).map(([k]) => k);
      if (missing.length > 0) throw SettingsError.notSet(missing, env ? ` in environment '${env}'` : "");
      return rows.map(([key, row]) => {
        this.q.delete.run(env, key);
        this.q.history.run(env, key, "unset", row!.secret, row!.hash, null, now, this.opts.actor);
        return { key, env, action: "unset", secret: Boolean(row!.secret), old_hash: row!.hash, new_hash: null } satisfies Change;
      });
    });
  }

  history(key: string, env?: string): HistoryEntry[] {
    const rows = (env === undefined ? this.q.historyOf.all(key) : this.q.historyOfEnv.all(key, env)) as Array<Omit<HistoryEntry, "secret"> & { secret: number }>;
    return rows.map((r) => ({ ...r, secret: Boolean(r.secret) }));
  }

  /** How many secrets the store holds, in every profile (no key needed). */
  secretCount(): number {
    return (this.store.db.query("SELECT COUNT(*) AS n FROM settings_values WHERE secret = 1").get() as { n: number }).n;
  }

  /** Every secret in every profile, decrypted or failed, for key:info and key:rotate. */
  inspectSecrets(secrets: Secrets): Array<{ key: string; env: string; value?: string; byPreviousKey?: boolean; error?: string }> {
    return (this.q.secretRows.all() as Row[]).map((r) => {
      try {
        return { key: r.key, env: r.env, ...secrets.decrypt(r.value) };
      } catch (err) {
        return { key: r.key, env: r.env, error: (err as Error).message };
      }
    });
  }

  /**
   * Re-encrypt every secret in one transaction. The keys are read inside it (under the write
   * lock, so two rotations serialize); all secrets are decrypted with `from()` first, and if any
   * fails nothing changes. Then `to(current)` gives the new encrypter (key:rotate writes the new
   * key file there) and every secret is rewritten under it.
   */
  reencrypt(from: () => Secrets, to: (current: Secrets) => Secrets): Change[] {
    const now = this.opts.clock.now();
    return this.write(() => {
      const current = from();
      const all = this.inspectSecrets(current);
      const bad = all.filter((s) => s.error);
      if (bad.length > 0) {
        throw new SettingsError(
          `${bad.length} secret${bad.length > 1 ? "s" : ""} cannot be decrypted with any known key: ${bad.map((b) => (b.env ? `${b.key} (${b.env})` : b.key)).join(", ")}; nothing was changed`,
          "SETTINGS_UNDECRYPTABLE",
          "add their old key to SECURELY_PREVIOUS_KEYS, or unset them",
        );
      }
      const next = to(current);
      return all.map((s) => {
        const hash = next.hashSecret(s.value!);
        const old = (this.q.row.get(s.env, s.key) as Row).hash;
        this.q.update.run(s.env, s.key, next.encrypt(s.value!), hash);
        this.q.history.run(s.env, s.key, "reencrypt", 1, old, hash, now, this.opts.actor);
        return { key: s.key, env: s.env, action: "reencrypt", secret: true, old_hash: old, new_hash: hash } satisfies Change;
      });
    });
  }

  private write<T extends Change[]>(fn: () => T): T {
    if (!this.secureDelete) {
      // overwritten and deleted values are zeroed on disk instead of lingering in free pages
      this.store.db.exec("PRAGMA secure_delete = ON");
      this.secureDelete = true;
    }
    return this.store.tx(() => {
      const changes = fn();
      if (changes.length > 0) this.store.changes.bump(SETTINGS_TOPIC);
      return changes;
    });
  }

  private toSetting(row: Row, secrets: (() => Secrets) | undefined): Setting {
    let value: string | undefined = row.value;
    if (row.secret) {
      value = undefined;
      if (secrets) {
        try {
          value = secrets().decrypt(row.value).value;
        } catch (err) {
          if (!(err instanceof CryptoError)) throw err;
          throw SettingsError.undecryptable(row.key, row.env, err.message);
        }
      }
    }
    return { key: row.key, value, secret: Boolean(row.secret), env: row.env, updated_at: row.updated_at, updated_by: row.updated_by };
  }
}

function prefixMatcher(prefix: string | undefined): (key: string) => boolean {
  if (!prefix) return () => true;
  if (prefix.includes("*")) {
    const re = new RegExp("^" + prefix.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$");
    return (k) => re.test(k);
  }
  const p = prefix.endsWith(".") ? prefix.slice(0, -1) : prefix;
  return (k) => k === p || k.startsWith(p + ".");
}
