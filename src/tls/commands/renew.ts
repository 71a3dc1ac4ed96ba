import { UsageError } from "../../core/errors.ts";
import { defineCommand } from "../../core/module.ts";
import { tlsOptions } from "../config.ts";
import { issueLeaf } from "../issue.ts";
import { ensureLocalCa } from "../local-ca.ts";
import { CertificateRepository } from "../repository.ts";
import { KEY_TYPES, type KeyType } from "../types.ts";
import { writeCertificateFiles } from "../write-files.ts";

const DAY = 86_400_000;

/** Valet's `renew`: reissue tls:cert certificates in place, same hosts, same files. */
export const tlsRenew = defineCommand({
  name: "tls:renew",
  description: "Reissue tls:cert certificates that expire within --within days (or --all) into the same files",
  args: {
    all: { type: "boolean", description: "Renew every tls:cert certificate, not only expiring ones" },
    within: { type: "string", description: "Days before expiry that count as expiring (default 30)" },
    days: { type: "string", description: "Validity of the new certificates (default: tls.days)" },
  },
  run({ app, args }) {
    const o = tlsOptions(app);
    const within = args.within === undefined ? 30 : Number(args.within);
    if (!Number.isInteger(within) || within < 0) throw new UsageError(`--within must be a whole number of days, got '${args.within}'`);
    const days = args.days === undefined ? o.days : Number(args.days);
    if (!Number.isInteger(days) || days < 1 || days > 825) throw new UsageError(`--days must be a whole number from 1 to 825, got '${args.days}'`);
    const now = app.clock.now();
    const store = app.store();
    const repo = new CertificateRepository(store);
    const { ca } = ensureLocalCa(app, o);
    // a certificate from an older CA is due whatever its expiry: clients trusting the new CA reject it
    const selected = repo
      .all()
      .filter((r) => r.source === "cli" && r.cert_path && r.key_path)
      .filter((r) => args.all || r.not_after - now < within * DAY || r.ca_fingerprint !== ca.info.fingerprint);
    const renewed = selected.map((r) => {
      const hosts = JSON.parse(r.hosts) as string[];
      const keyType = (KEY_TYPES.includes(r.key_type as KeyType) ? r.key_type : o.key_type) as KeyType;
      const issued = issueLeaf(ca, hosts, { days, keyType, now });
      writeCertificateFiles(r.cert_path!, r.key_path!, issued.certPem, issued.keyPem);
      store.tx(() => {
        repo.delete([r.id]);
        repo.insert({ source: "cli", hosts, hostsKey: r.hosts_key, caFingerprint: ca.info.fingerprint, issued, keyPem: null, certPath: r.cert_path, keyPath: r.key_path, now });
      });
      return { hosts, cert_path: r.cert_path, serial: issued.serial, not_after: issued.notAfter.toISOString() };
    });
    app.print({ renewed }, (o2) =>
      o2.renewed.length === 0
        ? `nothing to renew (no tls:cert certificate expires within ${within} days)`
        : o2.renewed.map((r: (typeof renewed)[number]) => `renewed ${r.hosts.join(", ")} until ${r.not_after} → ${r.cert_path}`).join("\n"),
    );
  },
});
