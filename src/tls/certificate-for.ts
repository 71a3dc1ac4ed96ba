/**
 * The API the proxy uses for `tls: auto`: a certificate for a set of hosts, issued by the local CA
 * on first use, cached in the store, and replaced when it nears expiry or the CA changes.
 */
import type { App } from "../core/app.ts";
import { tlsOptions } from "./config.ts";
import { hostsKey, normalizeHosts } from "./hosts.ts";
import { issueLeaf } from "./issue.ts";
import { ensureLocalCa } from "./local-ca.ts";
import { CertificateRepository, type CertificateRow } from "./repository.ts";
import type { CertificateBundle, KeyType } from "./types.ts";

const DAY = 86_400_000;

export interface CertificateForOptions {
  /** Validity of a newly issued certificate, in days (default: `tls.days`). */
  days?: number;
  /** Key type of a newly issued certificate (default: `tls.key_type`). */
  keyType?: KeyType;
}

/**
 * A certificate (with key and CA) covering exactly `hosts` — DNS names, wildcards (`*.app.test`)
 * and IP addresses, in any order. Reuses the cached one unless it is within
 * `tls.renew_before_days` (or a third of its lifetime) of expiry or was signed by another CA.
 * Throws TlsError for an invalid host or a broken CA. `app` identifies the config and store.
 */
export async function certificateFor(app: App, hosts: string[], opts: CertificateForOptions = {}): Promise<CertificateBundle> {
  const normalized = normalizeHosts(hosts);
  const key = hostsKey(normalized);
  const o = tlsOptions(app);
  const { ca } = ensureLocalCa(app, o);
  const store = app.store();
  const repo = new CertificateRepository(store);
  const caFp = ca.info.fingerprint;
  const row = store.tx(() => {
    const now = app.clock.now();
    const fresh = repo.autoFor(key, caFp).find((r) => renewAt(r, o.renew_before_days) > now && r.key_pem);
    if (fresh) return fresh;
    const issued = issueLeaf(ca, normalized, { days: opts.days ?? o.days, keyType: opts.keyType ?? o.key_type, now });
    const id = repo.insert({ source: "auto", hosts: normalized, hostsKey: key, caFingerprint: caFp, issued, keyPem: issued.keyPem, certPath: null, keyPath: null, now });
    repo.pruneAuto(key, id);
    app.log.debug(`issued certificate ${issued.serial} for ${normalized.join(", ")}`);
    return repo.autoFor(key, caFp).find((r) => r.id === id)!;
  });
  return {
    cert: row.cert_pem,
    key: row.key_pem!,
    ca: ca.certPem,
    hosts: JSON.parse(row.hosts) as string[],
    serial: row.serial,
    notAfter: new Date(row.not_after),
    renewAt: new Date(renewAt(row, o.renew_before_days)),
  };
}

/** When a cached certificate stops being handed out: renew_before_days before expiry, or at two thirds of its life if sooner. */
function renewAt(r: CertificateRow, renewBeforeDays: number): number {
  const margin = Math.min(renewBeforeDays * DAY, (r.not_after - r.not_before) / 3);
  return r.not_after - margin;
}
