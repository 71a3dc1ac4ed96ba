import { join, resolve } from "node:path";
import { UsageError } from "../../core/errors.ts";
import { defineCommand } from "../../core/module.ts";
import { tlsOptions } from "../config.ts";
import { fileSafe, hostsKey, isSecondLevelWildcard, normalizeHosts } from "../hosts.ts";
import { issueLeaf } from "../issue.ts";
import { ensureLocalCa } from "../local-ca.ts";
import { CertificateRepository } from "../repository.ts";
import { writeCertificateFiles } from "../write-files.ts";
import { KEY_TYPES, type KeyType } from "../types.ts";

export const tlsCert = defineCommand({
  name: "tls:cert",
  variadic: true,
  description: "Issue a certificate for HOST… (DNS names, *.wildcards, IPs) signed by the local CA",
  args: {
    host: { type: "positional", description: "Host names, wildcards (*.app.test) or IP addresses; the first one names the files", required: true },
    out: { type: "string", description: "Folder for the .pem files (default: certs/ in the tls folder)" },
    days: { type: "string", description: "Validity in days (default: tls.days, at most 825)" },
    "key-type": { type: "string", description: `Key type: ${KEY_TYPES.join(", ")} (default: tls.key_type)` },
    client: { type: "boolean", description: "Also usable as a TLS client certificate (mTLS): adds clientAuth to extended key usage" },
  },
  run({ app, args }) {
    const o = tlsOptions(app);
    // validate everything before touching the disk: bad input creates no CA and no files
    const hosts = normalizeHosts((args._ as string[]).map(String));
    const days = args.days === undefined ? o.days : Number(args.days);
    if (!Number.isInteger(days) || days < 1 || days > 825) throw new UsageError(`--days must be a whole number from 1 to 825, got '${args.days}'`);
    const keyType = (args["key-type"] ?? o.key_type) as KeyType;
    if (!KEY_TYPES.includes(keyType)) throw new UsageError(`--key-type must be one of ${KEY_TYPES.join(", ")}, got '${keyType}'`);
    for (const h of hosts.filter(isSecondLevelWildcard)) {
      app.log.warn(`${h}: browsers and OpenSSL do not match a wildcard directly under a top-level name; list the hosts, or use *.app.test`);
    }

    const { ca, created } = ensureLocalCa(app, o);
    const now = app.clock.now();
    const issued = issueLeaf(ca, hosts, { days, keyType, now, client: Boolean(args.client) });
    const outDir = resolve(app.cwd, args.out ?? join(o.dir, "certs"));
    const base = fileSafe(hosts[0]!) + (hosts.length > 1 ? `+${hosts.length - 1}` : "");
    const certPath = join(outDir, `${base}.pem`);
    const keyPath = join(outDir, `${base}-key.pem`);
    writeCertificateFiles(certPath, keyPath, issued.certPem, issued.keyPem);

    const store = app.store();
    const repo = new CertificateRepository(store);
    store.tx(() => {
      // a certificate written over an older one's files replaces its row
      repo.delete(repo.all().filter((r) => r.cert_path === certPath || r.key_path === keyPath).map((r) => r.id));
      repo.insert({ source: "cli", hosts, hostsKey: hostsKey(hosts), caFingerprint: ca.info.fingerprint, issued, keyPem: null, certPath, keyPath, now });
    });
    const out = {
      hosts,
      cert_path: certPath,
      key_path: keyPath,
      ca_path: ca.certPath,
      ca_created: created,
      serial: issued.serial,
      fingerprint: issued.fingerprint,
      key_type: keyType,
      client: Boolean(args.client),
      not_after: issued.notAfter.toISOString(),
    };
    app.print(out, (r) =>
      [
        `certificate for ${r.hosts.join(", ")} (valid until ${r.not_after})`,
        `  certificate: ${r.cert_path}`,
        `  private key: ${r.key_path}`,
        `  CA:          ${r.ca_path}`,
        r.ca_created ? `created local CA ${r.ca_path} — trust it once with: securely tls:trust` : "",
      ]
        .filter(Boolean)
        .join("\n"),
    );
  },
});
