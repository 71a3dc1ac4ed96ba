import { existsSync, rmSync } from "node:fs";
import { SecurelyError } from "../../core/errors.ts";
import { defineCommand } from "../../core/module.ts";
import { normalizeHost } from "../hosts.ts";
import { CertificateRepository } from "../repository.ts";

/**
 * There is no `tls:revoke`: nothing checks revocation for a local CA (no CRL or OCSP endpoint
 * that clients would consult), so removing the certificate and its key is the honest operation.
 */
export const tlsRemove = defineCommand({
  name: "tls:remove",
  description: "Forget issued certificates matching a serial (prefix) or host, deleting their files",
  args: {
    target: { type: "positional", description: "Serial number (at least 6 hex digits) or a host the certificate covers", required: true },
    "keep-files": { type: "boolean", description: "Keep the .pem files written by tls:cert" },
  },
  run({ app, args }) {
    const target = String(args.target).toLowerCase();
    const repo = new CertificateRepository(app.store());
    const bySerial = /^[0-9a-f]{6,}$/.test(target);
    const host = bySerial ? undefined : normalizeHost(target);
    const rows = repo.all().filter((r) => (bySerial && r.serial.startsWith(target)) || (host !== undefined && (JSON.parse(r.hosts) as string[]).includes(host)));
    if (rows.length === 0) {
      throw new SecurelyError(`no issued certificate matches '${args.target}'`, { code: "TLS_NOT_FOUND", hint: "see securely tls:list for serials and hosts" });
    }
    app.store().tx(() => repo.delete(rows.map((r) => r.id)));
    const files: string[] = [];
    if (!args["keep-files"]) {
      for (const p of rows.flatMap((r) => [r.cert_path, r.key_path])) {
        if (p && existsSync(p)) {
          rmSync(p);
          files.push(p);
        }
      }
    }
    const out = { removed: rows.map((r) => ({ serial: r.serial, hosts: JSON.parse(r.hosts) as string[] })), deleted_files: files };
    app.print(out, (o) =>
      [...o.removed.map((r: { serial: string; hosts: string[] }) => `removed ${r.serial} (${r.hosts.join(", ")})`), ...o.deleted_files.map((f: string) => `deleted ${f}`)].join("\n"),
    );
  },
});
