/** tls_certificates rows: what tls:cert wrote and what certificateFor cached. */
import type { Store } from "../core/store/store.ts";
import type { Issued } from "./issue.ts";
import type { IssuedRecord } from "./types.ts";

export interface CertificateRow {
  id: number;
  source: string;
  hosts: string;
  hosts_key: string;
  serial: string;
  fingerprint: string;
  ca_fingerprint: string;
  key_type: string;
  not_before: number;
  not_after: number;
  cert_pem: string;
  key_pem: string | null;
  cert_path: string | null;
  key_path: string | null;
  created_at: number;
}

export interface NewRow {
  source: "cli" | "auto";
  hosts: string[];
  hostsKey: string;
  caFingerprint: string;
  issued: Issued;
  /** Kept only for "auto" rows: the proxy reloads it from here after a restart. */
  keyPem: string | null;
  certPath: string | null;
  keyPath: string | null;
  now: number;
}

export class CertificateRepository {
  constructor(private readonly store: Store) {}

  insert(r: NewRow): number {
    const res = this.store.db
      .query(
        `INSERT INTO tls_certificates (source, hosts, hosts_key, serial, fingerprint, ca_fingerprint, key_type, not_before, not_after, cert_pem, key_pem, cert_path, key_path, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)`,
      )
      .run(
        r.source,
        JSON.stringify(r.hosts),
        r.hostsKey,
        r.issued.serial,
        r.issued.fingerprint,
        r.caFingerprint,
        r.issued.keyType,
        r.issued.notBefore.getTime(),
        r.issued.notAfter.getTime(),
        r.issued.certPem,
        r.keyPem,
        r.certPath,
        r.keyPath,
        r.now,
      );
    return Number(res.lastInsertRowid);
  }

  /** Cached "auto" certificates for exactly these hosts from this CA, newest first. */
  autoFor(hostsKey: string, caFingerprint: string): CertificateRow[] {
    return this.store.db
      .query(`SELECT * FROM tls_certificates WHERE source = 'auto' AND hosts_key = ?1 AND ca_fingerprint = ?2 ORDER BY not_after DESC`)
      .all(hostsKey, caFingerprint) as CertificateRow[];
  }

  all(): CertificateRow[] {
    return this.store.db.query(`SELECT * FROM tls_certificates ORDER BY id`).all() as CertificateRow[];
  }

  delete(ids: number[]): void {
    const q = this.store.db.query(`DELETE FROM tls_certificates WHERE id = ?1`);
    for (const id of ids) q.run(id);
  }

  /** Drop superseded "auto" rows for a host set, keeping `keepId`. */
  pruneAuto(hostsKey: string, keepId: number): void {
    this.store.db.query(`DELETE FROM tls_certificates WHERE source = 'auto' AND hosts_key = ?1 AND id <> ?2`).run(hostsKey, keepId);
  }
}

/** The printable form of a row: never the key. */
export function toRecord(r: CertificateRow): IssuedRecord {
  return {
    id: r.id,
    hosts: JSON.parse(r.hosts) as string[],
    serial: r.serial,
    fingerprint: r.fingerprint,
    key_type: r.key_type,
    not_before: new Date(r.not_before).toISOString(),
    not_after: new Date(r.not_after).toISOString(),
    source: r.source,
    cert_path: r.cert_path,
    key_path: r.key_path,
  };
}
