/**
 * settings_values holds one row per (profile, key): plaintext, or a Laravel payload when secret.
 * settings_history records every change with hashes only — a keyed hash for secrets, so the
 * history reveals when a secret changed but nothing that helps guess it.
 */
import type { Migration } from "../core/store/migrations.ts";

export const settingsMigrations: Migration[] = [
  {
    namespace: "settings",
    version: 1,
    description: "settings values and history",
    up: `
      CREATE TABLE settings_values (
        env TEXT NOT NULL DEFAULT '',
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        secret INTEGER NOT NULL DEFAULT 0,
        hash TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        updated_by TEXT NOT NULL,
        PRIMARY KEY (env, key)
      ) WITHOUT ROWID;
      CREATE TABLE settings_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        env TEXT NOT NULL,
        key TEXT NOT NULL,
        action TEXT NOT NULL,
        secret INTEGER NOT NULL,
        old_hash TEXT,
        new_hash TEXT,
        changed_at INTEGER NOT NULL,
        changed_by TEXT NOT NULL
      );
      CREATE INDEX settings_history_key ON settings_history (key, id);
    `,
  },
];
