import type { Migration } from "../core/store/migrations.ts";

/**
 * Issued certificates. `source` is "cli" (tls:cert, files at cert_path/key_path) or "auto"
 * (certificateFor: the proxy's cache, key kept here — the store is a 0600 file in a 0700 folder).
 * `ca_fingerprint` ties a row to the CA that signed it, so a new CA means new certificates.
 */
export const tlsMigrations: Migration[] = [
  {
    namespace: "tls",
    version: 1,
    description: "tls_certificates",
    up: `CREATE TABLE tls_certificates (
      id INTEGER PRIMARY KEY,
      source TEXT NOT NULL,
      hosts TEXT NOT NULL,
      hosts_key TEXT NOT NULL,
      serial TEXT NOT NULL UNIQUE,
      fingerprint TEXT NOT NULL,
      ca_fingerprint TEXT NOT NULL,
      key_type TEXT NOT NULL,
      not_before INTEGER NOT NULL,
      not_after INTEGER NOT NULL,
      cert_pem TEXT NOT NULL,
      key_pem TEXT,
      cert_path TEXT,
      key_path TEXT,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX tls_certificates_lookup ON tls_certificates (source, hosts_key, not_after);`,
  },
];
